//! Grants, API keys and the caller's identity.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use zlayer_secrets_api::{
    ApiKeyInfo, ApiKeyRequest, EnvironmentQuery, GrantEntry, GrantRequest, GrantResponse,
    GrantsResponse, Identity, NewApiKey, RevokeQuery, RevokeResponse,
};
use zlayer_secrets_core::audit::AuditAction;
use zlayer_secrets_core::{API_KEYS_SCOPE, GRANTS_SCOPE, LocalEnvScopes, validate_scope_part};
use zlayer_secrets_credentials::{ApiKeyIdentity, PermissionLevel, Subject};

use crate::access::{Caller, denied};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;

/// The scope of an environment of a project (or none).
fn environment(env: &str, project: Option<&str>) -> ApiResult<String> {
    validate_scope_part("environment", env)?;
    if let Some(p) = project {
        validate_scope_part("project", p)?;
    }
    Ok(LocalEnvScopes::scope_for(project, env))
}

/// `GET /api/v1/whoami`.
pub(crate) async fn whoami(caller: Caller) -> axum::Json<Identity> {
    let id = caller.identity;
    axum::Json(Identity {
        subject: id.subject,
        roles: id.roles,
        groups: id.groups,
        api_key: id.api_key,
    })
}

/// `GET /api/v1/grants?environment=E[&project=P]` (admin).
pub(crate) async fn grants(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(query): Query<EnvironmentQuery>,
) -> ApiResult<axum::Json<GrantsResponse>> {
    caller.require_admin(&state, "list grants", None).await?;
    let scope = environment(&query.environment, query.project.as_deref())?;
    let list = state.grants.list_for_environment(&scope).await?;
    Ok(axum::Json(GrantsResponse {
        environment: scope,
        grants: list
            .iter()
            .map(|g| GrantEntry {
                subject: g.subject.to_string(),
                level: g.level.as_str().to_owned(),
            })
            .collect(),
    }))
}

/// `PUT /api/v1/grants` (admin).
pub(crate) async fn grant(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Json(body): Json<GrantRequest>,
) -> ApiResult<axum::Json<GrantResponse>> {
    let scope = environment(&body.environment, body.project.as_deref())?;
    caller
        .require_admin(
            &state,
            "change grants",
            Some(denied(
                AuditAction::Grant,
                Some(GRANTS_SCOPE),
                Some(scope.as_str()),
            )),
        )
        .await?;
    let subject: Subject = body.subject.parse()?;
    let level: PermissionLevel = body.level.parse()?;
    let previous = state.grants.grant(&subject, &scope, level).await?;
    Ok(axum::Json(GrantResponse {
        environment: scope,
        subject: subject.to_string(),
        previous: previous.map(|p| p.as_str().to_owned()),
        level: level.as_str().to_owned(),
    }))
}

/// `DELETE /api/v1/grants?subject=S&environment=E[&project=P]` (admin): 404 without such a
/// grant.
pub(crate) async fn revoke(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(query): Query<RevokeQuery>,
) -> ApiResult<axum::Json<RevokeResponse>> {
    let scope = environment(&query.environment, query.project.as_deref())?;
    caller
        .require_admin(
            &state,
            "change grants",
            Some(denied(
                AuditAction::Revoke,
                Some(GRANTS_SCOPE),
                Some(scope.as_str()),
            )),
        )
        .await?;
    let subject: Subject = query.subject.parse()?;
    let revoked = state.grants.revoke(&subject, &scope).await?;
    Ok(axum::Json(RevokeResponse {
        environment: scope,
        subject: subject.to_string(),
        revoked: revoked.as_str().to_owned(),
    }))
}

fn info(identity: ApiKeyIdentity) -> ApiKeyInfo {
    ApiKeyInfo {
        api_key: identity.api_key,
        subject: identity.subject,
        roles: identity.roles,
        groups: identity.groups,
    }
}

/// `GET /api/v1/api-keys` (admin).
pub(crate) async fn api_keys(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> ApiResult<axum::Json<Vec<ApiKeyInfo>>> {
    caller.require_admin(&state, "list API keys", None).await?;
    let list = state.creds.list_identities().await?;
    Ok(axum::Json(list.into_iter().map(info).collect()))
}

/// `POST /api/v1/api-keys` (admin): 201 with the new key and its secret, shown once.
pub(crate) async fn create_api_key(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Json(body): Json<ApiKeyRequest>,
) -> ApiResult<Response> {
    caller
        .require_admin(
            &state,
            "create API keys",
            Some(denied(
                AuditAction::ApiKeyCreate,
                Some(API_KEYS_SCOPE),
                None,
            )),
        )
        .await?;
    let roles: Vec<&str> = body.roles.iter().map(String::as_str).collect();
    let groups: Vec<&str> = body.groups.iter().map(String::as_str).collect();
    let (identity, secret) = state
        .creds
        .create_user_api_key(&body.subject, &roles, &groups)
        .await?;
    let body = NewApiKey {
        api_key: identity.api_key.clone(),
        api_secret: secret.expose().to_owned(),
        subject: identity.subject.clone(),
        roles: identity.roles.clone(),
        groups: identity.groups.clone(),
    };
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

/// `DELETE /api/v1/api-keys/{id}` (admin): 204, or 404. Its tokens stop working at once.
pub(crate) async fn delete_api_key(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller
        .require_admin(
            &state,
            "delete API keys",
            Some(denied(
                AuditAction::ApiKeyDelete,
                Some(API_KEYS_SCOPE),
                Some(id.as_str()),
            )),
        )
        .await?;
    if !state.creds.exists(&id).await.unwrap_or(false) {
        return Err(ApiError::not_found(format!(
            "API key `{}` does not exist",
            id.escape_debug()
        )));
    }
    state.creds.delete_api_key(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}
