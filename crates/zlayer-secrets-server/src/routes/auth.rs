//! `POST /auth/token` and `GET /health`, the two routes without a bearer token.

use std::sync::Arc;

use axum::extract::State;
use axum::http::request::Parts;
use zlayer_secrets_api::{HealthResponse, TokenRequest, TokenResponse};

use crate::access::{client_addr, too_many};
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::state::AppState;

/// The request's parts, for the client address.
pub(crate) struct Peer(std::net::IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(client_addr(parts)))
    }
}

/// `POST /auth/token`: an API key and secret for a bearer token. A wrong pair is a 401 after
/// the same Argon2id work whether or not the key exists; too many from one address, 429.
pub(crate) async fn token(
    State(state): State<Arc<AppState>>,
    Peer(addr): Peer,
    Json(body): Json<TokenRequest>,
) -> ApiResult<axum::Json<TokenResponse>> {
    if let Some(wait) = state.limiter.blocked(addr) {
        return Err(too_many(wait));
    }
    let Some(identity) = state
        .creds
        .authenticate(&body.api_key, &body.api_secret)
        .await?
    else {
        state.limiter.failed(addr);
        tracing::info!(%addr, "refused a token request: wrong API key or secret");
        return Err(ApiError::unauthorized("wrong API key or secret"));
    };
    let token = state.tokens.issue(
        &identity.api_key,
        &identity.subject,
        &identity.roles,
        &identity.groups,
        state.token_lifetime,
    )?;
    tracing::info!(subject = %identity.subject, api_key = %identity.api_key, "issued a token");
    Ok(axum::Json(TokenResponse {
        access_token: token,
        token_type: "Bearer".to_owned(),
        expires_in: state.token_lifetime.as_secs(),
    }))
}

/// `GET /health`.
pub(crate) async fn health(State(state): State<Arc<AppState>>) -> axum::Json<HealthResponse> {
    axum::Json(HealthResponse {
        status: "ok".to_owned(),
        ready: state.ready().await.unwrap_or(false),
        atomic_batches: state.stores.batch.is_atomic(),
    })
}
