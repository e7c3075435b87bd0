//! Writing versions without losing the fields other tools put next to `value`.
//!
//! KV v2 replaces the whole data object of a secret on each `POST`, so a plain write of
//! `{"value": ...}` would drop the `username` that `bao kv put` stored beside it. A write
//! here is, in order of preference:
//!
//! 1. a merge patch (`PATCH` with `application/merge-patch+json`) of `{"value": ...}`,
//!    which the server applies to the current version under its own lock: one request,
//!    every other field kept, and no check-and-set conflict with concurrent writers. It
//!    needs the `patch` capability, and a current version that can be read;
//! 2. otherwise (no `patch` capability, a mount that demands check-and-set, no current
//!    version): read the current version (`GET data/...`, which also tells its number),
//!    write its fields back with the new `value`, and send check-and-set against that
//!    version; a concurrent writer makes the check fail, and the write starts over;
//! 3. a token that may neither patch nor read can only create a secret that does not exist
//!    yet (check-and-set 0): writing over a version it cannot see could lose fields.
//!
//! Rotations and rollbacks give their own check-and-set version to every step.

use reqwest::{Method, StatusCode};
use zlayer_secrets_core::{Result, Secret, SecretsError, label};

use crate::VaultSecretsProvider;
use crate::client::BodyKind;
use crate::wire::{self, Current, Envelope, SecretBuf, WriteResult};

/// How often a write that lost its check-and-set to a concurrent writer starts over.
const WRITE_ATTEMPTS: usize = 16;

/// How a merge patch went.
enum Patched {
    /// The new version.
    Version(u32),
    /// Check-and-set failed: another version is current.
    CasMismatch,
    /// There is no current version to patch (never written, deleted or destroyed).
    NotLive,
    /// The token may not patch.
    Refused,
    /// The mount demands check-and-set, or the server cannot patch.
    CasRequired,
}

/// How a write went.
pub(crate) enum Written {
    /// The new version.
    Version(u32),
    /// Check-and-set failed: another version is current.
    CasMismatch,
    /// The mount or the secret demands check-and-set and none was given.
    CasRequired,
}

impl VaultSecretsProvider {
    /// Version `version` of a secret (the current one when `None`), with its fields.
    pub(crate) async fn read_current(
        &self,
        scope: &str,
        name: &str,
        version: Option<u32>,
    ) -> Result<Current> {
        let mut url = self.client.url("data", scope, Some(name))?;
        if let Some(v) = version {
            url.set_query(Some(&format!("version={v}")));
        }
        let what = label(scope, name);
        let reply = self.client.send(Method::GET, url, None, &what).await?;
        match reply.status {
            StatusCode::OK | StatusCode::NOT_FOUND => {
                wire::read_current(reply.body.as_slice(), reply.status == StatusCode::OK)
                    .map_err(|why| self.malformed(&what, &why))
            }
            _ => Err(self
                .client
                .status_error(&reply, &what, &self.client.vault_path("data", scope, name))
                .await),
        }
    }

    /// Writes `value` over `current` (keeping its other fields), with check-and-set
    /// against `current`'s version.
    pub(crate) async fn write_over(
        &self,
        scope: &str,
        name: &str,
        value: &Secret,
        current: &Current,
    ) -> Result<Written> {
        let body = wire::write_body(value, current.fields(), Some(current.version()))
            .map_err(|why| encode_error(scope, name, &why))?;
        self.post(scope, name, body).await
    }

    /// Writes exactly the fields `fields` (a JSON object), with check-and-set against `cas`.
    pub(crate) async fn write_fields(
        &self,
        scope: &str,
        name: &str,
        fields: &SecretBuf,
        cas: u32,
    ) -> Result<Written> {
        let body = wire::raw_write_body(fields.as_slice(), cas)
            .map_err(|why| encode_error(scope, name, &why))?;
        self.post(scope, name, body).await
    }

    /// Writes `value` as the only field, with check-and-set against `cas` when given.
    pub(crate) async fn write_value(
        &self,
        scope: &str,
        name: &str,
        value: &Secret,
        cas: Option<u32>,
    ) -> Result<Written> {
        let body =
            wire::write_body(value, None, cas).map_err(|why| encode_error(scope, name, &why))?;
        self.post(scope, name, body).await
    }

