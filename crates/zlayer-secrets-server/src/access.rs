//! Who is asking, and whether they may.
//!
//! [`Caller`] is the extractor of every `/api/v1` route: it refuses the request (401) unless
//! it carries a valid bearer token of an API key that still exists, and 403s every request
//! while no API key has role admin. [`Caller::require`] then checks one operation on one
//! scope against the grants, read from the store on every request, so a revoke takes effect
//! on the next request.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use zlayer_secrets_api::is_environment_scope;
use zlayer_secrets_credentials::credentials::ADMIN_ROLE;
use zlayer_secrets_credentials::{ApiKeyIdentity, Operation, PermissionLevel, Subject};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) identity: ApiKeyIdentity,
}

/// The client address of a request (loopback when unknown, as in in-process tests).
pub(crate) fn client_addr(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip())
}

/// 429 for an address that has failed too often.
pub(crate) fn too_many(wait: u64) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!("too many failed authentications from this address; try again in {wait} s"),
    )
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let addr = client_addr(parts);
        if let Some(wait) = state.limiter.blocked(addr) {
            return Err(too_many(wait));
        }
        let fail = |message: &str| {
            state.limiter.failed(addr);
            ApiError::unauthorized(message)
        };
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            return Err(ApiError::unauthorized(
                "this route needs `Authorization: Bearer TOKEN` (POST /auth/token gives one)",
            ));
        };
        let token = header
            .to_str()
            .ok()
            .and_then(bearer_token)
            .ok_or_else(|| fail("the Authorization header is not `Bearer TOKEN`"))?;
        let claims = state
            .tokens
            .verify(token.trim())
            .map_err(|refusal| fail(refusal.message()))?;
        let identity = state
            .creds
            .identity(&claims.key)
            .await?
            .ok_or_else(|| fail("the API key of this bearer token no longer exists"))?;
        if identity.subject != claims.sub {
            return Err(fail("the bearer token's subject is not its API key's"));
        }
        if !state.ready().await? {
            return Err(ApiError::forbidden(
                "the server has no admin API key yet and refuses every request; on its host run \
                 `zlayer-secret api-key create NAME --role admin`",
            ));
        }
        Ok(Self { identity })
    }
}

/// The token of an `Authorization: Bearer TOKEN` header; the scheme's name is
/// case-insensitive (RFC 7235, section 2.1), so `bearer TOKEN` is read too.
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token)
}

impl Caller {
    /// Whether the caller has role admin.
    pub(crate) fn is_admin(&self) -> bool {
        self.identity.roles.iter().any(|r| r == ADMIN_ROLE)
    }

    /// The subject as grants name it.
    pub(crate) fn subject(&self) -> Subject {
        Subject::user(self.identity.subject.clone())
    }

    /// 403 unless the caller has role admin.
    pub(crate) fn require_admin(&self, what: &str) -> ApiResult<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "{} may not {what}: only an API key with role admin may",
                self.subject()
            )))
        }
    }

    /// The caller's level on an environment scope: the highest granted to their user or
    /// any of their groups (`write` for admins).
    pub(crate) async fn level(&self, state: &AppState, scope: &str) -> ApiResult<PermissionLevel> {
        if self.is_admin() {
            return Ok(PermissionLevel::Write);
        }
        if !is_environment_scope(scope) {
            return Ok(PermissionLevel::None);
        }
        let subjects: Vec<Subject> = std::iter::once(self.subject())
            .chain(
                self.identity
                    .groups
                    .iter()
                    .map(|g| Subject::group(g.clone())),
            )
            .collect();
        Ok(state.grants.effective_level(&subjects, scope).await?)
    }

    /// 403 unless the caller may perform `operation` on `scope`: admins anywhere; others on
    /// environment scopes by their grants.
    pub(crate) async fn require(
        &self,
        state: &AppState,
        scope: &str,
        operation: Operation,
    ) -> ApiResult<()> {
        if self.is_admin() {
            return Ok(());
        }
        if !is_environment_scope(scope) {
            return Err(ApiError::forbidden(format!(
                "{} may not {operation} in scope `{scope}`: only environments are granted; \
                 other scopes need role admin",
                self.subject()
            )));
        }
        let level = self.level(state, scope).await?;
        if level.allows(operation) {
            return Ok(());
        }
        Err(ApiError::forbidden(format!(
            "{} lacks `{}` on environment `{scope}` (needed to {operation}; has `{level}`)",
            self.subject(),
            operation.required_level(),
        )))
    }
}
