//! One interface for streaming chat completion, and the backends behind it.
//!
//! The coach never knows which model answers: the embedded llama.cpp engine on this machine, any
//! OpenAI-compatible server, or a scripted model in tests. Each backend turns a list of messages into
//! a stream of text pieces that ends with a [`Usage`] record (token counts and timings). Dropping the
//! stream cancels generation.

mod embedded;
mod openai;
mod scripted;

use std::pin::Pin;
use std::time::Duration;

use futures::{Stream, StreamExt};
use hearth_core::ChatMessage;
use serde::{Deserialize, Serialize};

pub use embedded::{Embedded, EmbeddedConfig};
pub use openai::{OpenAi, OpenAiConfig};
pub use scripted::Scripted;

/// How to pick the next token. The defaults suit small instruction models: greedy decoding loops on
/// them, so a little temperature plus a repetition penalty keeps replies fluent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SamplingParams {
    pub temperature: f32,
    pub top_p: f32,
    pub top_k: i32,
    /// 1.0 disables the penalty.
    pub repeat_penalty: f32,
    /// How many recent tokens the repetition penalty looks at.
    pub repeat_last_n: i32,
    pub max_tokens: u32,
    pub seed: u32,
}

impl Default for SamplingParams {
    fn default() -> Self {
        Self {
            temperature: 0.7,
            top_p: 0.9,
            top_k: 40,
            repeat_penalty: 1.1,
            repeat_last_n: 128,
            max_tokens: 320,
            seed: 42,
        }
    }
}

/// A request for one assistant reply.
#[derive(Clone, Debug, PartialEq)]
pub struct ChatRequest {
    pub messages: Vec<ChatMessage>,
    pub sampling: SamplingParams,
}

impl ChatRequest {
    pub fn new(messages: Vec<ChatMessage>) -> Self {
        Self { messages, sampling: SamplingParams::default() }
    }
}

/// Why generation stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model ended its turn.
    Stop,
    /// `max_tokens` was reached.
    Length,
}

/// What one reply cost, reported at the end of every stream.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u32,
    /// Prompt tokens whose KV-cache entries were reused from the previous request (embedded only).
    pub cached_tokens: u32,
    pub completion_tokens: u32,
    /// Time spent reading the prompt (embedded only; remote servers do not report it).
    pub prompt_ms: u64,
    pub first_token_ms: u64,
    pub total_ms: u64,
    pub finish_reason: Option<FinishReason>,
}

/// One item of a reply stream.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamEvent {
    /// A piece of the reply's text (whole UTF-8 characters).
    Text(String),
    /// The reply is complete; always the last event of a successful stream.
    Done(Usage),
}

/// A reply being generated. Dropping it cancels the generation.
pub type ReplyStream = Pin<Box<dyn Stream<Item = Result<StreamEvent, LlmError>> + Send>>;

/// Errors from a model backend. Messages are written for the person running Hearth; they never
/// contain API keys.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LlmError {
    #[error("could not load the model from {path}: {reason}")]
    Load { path: String, reason: String },
    #[error("the prompt is too long for the model's context ({tokens} tokens, room for {limit})")]
    ContextOverflow { tokens: usize, limit: usize },
    #[error("the model runtime failed: {0}")]
    Runtime(String),
    #[error("the model server at {url} could not be reached: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the model server answered with HTTP {status}: {body}")]
    Http { status: u16, body: String },
    #[error("the model server sent something that is not a chat completion: {0}")]
    Protocol(String),
    #[error("the model server reported an error mid-stream: {0}")]
    Remote(String),
    #[error("no reply from the model server within {0:?}")]
    Timeout(Duration),
    #[error("the model engine has stopped")]
    EngineGone,
    #[error("scripted failure: {0}")]
    Scripted(String),
}

/// A chat model: messages in, a stream of text out.
#[async_trait::async_trait]
pub trait ChatModel: Send + Sync {
    /// The model's name as shown to people and in `hearth ask --json`.
    fn name(&self) -> &str;

    /// Starts generating a reply. Errors that happen before the first token (an unreachable server,
    /// an over-long prompt) come back here; later ones arrive as stream items.
    async fn stream(&self, request: ChatRequest) -> Result<ReplyStream, LlmError>;

    /// Reads a prompt prefix that every request will start with (the system prompt) ahead of time,
    /// so the first reply does not pay for it. Backends without a local cache do nothing.
    async fn prepare(&self, _prefix: Vec<ChatMessage>) -> Result<(), LlmError> {
        Ok(())
    }
}

/// A whole reply, collected from a stream.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Completion {
    pub text: String,
    pub usage: Usage,
}

/// Runs a request to completion. Handy for tests, benchmarks and non-streaming callers.
pub async fn complete(model: &dyn ChatModel, request: ChatRequest) -> Result<Completion, LlmError> {
    let mut stream = model.stream(request).await?;
    let mut completion = Completion::default();
    while let Some(event) = stream.next().await {
        match event? {
            StreamEvent::Text(piece) => completion.text.push_str(&piece),
            StreamEvent::Done(usage) => {
                completion.usage = usage;
                return Ok(completion);
            }
        }
    }
    Err(LlmError::Protocol("the reply stream ended without a final event".into()))
}

/// Milliseconds as an integer, saturating; timings are reported in whole milliseconds.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
