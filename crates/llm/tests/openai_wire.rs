//! The OpenAI-compatible backend against a local fake server that speaks the real wire format:
//! server-sent events of `chat.completion.chunk` objects ending with `data: [DONE]`.

use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use futures::StreamExt;
use hearth_core::ChatMessage;
use hearth_llm::{
    ChatModel, ChatRequest, FinishReason, LlmError, OpenAi, OpenAiConfig, StreamEvent, complete,
};

fn chunk(content: &str) -> String {
    let body = serde_json::json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "fake",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}],
    });
    format!("data: {body}\n\n")
}

const FINAL: &str = concat!(
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15}}\n\n",
    "data: [DONE]\n\n",
);

fn sse(body: String) -> impl IntoResponse {
    ([("content-type", "text/event-stream")], body)
}

/// Starts a fake server; returns its base URL (with `/v1`).
async fn fake(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{address}/v1")
}

fn client(base_url: String) -> OpenAi {
    let mut config = OpenAiConfig::new(base_url, "fake-model");
    config.api_key = Some("sk-test".into());
    config.idle_timeout = Duration::from_secs(2);
    OpenAi::new(config).expect("client")
}

fn hello() -> ChatRequest {
    ChatRequest::new(vec![ChatMessage::system("be kind"), ChatMessage::user("hello")])
}

#[tokio::test]
async fn streams_text_and_usage() {
    let app = Router::new().route(
        "/v1/chat/completions",
        post(|headers: axum::http::HeaderMap, body: String| async move {
            // The request is the real wire format, with the key as a bearer token.
            assert_eq!(
                headers.get("authorization").and_then(|v| v.to_str().ok()),
                Some("Bearer sk-test")
            );
            let request: serde_json::Value = serde_json::from_str(&body).expect("json body");
            assert_eq!(request["stream"], true);
            assert_eq!(request["model"], "fake-model");
            assert_eq!(request["messages"][1]["role"], "user");
            sse(format!("{}{}{}{FINAL}", chunk("Hel"), chunk("lo "), chunk("there")))
        }),
    );
    let model = client(fake(app).await);
    let done = complete(&model, hello()).await.expect("completion");
    assert_eq!(done.text, "Hello there");
    assert_eq!(done.usage.prompt_tokens, 12);
    assert_eq!(done.usage.completion_tokens, 3);
    assert_eq!(done.usage.finish_reason, Some(FinishReason::Stop));
}

#[tokio::test]
async fn an_error_mid_stream_arrives_after_the_text() {
    let app = Router::new().route(
        "/v1/chat/completions",
        post(|| async {
            sse(format!(
                "{}data: {{\"error\":{{\"message\":\"model overloaded\"}}}}\n\n",
                chunk("Partial ")
            ))
        }),
    );
    let model = client(fake(app).await);
    let mut stream = model.stream(hello()).await.expect("stream starts");
    assert_eq!(
        stream.next().await.and_then(Result::ok),
        Some(StreamEvent::Text("Partial ".into()))
    );
    match stream.next().await {
        Some(Err(LlmError::Remote(message))) => assert_eq!(message, "model overloaded"),
        other => panic!("expected a remote error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_stream_cut_before_done_is_an_error() {
    let app = Router::new().route("/v1/chat/completions", post(|| async { sse(chunk("cut")) }));
    let model = client(fake(app).await);
    let result = complete(&model, hello()).await;
    assert!(matches!(result, Err(LlmError::Protocol(_))), "{result:?}");
}

#[tokio::test]
async fn http_errors_and_garbage_are_clear() {
    let app = Router::new()
        .route(
            "/v1/chat/completions",
            post(|| async {
                (StatusCode::NOT_FOUND, r#"{"error":{"message":"model 'fake-model' not found"}}"#)
            }),
        )
        .route(
            "/garbage/chat/completions",
            post(|| async { sse("data: <html>oops</html>\n\n".into()) }),
        );
    let base = fake(app).await;
    let result = complete(&client(base.clone()), hello()).await;
    match result {
        Err(LlmError::Http { status: 404, body }) => assert!(body.contains("not found")),
        other => panic!("expected HTTP 404, got {other:?}"),
    }
    let garbage = complete(&client(base.replace("/v1", "/garbage")), hello()).await;
    assert!(matches!(garbage, Err(LlmError::Protocol(_))), "{garbage:?}");
}

#[tokio::test]
async fn a_server_that_is_down_fails_fast_and_says_so() {
    // Bind then drop, so the port is closed.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    let started = Instant::now();
    let result = complete(&client(format!("http://{address}/v1")), hello()).await;
    assert!(matches!(result, Err(LlmError::Unreachable { .. })), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let message = result.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("could not be reached") && !message.contains("sk-test"), "{message}");
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let app = Router::new().route(
        "/v1/chat/completions",
        post(|| async {
            let body = futures::stream::once(async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                Ok::<_, std::io::Error>(chunk("late"))
            });
            ([("content-type", "text/event-stream")], axum::body::Body::from_stream(body))
        }),
    );
    let model = client(fake(app).await);
    let started = Instant::now();
    let result = complete(&model, hello()).await;
    assert!(matches!(result, Err(LlmError::Timeout(_))), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(8));
}
