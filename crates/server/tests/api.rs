//! The HTTP API in-process: the router driven with `oneshot`, the scripted model behind it.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hearth_coach::{Coach, CoachConfig};
use hearth_llm::{ChatModel, Scripted};
use hearth_server::{AppState, router};
use hearth_store::SqliteStore;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn app(model: Scripted) -> axum::Router {
    let store = Arc::new(SqliteStore::in_memory().await.expect("store"));
    let model: Arc<dyn ChatModel> = Arc::new(model);
    router(AppState { coach: Arc::new(Coach::new(store, model, CoachConfig::default())) })
}

async fn send(app: &axum::Router, request: Request<Body>) -> (StatusCode, String) {
    let response = app.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn post_json(uri: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .expect("request")
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("request")
}

/// Parses a server-sent-events body into (event, data) pairs.
fn sse_events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter_map(|block| {
            let mut name = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(rest) = line.strip_prefix("event:") {
                    name = Some(rest.trim().to_string());
                } else if let Some(rest) = line.strip_prefix("data:") {
                    data.push_str(rest.trim());
                }
            }
            Some((name?, serde_json::from_str(&data).ok()?))
        })
        .collect()
}

#[tokio::test]
async fn health_names_the_model() {
    let app = app(Scripted::echo()).await;
    let (status, body) = send(&app, get("/api/v1/health")).await;
    assert_eq!(status, StatusCode::OK);
    let body: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["model"], "scripted");
}

#[tokio::test]
async fn a_chat_streams_events_and_is_stored() {
    let app = app(Scripted::new(["That sounds hard. What would help most?"])).await;
    let (status, body) = send(
        &app,
        post_json("/api/v1/chat", json!({"message": "We keep fighting about chores."}).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let events = sse_events(&body);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"started"));
    assert_eq!(names.last(), Some(&"done"));
    assert!(names.contains(&"text"));
    let done = &events.last().expect("done").1;
    assert_eq!(done["reply"], "That sounds hard. What would help most?");
    let id = done["conversation_id"].as_str().expect("id").to_string();

    let (status, body) = send(&app, get(&format!("/api/v1/conversations/{id}/messages"))).await;
    assert_eq!(status, StatusCode::OK);
    let messages: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(messages["messages"].as_array().map(Vec::len), Some(2));
    let (_, body) = send(&app, get("/api/v1/conversations")).await;
    assert!(body.contains(&id));
}

#[tokio::test]
async fn a_reply_failing_mid_way_is_an_error_event_and_the_message_stays() {
    let app = app(Scripted::default().then_fail_after(4, "engine died")).await;
    let (status, body) = send(
        &app,
        post_json("/api/v1/chat", json!({"message": "My dad won't talk to me."}).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let events = sse_events(&body);
    let (name, error) = events.last().expect("events");
    assert_eq!(name, "error");
    assert_eq!(error["code"], "model_error");
    assert!(
        !error["message"].as_str().unwrap_or("").contains("engine died"),
        "model text leaked: {error}"
    );
    let id = events[0].1["conversation_id"].as_str().expect("id").to_string();
    let (_, body) = send(&app, get(&format!("/api/v1/conversations/{id}/messages"))).await;
    assert!(body.contains("My dad won't talk to me."));
}

#[tokio::test]
async fn bad_requests_get_json_errors_with_codes() {
    let app = app(Scripted::echo()).await;
    let cases = [
        (post_json("/api/v1/chat", "{not json"), StatusCode::BAD_REQUEST, "invalid_json"),
        (
            post_json("/api/v1/chat", json!({"text": "wrong field"}).to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            post_json("/api/v1/chat", json!({"message": "  "}).to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_message",
        ),
        (
            post_json("/api/v1/chat", json!({"message": "x".repeat(2 * 1024 * 1024)}).to_string()),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            post_json(
                "/api/v1/chat",
                json!({"message": "hi", "conversation_id": "nope"}).to_string(),
            ),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (get("/api/v1/conversations/nope/messages"), StatusCode::NOT_FOUND, "not_found"),
        (get("/api/v1/no-such-endpoint"), StatusCode::NOT_FOUND, "not_found"),
    ];
    for (request, want_status, want_code) in cases {
        let uri = request.uri().to_string();
        let (status, body) = send(&app, request).await;
        assert_eq!(status, want_status, "{uri}: {body}");
        let body: Value =
            serde_json::from_str(&body).unwrap_or_else(|_| panic!("{uri}: not JSON: {body}"));
        assert_eq!(body["code"], want_code, "{uri}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{uri}");
    }
}

#[tokio::test]
async fn the_page_is_served_with_security_headers() {
    let app = app(Scripted::echo()).await;
    let response = app.clone().oneshot(get("/")).await.expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert!(headers.get(header::CONTENT_SECURITY_POLICY).is_some());
    assert_eq!(
        headers.get(header::X_CONTENT_TYPE_OPTIONS).map(|v| v.as_bytes()),
        Some(&b"nosniff"[..])
    );
    let body = response.into_body().collect().await.expect("body").to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("Hearth"));
}
