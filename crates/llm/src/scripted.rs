//! The scripted backend: deterministic replies for tests and offline demos of the plumbing.
//!
//! It is a real [`ChatModel`]: it streams word by word, reports usage, and can be told to fail before
//! the first token or in the middle of a reply, so the coach's error paths are tested without a model.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use futures::stream;
use hearth_core::Role;

use crate::{
    ChatModel, ChatRequest, FinishReason, LlmError, ReplyStream, StreamEvent, Usage, millis,
};

/// What the scripted model does on a given call.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Reply(String),
    FailBeforeStart(String),
    FailAfterWords { words: usize, reason: String },
}

/// Replies from a script, in order; the last step repeats once the script runs out. With an empty
/// script it echoes the last user message, which keeps plumbing tests readable.
#[derive(Debug, Default)]
pub struct Scripted {
    steps: Mutex<Vec<Step>>,
    calls: AtomicUsize,
    /// Every request it received, so tests can inspect the prompt the coach built.
    requests: Mutex<Vec<ChatRequest>>,
}

impl Scripted {
    pub fn new<I, S>(replies: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let steps = replies.into_iter().map(|r| Step::Reply(r.into())).collect();
        Self { steps: Mutex::new(steps), ..Self::default() }
    }

    /// A model that echoes the last user message.
    pub fn echo() -> Self {
        Self::default()
    }

    /// Adds a call that fails before any text is produced.
    pub fn then_fail(self, reason: impl Into<String>) -> Self {
        self.push(Step::FailBeforeStart(reason.into()))
    }

    /// Adds a call that streams `words` words and then fails.
    pub fn then_fail_after(self, words: usize, reason: impl Into<String>) -> Self {
        self.push(Step::FailAfterWords { words, reason: reason.into() })
    }

    /// Adds a call that replies with `text`.
    pub fn then_reply(self, text: impl Into<String>) -> Self {
        self.push(Step::Reply(text.into()))
    }

    fn push(self, step: Step) -> Self {
        self.steps.lock().unwrap_or_else(|e| e.into_inner()).push(step);
        self
    }

    /// How many requests have been made.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<ChatRequest> {
        self.requests.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn step_for(&self, call: usize, request: &ChatRequest) -> Step {
        let steps = self.steps.lock().unwrap_or_else(|e| e.into_inner());
        match steps.get(call).or_else(|| steps.last()) {
            Some(step) => step.clone(),
            None => {
                let last_user = request
                    .messages
                    .iter()
                    .rev()
                    .find(|m| m.role == Role::User)
                    .map_or("", |m| m.content.as_str());
                Step::Reply(format!("You said: {last_user}"))
            }
        }
    }
}

#[async_trait::async_trait]
impl ChatModel for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }

    async fn stream(&self, request: ChatRequest) -> Result<ReplyStream, LlmError> {
        let started = Instant::now();
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        let step = self.step_for(call, &request);
        let prompt_tokens: usize =
            request.messages.iter().map(|m| m.content.split_whitespace().count()).sum();
        let max_words = request.sampling.max_tokens as usize;
        self.requests.lock().unwrap_or_else(|e| e.into_inner()).push(request);

        let (text, failure) = match step {
            Step::FailBeforeStart(reason) => return Err(LlmError::Scripted(reason)),
            Step::Reply(text) => (text, None),
            Step::FailAfterWords { words, reason } => ("lorem ipsum ".repeat(words), Some(reason)),
        };
        let pieces = split_keeping_spaces(&text);
        let truncated = pieces.len() > max_words;
        let mut events: Vec<Result<StreamEvent, LlmError>> =
            pieces.into_iter().take(max_words).map(|piece| Ok(StreamEvent::Text(piece))).collect();
        let completion_tokens = u32::try_from(events.len()).unwrap_or(u32::MAX);
        match failure {
            Some(reason) => events.push(Err(LlmError::Scripted(reason))),
            None => events.push(Ok(StreamEvent::Done(Usage {
                prompt_tokens: u32::try_from(prompt_tokens).unwrap_or(u32::MAX),
                completion_tokens,
                total_ms: millis(started.elapsed()),
                finish_reason: Some(if truncated {
                    FinishReason::Length
                } else {
                    FinishReason::Stop
                }),
                ..Usage::default()
            }))),
        }
        Ok(Box::pin(stream::iter(events)))
    }
}

/// Splits text into words, each carrying the whitespace before it, so joining the pieces gives the
/// text back exactly.
fn split_keeping_spaces(text: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    for ch in text.chars() {
        if ch.is_whitespace() && in_word {
            pieces.push(std::mem::take(&mut current));
            in_word = false;
        } else if !ch.is_whitespace() {
            in_word = true;
        }
        current.push(ch);
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::complete;
    use hearth_core::ChatMessage;

    #[tokio::test]
    async fn replies_in_order_then_repeats_the_last() {
        let model = Scripted::new(["one two", "three"]);
        let ask = || ChatRequest::new(vec![ChatMessage::user("hi")]);
        assert_eq!(complete(&model, ask()).await.map(|c| c.text).ok(), Some("one two".into()));
        assert_eq!(complete(&model, ask()).await.map(|c| c.text).ok(), Some("three".into()));
        assert_eq!(complete(&model, ask()).await.map(|c| c.text).ok(), Some("three".into()));
        assert_eq!(model.calls(), 3);
    }

    #[tokio::test]
    async fn echo_and_failures() {
        let model = Scripted::echo();
        let reply =
            complete(&model, ChatRequest::new(vec![ChatMessage::user("hello there")])).await;
        assert_eq!(reply.map(|c| c.text).ok(), Some("You said: hello there".into()));

        let failing = Scripted::default().then_fail_after(3, "boom");
        let result = complete(&failing, ChatRequest::new(vec![ChatMessage::user("x")])).await;
        assert!(matches!(result, Err(LlmError::Scripted(reason)) if reason == "boom"));
    }

    #[test]
    fn pieces_join_back_to_the_text() {
        let text = "  Hello,  world\nagain ";
        assert_eq!(split_keeping_spaces(text).concat(), text);
    }
}