    /// Writes a new version whatever the current one is (last writer wins), keeping the
    /// fields other tools wrote; returns the version written.
    pub(crate) async fn write_any(&self, scope: &str, name: &str, value: &Secret) -> Result<u32> {
        let mut patch = true;
        let mut expected = 0;
        for _ in 0..WRITE_ATTEMPTS {
            if patch {
                match self.patch(scope, name, value, None).await? {
                    Patched::Version(v) => return Ok(v),
                    // Someone else wins, or nothing is current: read and write below.
                    Patched::CasMismatch | Patched::NotLive => {}
                    Patched::Refused | Patched::CasRequired => patch = false,
                }
            }
            let current = match self.read_current(scope, name, None).await {
                Ok(current) => current,
                Err(SecretsError::AccessDenied { .. }) => {
                    return self.create_unseen(scope, name, value).await;
                }
                Err(e) => return Err(e),
            };
            expected = current.version();
            match self.write_over(scope, name, value, &current).await? {
                Written::Version(v) => return Ok(v),
                Written::CasMismatch | Written::CasRequired => {
                    tracing::debug!(scope, "a concurrent write won; writing again");
                }
            }
        }
        Err(SecretsError::Conflict {
            scope: scope.to_owned(),
            name: name.to_owned(),
            expected,
        })
    }

    /// Creates a secret that does not exist: check-and-set 0, which the server refuses
    /// when the secret has any version. A refusal is [`SecretsError::AlreadyExists`] if the
    /// current version is live; a current version deleted or destroyed with Vault's tools
    /// counts as absent, and is written over with check-and-set against it. Returns the
    /// version written.
    pub(crate) async fn create(&self, scope: &str, name: &str, value: &Secret) -> Result<u32> {
        let exists = || SecretsError::AlreadyExists {
            name: label(scope, name),
        };
        let mut cas = 0;
        for _ in 0..WRITE_ATTEMPTS {
            match self.write_value(scope, name, value, Some(cas)).await? {
                Written::Version(v) => return Ok(v),
                Written::CasMismatch | Written::CasRequired => {}
            }
            cas = match self.read_metadata(scope, name).await {
                Ok(Some(meta)) if meta.is_live() => return Err(exists()),
                Ok(Some(meta)) => meta.current_version,
                // Deleted meanwhile: create from nothing again.
                Ok(None) => 0,
                // A token that may write but not read metadata: the refusal says a version
                // exists; whether it is live, the data says.
                Err(denied @ SecretsError::AccessDenied { .. }) => {
                    return match self.read_value(scope, name, None).await {
                        Ok(_) | Err(SecretsError::NotText { .. }) => Err(exists()),
                        Err(_) => Err(denied),
                    };
                }
                Err(e) => return Err(e),
            };
            tracing::debug!(
                scope,
                "a concurrent write changed the secret; creating again"
            );
        }
        Err(SecretsError::Conflict {
            scope: scope.to_owned(),
            name: name.to_owned(),
            expected: cas,
        })
    }

    /// Writes `value` over version `expected` only if it is still current, keeping the
    /// fields of that version.
    pub(crate) async fn write_from(
        &self,
        scope: &str,
        name: &str,
        expected: u32,
        value: &Secret,
    ) -> Result<Written> {
        match self.patch(scope, name, value, Some(expected)).await? {
            Patched::Version(v) => return Ok(Written::Version(v)),
            Patched::CasMismatch => return Ok(Written::CasMismatch),
            // Not current any more (deleted or destroyed): nothing to keep, the
            // check-and-set below decides.
            Patched::NotLive => return self.write_value(scope, name, value, Some(expected)).await,
            Patched::Refused | Patched::CasRequired => {}
        }
        match self.read_current(scope, name, Some(expected)).await? {
            current @ Current::Live { .. } => self.write_over(scope, name, value, &current).await,
            Current::Absent | Current::Gone { .. } => {
                self.write_value(scope, name, value, Some(expected)).await
            }
        }
    }

