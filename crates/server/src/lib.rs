//! Hearth's HTTP server: a JSON API under `/api/v1`, replies streamed as server-sent events, and a
//! small chat page compiled into the binary.
//!
//! The router is built by [`router`] so tests drive it in-process; [`serve`] takes a bound listener
//! and a shutdown future so tests can bind port 0.

mod error;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, State};
use axum::http::{HeaderValue, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::{Stream, StreamExt};
use hearth_coach::{Coach, TurnEvent, TurnRequest};
use hearth_core::LOCAL_USER;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_http::set_header::SetResponseHeaderLayer;

pub use error::ApiError;

/// The largest request body accepted (a message is at most a few thousand characters).
pub const BODY_LIMIT: usize = 64 * 1024;

/// Shared state of every request. Nothing here is per-process session state: a second replica with
/// the same store answers the same way.
#[derive(Clone, Debug)]
pub struct AppState {
    pub coach: Arc<Coach>,
}

/// `Json` that answers a malformed body in Hearth's error format.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let code = match status.as_u16() {
            413 => "payload_too_large",
            415 => "unsupported_media_type",
            422 => "invalid_body",
            _ => "invalid_json",
        };
        ApiError { status, code, message: rejection.body_text() }
    }
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/health", get(health))
        .route("/chat", post(chat))
        .route("/conversations", get(conversations))
        .route("/conversations/{id}/messages", get(messages))
        .fallback(|| async { ApiError::not_found("no such endpoint") });
    Router::new()
        .route("/", get(index))
        .nest("/api/v1", api)
        .with_state(state)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
            ),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
}

/// Serves until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await
}

async fn index() -> Html<&'static str> {
    Html(include_str!("../assets/index.html"))
}

async fn health(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "model": state.coach.model_name(),
    }))
}

#[derive(Debug, Deserialize)]
struct ChatBody {
    message: String,
    #[serde(default)]
    conversation_id: Option<String>,
}

/// Sends a message; the reply streams back as server-sent events: `started`, `text` (repeated),
/// `replace` (rare), then `done` with the whole outcome, or `error` with a code and message.
async fn chat(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ChatBody>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let turns = state
        .coach
        .turn(TurnRequest {
            owner: LOCAL_USER.to_string(),
            conversation_id: body.conversation_id,
            text: body.message,
        })
        .await?;
    let events = turns.map(|item| {
        let event = match item {
            Ok(TurnEvent::Started { conversation_id, message_id, safety }) => sse(
                "started",
                &json!({ "conversation_id": conversation_id, "message_id": message_id, "safety": safety }),
            ),
            Ok(TurnEvent::Text(text)) => sse("text", &json!({ "text": text })),
            Ok(TurnEvent::Replace(text)) => sse("replace", &json!({ "text": text })),
            Ok(TurnEvent::Done(outcome)) => sse("done", &outcome),
            Err(err) => {
                let api = ApiError::from(err);
                sse("error", &api.body())
            }
        };
        Ok(event)
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

fn sse(name: &str, data: &impl Serialize) -> Event {
    Event::default()
        .event(name)
        .json_data(data)
        .unwrap_or_else(|_| Event::default().event("error").data(r#"{"code":"internal"}"#))
}

async fn conversations(State(state): State<AppState>) -> Result<Response, ApiError> {
    let list = state.coach.store().conversations(LOCAL_USER, 100).await?;
    Ok(Json(json!({ "conversations": list })).into_response())
}

async fn messages(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let list = state.coach.store().messages(LOCAL_USER, &id).await?;
    Ok(Json(json!({ "messages": list })).into_response())
}
