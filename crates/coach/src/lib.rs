//! The coach: runs one coaching turn from a person's message to a stored, checked reply.
//!
//! ```text
//! message -> triage -> persist -> understand -> retrieve -> plan -> generate -> check -> persist
//! ```
//! Safety triage runs first and is never skipped: every interface (CLI, HTTP) goes through
//! [`Coach::turn`]. The person's message is stored before any model is called, so a failing model
//! can never lose it. An urgent message is answered with fixed, reviewed text and the model is not
//! asked at all.

pub mod check;
pub mod plan;
pub mod understand;

use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use futures::{Stream, StreamExt};
use hearth_core::{Role, title_from};
use hearth_knowledge::{Card, Knowledge};
use hearth_llm::{ChatModel, ChatRequest, LlmError, SamplingParams, StreamEvent};
use hearth_safety::{Category, Level, Triage};
use hearth_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

use crate::check::{ReplyCheck, Verdict};
use crate::plan::{ReplyPlan, build_prompt};
use crate::understand::understand;

/// How the coach behaves; part of Hearth's configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CoachConfig {
    /// Locale for crisis and abuse resources (`us`, `gb`, `ie`, `ca`, `au`, `nz`, `in`, `de`, …).
    pub locale: String,
    /// The longest message accepted, in characters.
    pub max_message_chars: usize,
    /// How much earlier conversation (in characters) goes into the prompt.
    pub history_chars: usize,
    /// How many cards are cited per reply.
    pub cards_per_reply: usize,
    pub sampling: SamplingParams,
}

impl Default for CoachConfig {
    fn default() -> Self {
        Self {
            locale: "us".into(),
            max_message_chars: 8_000,
            history_chars: 6_000,
            cards_per_reply: 2,
            sampling: SamplingParams { max_tokens: 300, ..SamplingParams::default() },
        }
    }
}

/// A turn that could not be taken. Each has a stable machine code for APIs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoachError {
    #[error("the message is empty")]
    EmptyMessage,
    #[error("the message is too long ({chars} characters; the limit is {max})")]
    TooLong { chars: usize, max: usize },
    #[error("conversation not found")]
    ConversationNotFound,
    #[error("storage failed")]
    Store(#[source] StoreError),
    #[error("the language model failed; your message was saved")]
    Model(#[source] LlmError),
}

impl CoachError {
    /// A stable identifier for clients and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            CoachError::EmptyMessage => "empty_message",
            CoachError::TooLong { .. } => "message_too_long",
            CoachError::ConversationNotFound => "not_found",
            CoachError::Store(_) => "storage_error",
            CoachError::Model(_) => "model_error",
        }
    }
}

impl From<StoreError> for CoachError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(_) => CoachError::ConversationNotFound,
            other => CoachError::Store(other),
        }
    }
}

/// One message from a person.
#[derive(Clone, Debug, PartialEq)]
pub struct TurnRequest {
    pub owner: String,
    /// Continue this conversation, or start a new one.
    pub conversation_id: Option<String>,
    pub text: String,
}

/// The safety result as callers see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SafetySummary {
    pub level: Level,
    pub categories: Vec<Category>,
}

