//! [`RemoteStore`] and the store traits over the secret routes.

use std::collections::HashMap;
use std::fmt;

use async_trait::async_trait;
use reqwest::{Method, StatusCode};
use zlayer_secrets_api::{
    BatchOp, BatchRequest, BatchResponse, RollbackRequest, RotateRequest, RotateResponse,
    SecretBody, SecretQuery, ValuesRequest, ValuesResponse, VersionsResponse, WriteRequest, routes,
};
use zlayer_secrets_core::{
    BatchSecretsStore, Result, RotationResult, Secret, SecretMetadata, SecretVersion, SecretsError,
    SecretsProvider, SecretsStore, VersionHistory, VersionedSecretsStore, WriteOp, label,
    validate_name, validate_scope, validate_value,
};

use crate::RemoteConfig;
use crate::errors::Subject;
use crate::http::{Body, Http, Request};

/// The store traits of `zlayer-secrets-core` over the HTTP API of a secrets server.
///
/// Every verb, the resolver and an agent work against it as against a local store: names,
/// scopes and values are checked here first with the same rules (so those errors are the
/// local store's), a missing secret is [`SecretsError::NotFound`] naming `scope/name`, an
/// existing one of an exclusive create [`SecretsError::AlreadyExists`], and every other
/// refusal [`SecretsError::Server`] with the server's status and message (a 403 says
/// which subject lacks which right on which environment). A server that cannot be reached
/// is [`SecretsError::Provider`] naming its URL.
///
/// One keep-alive HTTP client serves every request; the bearer token is obtained at the
/// first request that needs it, kept in memory (wiped on drop), renewed before it expires,
/// and renewed once more if the server refuses it (401), the request then sent again once.
/// Share the store (`Arc<RemoteStore>`) rather than connecting again.
pub struct RemoteStore {
    pub(crate) http: Http,
    atomic_batches: bool,
    ready: bool,
}

impl fmt::Debug for RemoteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteStore")
            .field("url", &self.http.base())
            .field("atomic_batches", &self.atomic_batches)
            .finish_non_exhaustive()
    }
}

/// A valid scope and name, as the local stores check them.
fn check_target(scope: &str, name: &str) -> Result<()> {
    validate_scope(scope)?;
    validate_name(name)
}

/// A write's valid scope, name and value.
fn check_write(scope: &str, name: &str, value: &Secret) -> Result<()> {
    check_target(scope, name)?;
    validate_value(scope, name, value)
}

fn scope_query(scope: &str) -> SecretQuery {
    SecretQuery::for_scope(scope)
}

fn missing_value(server: &str, what: &str) -> SecretsError {
    SecretsError::Provider(format!(
        "the secrets server at {server} answered {what} without the value"
    ))
}

impl RemoteStore {
    /// Builds the client for `config` and asks the server's `GET /health` once: whether it
    /// can be reached, and whether it applies batches atomically
    /// ([`is_atomic`](BatchSecretsStore::is_atomic)). No token is asked for yet.
    pub async fn connect(config: RemoteConfig) -> Result<Self> {
        let http = Http::new(config)?;
        let health = http.health().await?;
        if !health.ready {
            tracing::warn!(
                server = %http.base(),
                "the secrets server has no admin API key yet and refuses every request"
            );
        }
        Ok(Self {
            http,
            atomic_batches: health.atomic_batches,
            ready: health.ready,
        })
    }

    /// The server's URL, as messages show it.
    #[must_use]
    pub fn url(&self) -> &str {
        self.http.base()
    }

    /// How many bearer tokens this store has obtained (`POST /auth/token`): one at the
    /// first request, one more at each renewal.
    #[must_use]
    pub fn tokens_obtained(&self) -> u64 {
        self.http.tokens_obtained()
    }

    /// Whether the server was ready at [`connect`](Self::connect): some API key had role
    /// admin (until then it refuses every request).
    #[must_use]
    pub fn server_ready(&self) -> bool {
        self.ready
    }

