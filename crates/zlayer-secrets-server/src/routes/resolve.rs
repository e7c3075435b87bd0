//! `POST /api/v1/resolve`: every reference of an environment map in one request, each
//! scope read once, each checked against the caller's rights.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::State;
use zlayer_secrets_api::{ResolveRequest, ResolveResponse};
use zlayer_secrets_core::{
    LocalEnvScopes, Result, Secret, SecretMetadata, SecretsError, SecretsProvider, SecretsResolver,
};
use zlayer_secrets_credentials::Operation;

use crate::access::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::state::AppState;

/// The store as the resolver reads it, for one caller: every scope is checked for the
/// `resolve` right before it is read.
struct Guarded {
    state: Arc<AppState>,
    caller: Caller,
}

impl Guarded {
    /// Checks the right to resolve `names` of `scope` (a refusal recorded once per name).
    async fn check(&self, scope: &str, names: &[&str]) -> Result<()> {
        self.caller
            .require_names(&self.state, scope, names, Operation::Resolve)
            .await
            .map_err(|e| SecretsError::Server {
                status: e.status.as_u16(),
                message: e.message,
            })
    }
}

#[async_trait]
impl SecretsProvider for Guarded {
    async fn get_secret(&self, scope: &str, name: &str) -> Result<Secret> {
        self.check(scope, &[name]).await?;
        self.state.stores.store.get_secret(scope, name).await
    }

    async fn get_secrets(&self, scope: &str, names: &[&str]) -> Result<HashMap<String, Secret>> {
        self.check(scope, names).await?;
        self.state.stores.store.get_secrets(scope, names).await
    }

    async fn list_secrets(&self, scope: &str) -> Result<Vec<SecretMetadata>> {
        self.check(scope, &[]).await?;
        self.state.stores.store.list_secrets(scope).await
    }

    async fn exists(&self, scope: &str, name: &str) -> Result<bool> {
        self.check(scope, &[name]).await?;
        self.state.stores.store.exists(scope, name).await
    }
}

/// The most variables one request may resolve.
const MAX_REFERENCES: usize = 10_000;

/// `POST /api/v1/resolve`.
pub(crate) async fn resolve(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Json(body): Json<ResolveRequest>,
) -> ApiResult<axum::Json<ResolveResponse>> {
    zlayer_secrets_core::validate_scope(&body.scope)?;
    if body.references.len() > MAX_REFERENCES {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_REFERENCES} variables can be resolved in one request"
        )));
    }
    let env: HashMap<String, String> = body.references.clone().into_iter().collect();
    let resolver = SecretsResolver::new(Guarded { state, caller }, body.scope.clone())
        .with_env_resolver(Arc::new(LocalEnvScopes));
    let values = resolver.resolve_env(&env).await?;
    drop(env);
    Ok(axum::Json(ResolveResponse {
        values: values.into_iter().collect(),
    }))
}