impl From<&Triage> for SafetySummary {
    fn from(triage: &Triage) -> Self {
        Self { level: triage.level, categories: triage.categories.clone() }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CitationRef {
    pub id: String,
    pub title: String,
    pub source: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExerciseRef {
    pub id: String,
    pub title: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    pub triage_ms: f64,
    pub retrieval_ms: f64,
    /// From the start of the turn to the model's first token (`null` when no model was asked).
    pub first_token_ms: Option<u64>,
    pub total_ms: u64,
    /// Tokens the model generated.
    pub tokens: u32,
}

/// Everything known about a finished turn; `hearth ask --json` prints it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TurnOutcome {
    pub conversation_id: String,
    /// The stored reply's id.
    pub message_id: String,
    pub reply: String,
    pub safety: SafetySummary,
    pub topics: Vec<String>,
    pub citations: Vec<CitationRef>,
    pub suggested_exercise: Option<ExerciseRef>,
    pub model: String,
    pub timings: Timings,
}

/// What a turn streams.
#[derive(Clone, Debug, PartialEq)]
pub enum TurnEvent {
    /// The message was triaged and stored.
    Started { conversation_id: String, message_id: String, safety: SafetySummary },
    /// Checked reply text to show.
    Text(String),
    /// Everything shown so far must be replaced by this text (the model's reply failed a check).
    Replace(String),
    /// The turn is complete and stored.
    Done(Box<TurnOutcome>),
}

pub type TurnStream = Pin<Box<dyn Stream<Item = Result<TurnEvent, CoachError>> + Send>>;

/// The coaching service.
pub struct Coach {
    store: Arc<dyn Store>,
    model: Arc<dyn ChatModel>,
    knowledge: &'static Knowledge,
    config: CoachConfig,
}

impl std::fmt::Debug for Coach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coach")
            .field("model", &self.model.name())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// How many earlier user messages the triage looks back over.
const TRIAGE_MEMORY: usize = 6;

impl Coach {
    pub fn new(store: Arc<dyn Store>, model: Arc<dyn ChatModel>, config: CoachConfig) -> Self {
        Self { store, model, knowledge: Knowledge::builtin(), config }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn model_name(&self) -> &str {
        self.model.name()
    }

    pub fn config(&self) -> &CoachConfig {
        &self.config
    }

    /// Reads the fixed system prompt into the model's cache ahead of the first turn.
    pub async fn prepare(&self) -> Result<(), CoachError> {
        // Build the triage rules and the card index now rather than on the first message.
        let _ = hearth_safety::triage("");
        let _ = self.knowledge.search("warm up", 1);
        let prefix = vec![hearth_core::ChatMessage::system(plan::SYSTEM_PROMPT)];
        self.model.prepare(prefix).await.map_err(CoachError::Model)
    }

    /// Takes one turn. Input errors and storage failures before the message is stored come back
    /// here; once the stream starts, the person's message is already stored.
    pub async fn turn(&self, request: TurnRequest) -> Result<TurnStream, CoachError> {
        let started = Instant::now();
        let text = request.text.trim().to_string();
        if text.is_empty() {
            return Err(CoachError::EmptyMessage);
        }
        let chars = text.chars().count();
        if chars > self.config.max_message_chars {
            return Err(CoachError::TooLong { chars, max: self.config.max_message_chars });
        }
        let owner = request.owner;
        let conversation = match &request.conversation_id {
            Some(id) => self.store.conversation(&owner, id).await?,
            None => self.store.create_conversation(&owner, &title_from(&text)).await?,
        };
        let history = self.store.messages(&owner, &conversation.id).await?;

        // Triage, in the context of what this person said earlier in the conversation.
        let triage_started = Instant::now();
        let earlier: Vec<&str> = history
            .iter()
            .filter(|m| m.role == Role::User)
            .map(|m| m.content.as_str())
            .rev()
            .take(TRIAGE_MEMORY)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let triage = hearth_safety::triage_in_context(&earlier, &text);
        let triage_ms = ms_f64(triage_started);
        let safety = SafetySummary::from(&triage);

        // Stored before anything else can fail.
        let user_message = self
            .store
            .append_message(
                &owner,
                &conversation.id,
                Role::User,
                &text,
                &serde_json::json!({ "safety": &triage }),
            )
            .await?;

        // Understand and retrieve.
        let retrieval_started = Instant::now();
        let topics = hearth_knowledge::detect_topics(&text);
        let understanding = understand(&text, topics.clone());
        let cards = self.retrieve(&text, &topics, &triage);
        let retrieval_ms = ms_f64(retrieval_started);

        let citations: Vec<CitationRef> = cards.iter().map(|card| cite(card)).collect();
        let suggested_exercise = cards.iter().find_map(|card| {
            card.exercise
                .as_ref()
                .map(|id| ExerciseRef { id: id.clone(), title: exercise_title(id) })
        });
        let plan = ReplyPlan::new(&understanding, &triage, &cards);
        let prompt = build_prompt(&history, &text, &plan, self.config.history_chars);
        let fallback = plan.fallback_reply();

        let outcome = TurnOutcome {
            conversation_id: conversation.id.clone(),
            message_id: user_message.id.clone(),
            reply: String::new(),
            safety: safety.clone(),
            topics,
            citations,
            suggested_exercise,
            model: self.model.name().to_string(),
            timings: Timings { triage_ms, retrieval_ms, ..Timings::default() },
        };
        let start_event = TurnEvent::Started {
            conversation_id: conversation.id.clone(),
            message_id: user_message.id.clone(),
            safety,
        };

        let store = Arc::clone(&self.store);
        if triage.level == Level::Urgent {
            // Fixed, reviewed text; no model involved, so no model failure can swallow it.
            let reply = hearth_safety::resources::urgent_response(&self.config.locale, &triage);
            let stream = async_stream::try_stream! {
                yield start_event;
                yield TurnEvent::Text(reply.clone());
                let outcome = finish(store.as_ref(), &owner, outcome, reply, started, None, 0).await?;
                yield TurnEvent::Done(Box::new(outcome));
            };
            return Ok(Box::pin(stream));
        }

        let model = Arc::clone(&self.model);
        let mut request = ChatRequest::new(prompt);
        request.sampling = self.config.sampling.clone();
        let stream = async_stream::try_stream! {
            yield start_event;
            let mut replies = model.stream(request).await.map_err(CoachError::Model)?;
            let mut check = ReplyCheck::new(&triage);
            let mut first_token_ms = None;
            let mut tokens = 0;
            let mut replaced = None;
            while let Some(event) = replies.next().await {
                match event.map_err(CoachError::Model)? {
                    StreamEvent::Text(piece) => {
                        first_token_ms.get_or_insert_with(|| ms_u64(started));
                        match check.push(&piece) {
                            Verdict::Release(text) if text.is_empty() => {}
                            Verdict::Release(text) => yield TurnEvent::Text(text),
                            Verdict::Loop => break,
                            Verdict::Unsafe(reasons) => {
                                tracing::warn!(?reasons, "model reply failed the output check");
                                replaced = Some(fallback.clone());
                                break;
                            }
                        }
                    }
                    StreamEvent::Done(usage) => {
                        tokens = usage.completion_tokens;
                        break;
                    }
                }
            }
            drop(replies);
            if replaced.is_none() {
                match check.finish() {
                    Verdict::Release(text) if !text.is_empty() => yield TurnEvent::Text(text),
                    Verdict::Unsafe(reasons) => {
                        tracing::warn!(?reasons, "model reply failed the output check");
                        replaced = Some(fallback.clone());
                    }
                    _ => {}
                }
            }
            if replaced.is_none() && check.released().trim().is_empty() {
                replaced = Some(fallback.clone());
            }
            let reply = match replaced {
                Some(text) => {
                    yield TurnEvent::Replace(text.clone());
                    text
                }
                None => check.released().trim().to_string(),
            };
            let outcome = finish(store.as_ref(), &owner, outcome, reply, started, first_token_ms, tokens).await?;
            yield TurnEvent::Done(Box::new(outcome));
        };
        Ok(Box::pin(stream))
    }

    /// Runs a whole turn and returns its outcome (for `hearth ask` and scripts).
    pub async fn ask(&self, request: TurnRequest) -> Result<TurnOutcome, CoachError> {
        let mut stream = self.turn(request).await?;
        while let Some(event) = stream.next().await {
            if let TurnEvent::Done(outcome) = event? {
                return Ok(*outcome);
            }
        }
        Err(CoachError::Model(LlmError::Protocol("the turn ended without an outcome".into())))
    }

    /// Cards for this message. An unsafe situation always brings the safety card first.
    fn retrieve(&self, text: &str, topics: &[String], triage: &Triage) -> Vec<&'static Card> {
        let k = self.config.cards_per_reply.max(1);
        let mut cards: Vec<&'static Card> = Vec::with_capacity(k);
        if triage.categories.contains(&Category::Abuse) {
            cards.extend(self.knowledge.card(UNSAFE_CARD));
        }
        for hit in self.knowledge.search_with_topics(text, topics, k + 1) {
            if cards.len() >= k {
                break;
            }
            if !cards.iter().any(|c| c.id == hit.card.id) {
                cards.push(hit.card);
            }
        }
        cards
    }
}

/// The card about relationships that are not safe.
const UNSAFE_CARD: &str = "unsafe-relationship-signs";

/// A readable name for an exercise id (`chore-audit` → "Chore audit") until the exercise library
/// (with its own titles) exists.
fn exercise_title(id: &str) -> String {
    let words = id.replace('-', " ");
    let mut chars = words.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}

fn cite(card: &Card) -> CitationRef {
    CitationRef {
        id: card.id.clone(),
        title: card.title.clone(),
        source: card.citations.iter().map(|c| c.source()).collect::<Vec<_>>().join("; "),
    }
}

/// Stores the reply and completes the outcome.
async fn finish(
    store: &dyn Store,
    owner: &str,
    mut outcome: TurnOutcome,
    reply: String,
    started: Instant,
    first_token_ms: Option<u64>,
    tokens: u32,
) -> Result<TurnOutcome, CoachError> {
    outcome.reply = reply;
    outcome.timings.first_token_ms = first_token_ms;
    outcome.timings.tokens = tokens;
    outcome.timings.total_ms = ms_u64(started);
    let meta = serde_json::json!({
        "safety": &outcome.safety,
        "topics": &outcome.topics,
        "citations": &outcome.citations,
        "suggested_exercise": &outcome.suggested_exercise,
        "model": &outcome.model,
        "timings": &outcome.timings,
    });
    let stored = store
        .append_message(owner, &outcome.conversation_id, Role::Assistant, &outcome.reply, &meta)
        .await?;
    outcome.message_id = stored.id;
    Ok(outcome)
}

fn ms_f64(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

fn ms_u64(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}
