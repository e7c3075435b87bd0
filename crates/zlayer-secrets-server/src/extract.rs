//! Extractors whose rejections are JSON errors with the right status, like every other
//! answer of the server.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body; a malformed one is a 400 naming what is wrong (never echoing the body), a
/// body over the limit a 413, a missing `Content-Type: application/json` a 415.
pub(crate) struct Json<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body must be JSON, sent with `Content-Type: application/json`",
        ),
        JsonRejection::JsonSyntaxError(_) => {
            ApiError::bad_request("the body is not well-formed JSON")
        }
        JsonRejection::JsonDataError(e) => ApiError::bad_request(format!(
            "the body does not have the expected fields: {}",
            without_quoted(&e.body_text())
        )),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => body_too_large(),
        other => ApiError::bad_request(format!("cannot read the body: {}", other.body_text())),
    }
}

/// serde's message with what it quotes of the input (`` `5` ``, `"text"`) left out: the
/// input can be a value. What remains names the field and the expected type.
pub(crate) fn without_quoted(text: &str) -> String {
    if !text.contains("invalid type") && !text.contains("invalid value") {
        // `missing field `x``, `unknown field `x``: field names, no input.
        return text.chars().take(300).collect();
    }
    let mut out = String::with_capacity(text.len().min(300));
    let mut open: Option<char> = None;
    for c in text.chars().take(300) {
        match open {
            Some(q) if c == q => {
                open = None;
                out.push_str("...");
                out.push(c);
            }
            Some(_) => {}
            None if c == '`' || c == '"' => {
                open = Some(c);
                out.push(c);
            }
            None => out.push(c),
        }
    }
    if open.is_some() {
        out.push_str("...");
    }
    out
}

/// 413 for a body over the route's limit.
pub(crate) fn body_too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "the request body is larger than this route accepts",
    )
}

/// A query string; a malformed one is a 400.
pub(crate) struct Query<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(ApiError::bad_request(
                format!("the query string is not valid: {}", e.body_text()),
            )),
            Err(other) => Err(ApiError::bad_request(other.body_text())),
        }
    }
}

/// A path segment; a malformed one is a 400.
pub(crate) struct Path<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(e) => Err(ApiError::bad_request(format!(
                "the path is not valid: {}",
                e.body_text()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_input_is_left_out() {
        assert_eq!(
            without_quoted("Failed: value: invalid type: integer `12345`, expected a string"),
            "Failed: value: invalid type: integer `...`, expected a string"
        );
        assert_eq!(
            without_quoted(r#"invalid type: string "hunter2", expected u32"#),
            r#"invalid type: string "...", expected u32"#
        );
        assert_eq!(
            without_quoted("invalid value: open `abc"),
            "invalid value: open `..."
        );
        assert_eq!(
            without_quoted("missing field `name`"),
            "missing field `name`"
        );
    }
}