    /// A merge patch of the `value` field, with check-and-set against `cas` when given.
    async fn patch(
        &self,
        scope: &str,
        name: &str,
        value: &Secret,
        cas: Option<u32>,
    ) -> Result<Patched> {
        let what = label(scope, name);
        let url = self.client.url("data", scope, Some(name))?;
        let body =
            wire::write_body(value, None, cas).map_err(|why| encode_error(scope, name, &why))?;
        let reply = self
            .client
            .send_as(
                Method::PATCH,
                url,
                Some((body, BodyKind::MergePatch)),
                &what,
            )
            .await?;
        match reply.status {
            StatusCode::OK => self
                .written_version(&reply.body, &what)
                .map(Patched::Version),
            StatusCode::NOT_FOUND => Ok(Patched::NotLive),
            // Reported only if the token can do nothing else either (see `create_unseen`).
            StatusCode::FORBIDDEN => Ok(Patched::Refused),
            StatusCode::BAD_REQUEST => {
                let errors = reply.vault_errors();
                if errors.contains("check-and-set parameter did not match") {
                    Ok(Patched::CasMismatch)
                } else if errors.contains("check-and-set parameter required") {
                    Ok(Patched::CasRequired)
                } else {
                    let path = self.client.vault_path("data", scope, name);
                    Err(self.client.status_error(&reply, &what, &path).await)
                }
            }
            // Servers that do not know `PATCH` on KV v2 (old Vault versions).
            StatusCode::METHOD_NOT_ALLOWED | StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                Ok(Patched::CasRequired)
            }
            _ => {
                let path = self.client.vault_path("data", scope, name);
                Err(self.client.status_error(&reply, &what, &path).await)
            }
        }
    }

    /// A write by a token that may not read the data (nor patch it): only a secret that
    /// does not exist yet can be written without risk to fields this token cannot see.
    async fn create_unseen(&self, scope: &str, name: &str, value: &Secret) -> Result<u32> {
        match self.write_value(scope, name, value, Some(0)).await? {
            Written::Version(v) => Ok(v),
            Written::CasMismatch | Written::CasRequired => {
                let path = self.client.vault_path("data", scope, name);
                Err(SecretsError::AccessDenied {
                    name: format!(
                        "{} (the token may write {path} but neither read nor patch it, so \
                         writing over the current version could lose fields other tools \
                         stored there: grant `read` or `patch` on {path})",
                        label(scope, name)
                    ),
                })
            }
        }
    }

    /// Sends a write to `data/{path}`.
    async fn post(&self, scope: &str, name: &str, body: SecretBuf) -> Result<Written> {
        let url = self.client.url("data", scope, Some(name))?;
        let what = label(scope, name);
        let reply = self
            .client
            .send(Method::POST, url, Some(body), &what)
            .await?;
        let path = self.client.vault_path("data", scope, name);
        match reply.status {
            StatusCode::OK => self
                .written_version(&reply.body, &what)
                .map(Written::Version),
            // Only reached when the engine could not be looked up beforehand.
            StatusCode::NO_CONTENT => Err(SecretsError::Provider(format!(
                "Vault at {} accepted the write of {what} without reporting a version: the \
                 engine at `{}` looks like KV version 1, and zlayer-secrets needs KV version 2 \
                 (check VAULT_MOUNT)",
                self.client.address(),
                self.client.mount()
            ))),
            StatusCode::BAD_REQUEST => {
                let errors = reply.vault_errors();
                if errors.contains("check-and-set parameter did not match") {
                    Ok(Written::CasMismatch)
                } else if errors.contains("check-and-set parameter required") {
                    Ok(Written::CasRequired)
                } else {
                    Err(self.client.status_error(&reply, &what, &path).await)
                }
            }
            _ => Err(self.client.status_error(&reply, &what, &path).await),
        }
    }

    /// `data.version` of a write's answer.
    fn written_version(&self, body: &SecretBuf, what: &str) -> Result<u32> {
        let result: Envelope<WriteResult> = serde_json::from_slice(body.as_slice())
            .map_err(|e| self.malformed(what, &e.to_string()))?;
        Ok(result.data.version)
    }
}

/// The error for a write body that could not be formed (never shows the value).
fn encode_error(scope: &str, name: &str, why: &str) -> SecretsError {
    SecretsError::Provider(format!(
        "cannot encode the write of {}: {why}",
        label(scope, name)
    ))
}
