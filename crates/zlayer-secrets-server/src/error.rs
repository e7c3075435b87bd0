//! Errors as responses: a status and `{"error": "..."}`, never a value or a token.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use zlayer_secrets_api::ErrorBody;
use zlayer_secrets_core::SecretsError;

/// A refused or failed request.
#[derive(Debug)]
pub struct ApiError {
    /// The status.
    pub status: StatusCode,
    /// The text of the body's `error`.
    pub message: String,
}

impl ApiError {
    /// An error with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 401.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
}

/// The status a store error answers with. Storage failures, tampering and anything
/// unexpected are 500s whose text is logged but not sent (it can name files of the
/// server); the client gets a generic message.
fn status_of(err: &SecretsError) -> StatusCode {
    match err.root_cause() {
        SecretsError::NotFound { .. } => StatusCode::NOT_FOUND,
        SecretsError::AlreadyExists { .. } | SecretsError::Conflict { .. } => StatusCode::CONFLICT,
        SecretsError::InvalidName { .. }
        | SecretsError::InvalidInput { .. }
        | SecretsError::InvalidReference { .. }
        | SecretsError::InvalidPlaceholder { .. }
        | SecretsError::ReservedScope { .. }
        | SecretsError::NoEnvResolver
        | SecretsError::FieldUnreadable { .. }
        | SecretsError::NotText { .. }
        | SecretsError::VersionLimit { .. } => StatusCode::BAD_REQUEST,
        SecretsError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        SecretsError::AccessDenied { .. } => StatusCode::FORBIDDEN,
        SecretsError::Server { status, .. } => {
            StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY)
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<SecretsError> for ApiError {
    fn from(err: SecretsError) -> Self {
        let status = status_of(&err);
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %err, "request failed");
            return Self::new(
                status,
                "the server could not complete the request; its log says why",
            );
        }
        Self::new(status, err.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ErrorBody {
                error: self.message,
            }),
        )
            .into_response()
    }
}

/// The result of a handler.
pub(crate) type ApiResult<T> = Result<T, ApiError>;
