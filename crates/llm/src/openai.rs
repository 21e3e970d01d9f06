//! The OpenAI-compatible backend: any server that speaks `/v1/chat/completions` with streaming
//! (Ollama, vLLM, llama-server, hosted APIs).
//!
//! Server-sent events are parsed by `eventsource-stream`; each `data:` line is one JSON chunk, and
//! `data: [DONE]` ends the stream. Errors are told apart by kind: the server cannot be reached, it
//! answered with an HTTP error, it sent something that is not a chat completion, it reported an
//! error in the middle of a stream, or it went quiet for longer than the idle timeout.

use std::time::{Duration, Instant};

use eventsource_stream::Eventsource;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::json;

use crate::{
    ChatModel, ChatRequest, FinishReason, LlmError, ReplyStream, StreamEvent, Usage, millis,
};

/// Where the server is and how to talk to it.
#[derive(Clone, PartialEq)]
pub struct OpenAiConfig {
    /// Base URL including the API version, e.g. `http://localhost:11434/v1`.
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
    pub connect_timeout: Duration,
    /// The longest silence allowed between two pieces of a streamed reply.
    pub idle_timeout: Duration,
}

// The API key must never reach logs.
impl std::fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("connect_timeout", &self.connect_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .finish()
    }
}

impl OpenAiConfig {
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            connect_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(120),
        }
    }
}

/// A client for one model on one OpenAI-compatible server.
#[derive(Debug)]
pub struct OpenAi {
    config: OpenAiConfig,
    endpoint: String,
    client: reqwest::Client,
}

impl OpenAi {
    pub fn new(config: OpenAiConfig) -> Result<Self, LlmError> {
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.idle_timeout)
            .build()
            .map_err(|err| LlmError::Runtime(format!("HTTP client: {err}")))?;
        let endpoint = format!("{}/chat/completions", config.base_url.trim_end_matches('/'));
        Ok(Self { config, endpoint, client })
    }

    fn unreachable(&self, err: &reqwest::Error) -> LlmError {
        if err.is_timeout() {
            return LlmError::Timeout(self.config.idle_timeout);
        }
        // The error's own text may include the URL; the reason is built from its kind and source.
        let reason = std::error::Error::source(err)
            .map_or_else(|| "connection failed".to_string(), |source| source.to_string());
        LlmError::Unreachable { url: self.config.base_url.clone(), reason }
    }
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Delta,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Default, Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
}

/// Takes the human message out of an OpenAI-style error object (`{"message": …}`) or a bare string.
fn error_text(error: &serde_json::Value) -> String {
    error
        .get("message")
        .and_then(|m| m.as_str())
        .or_else(|| error.as_str())
        .map_or_else(|| error.to_string(), str::to_string)
}

/// Bodies of HTTP errors are shown to the operator; keep them short.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{cut}…")
}

/// Turns one SSE `data` payload into stream events, updating the running usage.
fn parse_chunk(data: &str, usage: &mut Usage) -> Result<Vec<StreamEvent>, LlmError> {
    let chunk: Chunk = serde_json::from_str(data)
        .map_err(|err| LlmError::Protocol(format!("{err} in {}", truncate(data, 120))))?;
    if let Some(error) = chunk.error {
        return Err(LlmError::Remote(error_text(&error)));
    }
    if let Some(wire) = chunk.usage {
        usage.prompt_tokens = wire.prompt_tokens;
        usage.completion_tokens = wire.completion_tokens;
    }
    let mut events = Vec::new();
    for choice in chunk.choices {
        if let Some(text) = choice.delta.content.filter(|t| !t.is_empty()) {
            events.push(StreamEvent::Text(text));
        }
        match choice.finish_reason.as_deref() {
            Some("length") => usage.finish_reason = Some(FinishReason::Length),
            Some(_) => usage.finish_reason = Some(FinishReason::Stop),
            None => {}
        }
    }
    Ok(events)
}

#[async_trait::async_trait]
impl ChatModel for OpenAi {
    fn name(&self) -> &str {
        &self.config.model
    }