    /// `GET /api/v1/secrets/{name}` of `scope`, revealing the value or not.
    async fn secret_body(&self, scope: &str, name: &str, reveal: bool) -> Result<SecretBody> {
        check_target(scope, name)?;
        let query = SecretQuery {
            reveal: reveal.then_some(true),
            ..scope_query(scope)
        };
        let what = format!("a read of {}", label(scope, name));
        let request = Request::new(Method::GET, routes::secret_path(name), &what)
            .query(&query)?
            .about(Subject::Secret { scope, name });
        self.http.call(&request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/secrets`: writes a value, exclusively or not; the version written.
    async fn post_secret(
        &self,
        scope: &str,
        name: &str,
        value: &Secret,
        exclusive: bool,
    ) -> Result<u32> {
        check_write(scope, name, value)?;
        let query = SecretQuery {
            exclusive: exclusive.then_some(true),
            ..scope_query(scope)
        };
        let body = Body::json(&WriteRequest {
            name: name.to_owned(),
            value: value.expose().to_owned(),
            scope: None,
        })?;
        let what = format!("a write of {}", label(scope, name));
        let about = if exclusive {
            Subject::Create { scope, name }
        } else {
            Subject::Secret { scope, name }
        };
        let request = Request::new(Method::POST, routes::SECRETS, &what)
            .query(&query)?
            .body(body)
            .about(about);
        let answer: SecretBody = self
            .http
            .call(&request, &[StatusCode::OK, StatusCode::CREATED])
            .await?;
        Ok(answer.version)
    }

    /// A rotation or rollback answer as the traits report it (the server writes 0 for "no
    /// previous version").
    fn rotation(answer: &RotateResponse) -> RotationResult {
        RotationResult {
            previous_version: (answer.previous_version != 0).then_some(answer.previous_version),
            new_version: answer.new_version,
        }
    }
}

#[async_trait]
impl SecretsProvider for RemoteStore {
    async fn get_secret(&self, scope: &str, name: &str) -> Result<Secret> {
        let mut body = self.secret_body(scope, name, true).await?;
        let value = body
            .value
            .take()
            .ok_or_else(|| missing_value(self.url(), "a read"))?;
        Ok(Secret::new(value))
    }

    async fn get_secrets(&self, scope: &str, names: &[&str]) -> Result<HashMap<String, Secret>> {
        validate_scope(scope)?;
        for name in names {
            validate_name(name)?;
        }
        if names.is_empty() {
            return Ok(HashMap::new());
        }
        let body = Body::json(&ValuesRequest {
            names: names.iter().map(|n| (*n).to_owned()).collect(),
        })?;
        let what = format!("a read of several secrets of scope `{scope}`");
        let request = Request::new(Method::POST, routes::VALUES, &what)
            .query(&scope_query(scope))?
            .body(body);
        let mut answer: ValuesResponse = self.http.call(&request, &[StatusCode::OK]).await?;
        Ok(std::mem::take(&mut answer.secrets)
            .into_iter()
            .map(|(name, value)| (name, Secret::new(value)))
            .collect())
    }

    async fn list_secrets(&self, scope: &str) -> Result<Vec<SecretMetadata>> {
        validate_scope(scope)?;
        let what = format!("a listing of scope `{scope}`");
        let request =
            Request::new(Method::GET, routes::SECRETS, &what).query(&scope_query(scope))?;
        let list: Vec<SecretBody> = self.http.call(&request, &[StatusCode::OK]).await?;
        Ok(list.iter().map(SecretBody::metadata).collect())
    }

    async fn exists(&self, scope: &str, name: &str) -> Result<bool> {
        match self.secret_body(scope, name, false).await {
            Ok(_) => Ok(true),
            Err(SecretsError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl SecretsStore for RemoteStore {
    async fn set_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<()> {
        self.post_secret(scope, name, value, false).await.map(drop)
    }

    async fn delete_secret(&self, scope: &str, name: &str) -> Result<()> {
        check_target(scope, name)?;
        let what = format!("a deletion of {}", label(scope, name));
        let request = Request::new(Method::DELETE, routes::secret_path(name), &what)
            .query(&scope_query(scope))?
            .about(Subject::Secret { scope, name });
        self.http
            .call_empty(&request, &[StatusCode::NO_CONTENT, StatusCode::OK])
            .await
    }

    async fn create_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<u32> {
        self.post_secret(scope, name, value, true).await
    }

    async fn rotate_secret(
        &self,
        scope: &str,
        name: &str,
        value: &Secret,
    ) -> Result<RotationResult> {
        check_write(scope, name, value)?;
        let body = Body::json(&RotateRequest {
            value: value.expose().to_owned(),
        })?;
        let what = format!("a rotation of {}", label(scope, name));
        let request = Request::new(
            Method::POST,
            routes::secret_action_path(name, "rotate"),
            &what,
        )
        .query(&scope_query(scope))?
        .body(body)
        .about(Subject::Secret { scope, name });
        let answer: RotateResponse = self.http.call(&request, &[StatusCode::OK]).await?;
        Ok(Self::rotation(&answer))
    }
}

#[async_trait]
impl VersionedSecretsStore for RemoteStore {
    async fn get_metadata(&self, scope: &str, name: &str) -> Result<SecretMetadata> {
        Ok(self.secret_body(scope, name, false).await?.metadata())
    }

    async fn write_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<u32> {
        self.post_secret(scope, name, value, false).await
    }

    async fn version_history(&self, scope: &str, name: &str) -> Result<VersionHistory> {
        check_target(scope, name)?;
        let what = format!("the history of {}", label(scope, name));
        let request = Request::new(
            Method::GET,
            routes::secret_action_path(name, "versions"),
            &what,
        )
        .query(&scope_query(scope))?
        .about(Subject::Secret { scope, name });
        let answer: VersionsResponse = self.http.call(&request, &[StatusCode::OK]).await?;
        Ok(VersionHistory {
            current: answer.current,
            current_state: answer.current_state,
            versions: answer.versions,
        })
    }

    async fn list_versions(&self, scope: &str, name: &str) -> Result<Vec<SecretVersion>> {
        Ok(self.version_history(scope, name).await?.versions)
    }

    async fn get_secret_version(&self, scope: &str, name: &str, version: u32) -> Result<Secret> {
        check_target(scope, name)?;
        let what = format!("a read of version {version} of {}", label(scope, name));
        let request = Request::new(Method::GET, routes::version_path(name, version), &what)
            .query(&scope_query(scope))?
            .about(Subject::Secret { scope, name });
        let mut body: SecretBody = self.http.call(&request, &[StatusCode::OK]).await?;
        let value = body
            .value
            .take()
            .ok_or_else(|| missing_value(self.url(), "a read of a version"))?;
        Ok(Secret::new(value))
    }

    async fn rollback_secret(&self, scope: &str, name: &str, to: u32) -> Result<RotationResult> {
        check_target(scope, name)?;
        let what = format!("a rollback of {}", label(scope, name));
        let request = Request::new(
            Method::POST,
            routes::secret_action_path(name, "rollback"),
            &what,
        )
        .query(&scope_query(scope))?
        .body(Body::json(&RollbackRequest { to })?)
        .about(Subject::Secret { scope, name });
        let answer: RotateResponse = self.http.call(&request, &[StatusCode::OK]).await?;
        Ok(Self::rotation(&answer))
    }
}

#[async_trait]
impl BatchSecretsStore for RemoteStore {
    async fn apply_batch(&self, ops: &[WriteOp]) -> Result<()> {
        for op in ops {
            match op {
                WriteOp::Set { scope, name, value } => check_write(scope, name, value)?,
                WriteOp::Delete { scope, name } => check_target(scope, name)?,
            }
        }
        if ops.is_empty() {
            return Ok(());
        }
        let request = BatchRequest {
            ops: ops
                .iter()
                .map(|op| match op {
                    WriteOp::Set { scope, name, value } => BatchOp::Set {
                        scope: scope.clone(),
                        name: name.clone(),
                        value: value.expose().to_owned(),
                    },
                    WriteOp::Delete { scope, name } => BatchOp::Delete {
                        scope: scope.clone(),
                        name: name.clone(),
                    },
                })
                .collect(),
        };
        let body = Body::json(&request)?;
        drop(request);
        let what = format!("a batch of {} writes", ops.len());
        let request = Request::new(Method::POST, routes::BATCH, &what).body(body);
        let _: BatchResponse = self.http.call(&request, &[StatusCode::OK]).await?;
        Ok(())
    }

    fn is_atomic(&self) -> bool {
        self.atomic_batches
    }
}
