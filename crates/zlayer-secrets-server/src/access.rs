//! Who is asking, and whether they may.
//!
//! [`Caller`] is the extractor of every `/api/v1` route: it refuses the request (401) unless
//! it carries a valid bearer token of an API key that still exists, and 403s every request
//! while no API key has role admin. [`Caller::require`] then checks one operation on one
//! scope against the grants, read from the store on every request, so a revoke takes effect
//! on the next request.
//!
//! [`attributed`] is the middleware of every authenticated route: it authenticates the
//! request once, hands the [`Caller`] to the handler and runs the handler inside
//! `audit::scope`, so that the store records each operation as the API key's subject from
//! the client's address. A refusal of [`Caller::require`] or [`Caller::require_admin`] is
//! recorded by the server itself (outcome `denied`): the store never sees it.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use zlayer_secrets_api::{is_environment_scope, routes};
use zlayer_secrets_core::audit::{
    self, Actor, AuditAction, AuditContext, AuditOutcome, AuditRecord,
};
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

/// The client's address and port, when known.
pub(crate) fn client_socket(parts: &Parts) -> Option<SocketAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

/// 429 for an address that has failed too often.
pub(crate) fn too_many(wait: u64) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!("too many failed authentications from this address; try again in {wait} s"),
    )
}

/// The caller authenticated by [`attributed`] (or, on a route without it, authenticated
/// here).
impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        Self::authenticate(parts, state).await
    }
}

/// The middleware of every authenticated route: authenticates the request (401, 403, 429 as
/// the extractor does), then runs the rest inside `audit::scope` with the API key's subject
/// and the client's address as actor, and the purpose of the route: `resolve` for
/// `POST /api/v1/resolve`, `export` for `GET /api/v1/secrets/reveal-all`, `revoke` for
/// `DELETE /api/v1/grants`, `reveal` for the others.
pub(crate) async fn attributed(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = req.into_parts();
    let caller = match Caller::authenticate(&parts, &state).await {
        Ok(caller) => caller,
        Err(refusal) => return refusal.into_response(),
    };
    let address = client_socket(&parts).map(|a| a.to_string());
    let context = AuditContext::new(Actor::subject(caller.identity.subject.clone(), address))
        .with_purpose(purpose_of(&parts));
    parts.extensions.insert(caller);
    audit::scope(context, next.run(Request::from_parts(parts, body))).await
}

/// What the reads of values of a request are for, by its route.
fn purpose_of(parts: &Parts) -> AuditAction {
    let route = parts
        .extensions
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    match (route, &parts.method) {
        (Some(routes::RESOLVE), _) => AuditAction::Resolve,
        (Some(routes::REVEAL_ALL), &Method::GET) => AuditAction::Export,
        (Some(routes::GRANTS), &Method::DELETE) => AuditAction::Revoke,
        _ => AuditAction::Reveal,
    }
}

/// The action a refused `operation` would have been recorded as; `None` for listings and
/// metadata, which are not recorded when allowed either.
fn action_of(operation: Operation) -> Option<AuditAction> {
    Some(match operation {
        Operation::Resolve => AuditAction::Resolve,
        Operation::Reveal => AuditAction::Reveal,
        Operation::Export => AuditAction::Export,
        Operation::Create => AuditAction::Create,
        Operation::Set => AuditAction::Set,
        Operation::Rotate => AuditAction::Rotate,
        Operation::Rollback => AuditAction::Rollback,
        Operation::Delete => AuditAction::Delete,
        Operation::Import => AuditAction::Import,
        _ => return None,
    })
}

/// The entry of a refused `action` on `scope`/`name`.
pub(crate) fn denied(action: AuditAction, scope: Option<&str>, name: Option<&str>) -> AuditRecord {
    AuditRecord {
        action,
        scope: scope.map(str::to_owned),
        name: name.map(str::to_owned),
        version: None,
        outcome: AuditOutcome::Denied,
        detail: None,
    }
}

impl Caller {
    /// The checks of every authenticated request: the limiter, a valid bearer token of an
    /// API key that still exists, and a server that has an admin key.
    async fn authenticate(parts: &Parts, state: &Arc<AppState>) -> Result<Self, ApiError> {
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

    /// 403 unless the caller has role admin; a refusal is recorded as `refused` (an entry
    /// with outcome `denied`), when the request is one the audit log names.
    pub(crate) async fn require_admin(
        &self,
        state: &AppState,
        what: &str,
        refused: Option<AuditRecord>,
    ) -> ApiResult<()> {
        if self.is_admin() {
            return Ok(());
        }
        if let Some(record) = refused {
            state.record(vec![record]).await;
        }
        Err(ApiError::forbidden(format!(
            "{} may not {what}: only an API key with role admin may",
            self.subject()
        )))
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

    /// 403 unless the caller may perform `operation` on `scope` (on the secret `name`, if
    /// the request names one): admins anywhere; others on environment scopes by their
    /// grants. A refusal is recorded (outcome `denied`).
    pub(crate) async fn require(
        &self,
        state: &AppState,
        scope: &str,
        name: Option<&str>,
        operation: Operation,
    ) -> ApiResult<()> {
        self.require_names(state, scope, name.as_slice(), operation)
            .await
    }

    /// As [`require`](Self::require), for a request on the secrets `names` of `scope`: a
    /// refusal is recorded once per name (once without a name when `names` is empty).
    pub(crate) async fn require_names(
        &self,
        state: &AppState,
        scope: &str,
        names: &[&str],
        operation: Operation,
    ) -> ApiResult<()> {
        let result = self.check(state, scope, operation).await;
        if let Err(refusal) = &result
            && refusal.status == StatusCode::FORBIDDEN
            && let Some(action) = action_of(operation)
        {
            let records = if names.is_empty() {
                vec![denied(action, Some(scope), None)]
            } else {
                names
                    .iter()
                    .map(|name| denied(action, Some(scope), Some(name)))
                    .collect()
            };
            state.record(records).await;
        }
        result
    }

    /// The rights check of [`require`](Self::require), recording nothing.
    async fn check(&self, state: &AppState, scope: &str, operation: Operation) -> ApiResult<()> {
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
