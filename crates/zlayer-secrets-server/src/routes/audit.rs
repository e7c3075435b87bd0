//! `GET /api/v1/audit` and `GET /api/v1/audit/verify`: the audit log, for admins.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use zlayer_secrets_api::{AuditQuery, AuditResponse};
use zlayer_secrets_core::audit::{AuditAction, AuditLog, AuditVerification};

use crate::access::{Caller, denied};
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;
use crate::state::AppState;

/// The audit log, after the admin check (a refusal is itself an entry, `audit-read`
/// denied); 501 when the server keeps none.
async fn log_for(state: &AppState, caller: &Caller) -> ApiResult<Arc<dyn AuditLog>> {
    caller
        .require_admin(
            state,
            "read the audit log",
            Some(denied(AuditAction::AuditRead, None, None)),
        )
        .await?;
    state.stores.audit.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "this server's store keeps no audit log",
        )
    })
}

/// `GET /api/v1/audit` (admin): the entries the query selects, oldest first.
pub(crate) async fn entries(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(query): Query<AuditQuery>,
) -> ApiResult<axum::Json<AuditResponse>> {
    let log = log_for(&state, &caller).await?;
    let filter = query
        .to_filter()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let entries = log.entries(&filter).await?;
    Ok(axum::Json(AuditResponse { entries }))
}

/// `GET /api/v1/audit/verify` (admin): what checking the chain found.
pub(crate) async fn verify(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> ApiResult<axum::Json<AuditVerification>> {
    let log = log_for(&state, &caller).await?;
    Ok(axum::Json(log.verify().await?))
}
