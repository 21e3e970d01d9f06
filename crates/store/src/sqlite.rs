//! The SQLite backend: one file in the user's data directory, WAL mode, migrations run at open.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use hearth_core::{Conversation, Message, Role};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow};
use sqlx::{Row, SqlitePool};

use crate::{Store, StoreError, new_id};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// A SQLite database file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let open_error = |source| StoreError::Open { path: path.display().to_string(), source };
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(open_error)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        Self::connect(options, 4).await.map_err(|err| match err {
            StoreError::Database(source) => open_error(source),
            other => other,
        })
    }

    /// A private in-memory database (one connection, so every query sees the same data).
    pub async fn in_memory() -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
        Self::connect(options, 1).await
    }

    async fn connect(options: SqliteConnectOptions, connections: u32) -> Result<Self, StoreError> {
        let pool =
            SqlitePoolOptions::new().max_connections(connections).connect_with(options).await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }
}

fn now_text() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|err| StoreError::Corrupt(format!("timestamp {text:?}: {err}")))
}

fn conversation_from(row: &SqliteRow) -> Result<Conversation, StoreError> {
    Ok(Conversation {
        id: row.try_get("id")?,
        owner: row.try_get("owner")?,
        title: row.try_get("title")?,
        created_at: parse_time(row.try_get("created_at")?)?,
        updated_at: parse_time(row.try_get("updated_at")?)?,
    })
}

fn message_from(row: &SqliteRow) -> Result<Message, StoreError> {
    let role: &str = row.try_get("role")?;
    let meta: &str = row.try_get("meta")?;
    Ok(Message {
        id: row.try_get("id")?,
        conversation_id: row.try_get("conversation_id")?,
        role: Role::parse(role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        content: row.try_get("content")?,
        meta: serde_json::from_str(meta)
            .map_err(|err| StoreError::Corrupt(format!("message meta: {err}")))?,
        created_at: parse_time(row.try_get("created_at")?)?,
    })
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_conversation(
        &self,
        owner: &str,
        title: &str,
    ) -> Result<Conversation, StoreError> {
        let id = new_id();
        let now = now_text();
        sqlx::query(
            "INSERT INTO conversations (id, owner, title, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(owner)
        .bind(title)
        .bind(&now)
        .bind(&now)
        .execute(&self.pool)
        .await?;
        self.conversation(owner, &id).await
    }

    async fn conversation(&self, owner: &str, id: &str) -> Result<Conversation, StoreError> {
        let row = sqlx::query("SELECT * FROM conversations WHERE id = ? AND owner = ?")
            .bind(id)
            .bind(owner)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("conversation"))?;
        conversation_from(&row)
    }

    async fn conversations(
        &self,
        owner: &str,
        limit: u32,
    ) -> Result<Vec<Conversation>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM conversations WHERE owner = ? ORDER BY updated_at DESC, id DESC LIMIT ?",
        )
        .bind(owner)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(conversation_from).collect()
    }

    async fn delete_conversation(&self, owner: &str, id: &str) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM conversations WHERE id = ? AND owner = ?")
            .bind(id)
            .bind(owner)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("conversation"));
        }
        Ok(())
    }

    async fn append_message(
        &self,
        owner: &str,
        conversation_id: &str,
        role: Role,
        content: &str,
        meta: &serde_json::Value,
    ) -> Result<Message, StoreError> {
        let id = new_id();
        let now = now_text();
        let mut tx = self.pool.begin().await?;
        // The owner check and the next sequence number come from the same statement, so a message
        // can never land in someone else's conversation or take a taken position.
        let inserted = sqlx::query(
            "INSERT INTO messages (id, conversation_id, seq, role, content, meta, created_at) \
             SELECT ?, c.id, \
                    COALESCE((SELECT MAX(seq) FROM messages WHERE conversation_id = c.id), 0) + 1, \
                    ?, ?, ?, ? \
             FROM conversations c WHERE c.id = ? AND c.owner = ?",
        )
        .bind(&id)
        .bind(role.as_str())
        .bind(content)
        .bind(meta.to_string())
        .bind(&now)
        .bind(conversation_id)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::NotFound("conversation"));
        }
        sqlx::query("UPDATE conversations SET updated_at = ? WHERE id = ?")
            .bind(&now)
            .bind(conversation_id)
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query("SELECT * FROM messages WHERE id = ?")
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        message_from(&row)
    }

    async fn messages(
        &self,
        owner: &str,
        conversation_id: &str,
    ) -> Result<Vec<Message>, StoreError> {
        // Distinguish "no messages yet" from "not yours".
        self.conversation(owner, conversation_id).await?;
        let rows = sqlx::query("SELECT * FROM messages WHERE conversation_id = ? ORDER BY seq")
            .bind(conversation_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(message_from).collect()
    }
}
