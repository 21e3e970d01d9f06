//! Where Hearth keeps what people tell it.
//!
//! One [`Store`] trait, scoped by owner on every call, with one module per backend and each backend's
//! migrations compiled into the binary. SQLite is the default (a file in the user's data directory);
//! a PostgreSQL backend for shared servers implements the same trait, so callers never change.

mod sqlite;

use async_trait::async_trait;
use hearth_core::{Conversation, Message, Role};

pub use sqlite::SqliteStore;

/// Storage failures, classified so the HTTP layer can answer 404 or 500 without reading text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The object does not exist, or belongs to someone else (the two are indistinguishable on
    /// purpose).
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("could not open the database at {path}")]
    Open {
        path: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("a stored row is corrupt: {0}")]
    Corrupt(String),
}

/// Everything Hearth stores. Every method takes the owner and only ever touches that owner's rows.
#[async_trait]
pub trait Store: Send + Sync {
    async fn create_conversation(
        &self,
        owner: &str,
        title: &str,
    ) -> Result<Conversation, StoreError>;

    async fn conversation(&self, owner: &str, id: &str) -> Result<Conversation, StoreError>;

    /// The owner's conversations, most recently active first.
    async fn conversations(&self, owner: &str, limit: u32)
    -> Result<Vec<Conversation>, StoreError>;

    async fn delete_conversation(&self, owner: &str, id: &str) -> Result<(), StoreError>;

    /// Appends a message at the end of a conversation and marks the conversation active.
    async fn append_message(
        &self,
        owner: &str,
        conversation_id: &str,
        role: Role,
        content: &str,
        meta: &serde_json::Value,
    ) -> Result<Message, StoreError>;

    /// A conversation's messages, oldest first.
    async fn messages(
        &self,
        owner: &str,
        conversation_id: &str,
    ) -> Result<Vec<Message>, StoreError>;
}

/// A new time-ordered id (UUID v7), so ids sort by creation.
fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
