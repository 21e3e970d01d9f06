//! The one error type of the HTTP layer: a stable machine `code`, a human `message`, and a status.
//! Server-side failures say only "internal error" to the client; the cause goes to the log.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hearth_coach::CoachError;
use hearth_store::StoreError;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, code, message: message.into() }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self { status: StatusCode::NOT_FOUND, code: "not_found", message: message.into() }
    }

    fn internal(cause: &dyn std::error::Error) -> Self {
        tracing::error!(error = %ErrorChain(cause), "request failed");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message: "internal error".into(),
        }
    }

    pub fn body(&self) -> serde_json::Value {
        json!({ "code": self.code, "message": self.message })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => ApiError::not_found(format!("{what} not found")),
            other => ApiError::internal(&other),
        }
    }
}

impl From<CoachError> for ApiError {
    fn from(err: CoachError) -> Self {
        let code = err.code();
        match err {
            CoachError::EmptyMessage | CoachError::TooLong { .. } => {
                Self { status: StatusCode::UNPROCESSABLE_ENTITY, code, message: err.to_string() }
            }
            CoachError::ConversationNotFound => ApiError::not_found(err.to_string()),
            CoachError::Model(ref cause) => {
                tracing::error!(error = %ErrorChain(cause), "model failed");
                // The message says the person's words were kept; the model's own text is not shown.
                Self { status: StatusCode::BAD_GATEWAY, code, message: err.to_string() }
            }
            other => ApiError::internal(&other),
        }
    }
}

/// Formats an error with its whole `source()` chain for the log.
struct ErrorChain<'a>(&'a dyn std::error::Error);

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}