    async fn stream(&self, request: ChatRequest) -> Result<ReplyStream, LlmError> {
        let started = Instant::now();
        let messages: Vec<_> = request
            .messages
            .iter()
            .map(|m| {
                let role = m.role.as_str();
                json!({ "role": role, "content": m.content })
            })
            .collect();
        let body = json!({
            "model": self.config.model,
            "messages": messages,
            "stream": true,
            "stream_options": { "include_usage": true },
            "temperature": request.sampling.temperature,
            "top_p": request.sampling.top_p,
            "max_tokens": request.sampling.max_tokens,
            "seed": request.sampling.seed,
        });
        let mut call = self.client.post(&self.endpoint).json(&body);
        if let Some(key) = &self.config.api_key {
            call = call.bearer_auth(key);
        }
        let response = call.send().await.map_err(|err| self.unreachable(&err))?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            let body = serde_json::from_str::<Chunk>(&text)
                .ok()
                .and_then(|c| c.error)
                .map_or_else(|| truncate(text.trim(), 300), |e| error_text(&e));
            return Err(LlmError::Http { status: status.as_u16(), body });
        }

        let idle = self.config.idle_timeout;
        let base_url = self.config.base_url.clone();
        let mut events = response.bytes_stream().eventsource();
        let stream = async_stream::try_stream! {
            let mut usage = Usage::default();
            let mut first = true;
            loop {
                let Some(event) = events.next().await else {
                    Err(LlmError::Protocol("the stream ended before [DONE]".into()))?;
                    break;
                };
                let event = event.map_err(|err| match err {
                    eventsource_stream::EventStreamError::Transport(e) if e.is_timeout() => {
                        LlmError::Timeout(idle)
                    }
                    eventsource_stream::EventStreamError::Transport(e) => LlmError::Unreachable {
                        url: base_url.clone(),
                        reason: format!("connection lost mid-reply: {}", std::error::Error::source(&e).map_or_else(|| "closed".to_string(), |s| s.to_string())),
                    },
                    other => LlmError::Protocol(other.to_string()),
                })?;
                if event.event == "error" {
                    Err(LlmError::Remote(event.data.clone()))?;
                }
                let data = event.data.trim();
                if data.is_empty() {
                    continue;
                }
                if data == "[DONE]" {
                    usage.total_ms = millis(started.elapsed());
                    usage.finish_reason.get_or_insert(FinishReason::Stop);
                    yield StreamEvent::Done(usage.clone());
                    break;
                }
                for piece in parse_chunk(data, &mut usage)? {
                    if first {
                        usage.first_token_ms = millis(started.elapsed());
                        first = false;
                    }
                    yield piece;
                }
            }
        };
        Ok(Box::pin(stream))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_become_text_and_usage() {
        let mut usage = Usage::default();
        let events = parse_chunk(
            r#"{"choices":[{"delta":{"content":"Hi"},"finish_reason":null}]}"#,
            &mut usage,
        );
        assert_eq!(events.ok(), Some(vec![StreamEvent::Text("Hi".into())]));
        let events = parse_chunk(
            r#"{"choices":[{"delta":{},"finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":7}}"#,
            &mut usage,
        );
        assert_eq!(events.ok(), Some(vec![]));
        assert_eq!(usage.prompt_tokens, 5);
        assert_eq!(usage.completion_tokens, 7);
        assert_eq!(usage.finish_reason, Some(FinishReason::Length));
    }

    #[test]
    fn errors_and_garbage_are_told_apart() {
        let mut usage = Usage::default();
        let remote = parse_chunk(r#"{"error":{"message":"overloaded"}}"#, &mut usage);
        assert!(matches!(remote, Err(LlmError::Remote(m)) if m == "overloaded"));
        assert!(matches!(parse_chunk("not json", &mut usage), Err(LlmError::Protocol(_))));
    }

    #[test]
    fn debug_hides_the_api_key() {
        let mut config = OpenAiConfig::new("http://x/v1", "m");
        config.api_key = Some("sk-secret".into());
        assert!(!format!("{config:?}").contains("sk-secret"));
    }
}
