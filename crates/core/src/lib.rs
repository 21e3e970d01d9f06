//! Hearth's domain types: who is talking, conversations and their messages.
//!
//! Pure data with no I/O, shared by every other crate so the store, the coach, the model backends and
//! the HTTP layer all speak the same words.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The owner every record belongs to when Hearth serves one local person without accounts.
pub const LOCAL_USER: &str = "local";

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }

    /// Parses the stored form; unknown text is `None` so a corrupt row is reported, not guessed.
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "system" => Some(Role::System),
            "user" => Some(Role::User),
            "assistant" => Some(Role::Assistant),
            _ => None,
        }
    }
}

/// One message as a language model sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        Self { role: Role::System, content: content.into() }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self { role: Role::User, content: content.into() }
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Self { role: Role::Assistant, content: content.into() }
    }
}

/// A conversation between one person and the coach.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: String,
    pub owner: String,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A stored message. `meta` carries what the coach learned about it (triage, topics, citations,
/// timings) as JSON so new fields never need a migration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: String,
    pub conversation_id: String,
    pub role: Role,
    pub content: String,
    pub meta: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl Message {
    pub fn to_chat(&self) -> ChatMessage {
        ChatMessage { role: self.role, content: self.content.clone() }
    }
}

/// A short title for a conversation, taken from its first message.
pub fn title_from(text: &str) -> String {
    const MAX_CHARS: usize = 60;
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= MAX_CHARS {
        return flat;
    }
    let cut: String = flat.chars().take(MAX_CHARS).collect();
    match cut.rfind(' ') {
        Some(space) if space > MAX_CHARS / 2 => format!("{}…", &cut[..space]),
        _ => format!("{cut}…"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_round_trips() {
        for role in [Role::System, Role::User, Role::Assistant] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("tool"), None);
    }

    #[test]
    fn titles_are_short_and_cut_at_words() {
        assert_eq!(title_from("  We keep\nfighting  "), "We keep fighting");
        let long = "My partner and I keep fighting about chores and I feel unheard. What can I do about it?";
        let title = title_from(long);
        assert!(title.ends_with('…'));
        assert!(title.chars().count() <= 61);
        assert!(!title.contains("  "));
    }
}
