//! The storage contract, run against every backend (SQLite on disk and in memory here).

use hearth_core::Role;
use hearth_store::{SqliteStore, Store, StoreError};
use serde_json::json;

async fn contract(store: &dyn Store) {
    let a = store.create_conversation("alice", "Chores").await.expect("create");
    assert_eq!(a.owner, "alice");
    assert_eq!(a.title, "Chores");

    let first = store
        .append_message("alice", &a.id, Role::User, "We fight about chores", &json!({"k": 1}))
        .await
        .expect("append user");
    let second = store
        .append_message("alice", &a.id, Role::Assistant, "That sounds tiring.", &json!({}))
        .await
        .expect("append assistant");
    assert_ne!(first.id, second.id);

    let messages = store.messages("alice", &a.id).await.expect("messages");
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].content, "We fight about chores");
    assert_eq!(messages[0].meta, json!({"k": 1}));
    assert_eq!(messages[1].role, Role::Assistant);

    // Another person sees nothing and can change nothing.
    assert!(matches!(store.conversation("bob", &a.id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.messages("bob", &a.id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(
        store.append_message("bob", &a.id, Role::User, "hi", &json!({})).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(store.delete_conversation("bob", &a.id).await, Err(StoreError::NotFound(_))));
    assert!(store.conversations("bob", 10).await.expect("list").is_empty());

    // Most recently active first.
    let b = store.create_conversation("alice", "Dating").await.expect("create b");
    store.append_message("alice", &a.id, Role::User, "again", &json!({})).await.expect("append");
    let listed = store.conversations("alice", 10).await.expect("list");
    assert_eq!(listed.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), [&a.id, &b.id]);

    store.delete_conversation("alice", &a.id).await.expect("delete");
    assert!(matches!(store.messages("alice", &a.id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(
        store.conversation("alice", "no-such-id").await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn sqlite_in_memory_meets_the_contract() {
    let store = SqliteStore::in_memory().await.expect("open");
    contract(&store).await;
}

#[tokio::test]
async fn sqlite_file_meets_the_contract_and_survives_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hearth.db");
    let store = SqliteStore::open(&path).await.expect("open");
    contract(&store).await;
    let kept = store.create_conversation("alice", "Kept").await.expect("create");
    store
        .append_message("alice", &kept.id, Role::User, "remember me", &json!({}))
        .await
        .expect("append");
    drop(store);

    let reopened = SqliteStore::open(&path).await.expect("reopen");
    let messages = reopened.messages("alice", &kept.id).await.expect("messages");
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].content, "remember me");
}

#[tokio::test]
async fn unwritable_path_is_a_clear_open_error() {
    let result = SqliteStore::open(std::path::Path::new("/proc/no/such/dir/hearth.db")).await;
    assert!(matches!(result, Err(StoreError::Open { .. })), "{result:?}");
}
