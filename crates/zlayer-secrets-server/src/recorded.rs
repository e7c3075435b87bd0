//! [`Recorded`]: a store that keeps no audit log of its own (Vault, OpenBao), with its
//! operations recorded in another store's log.
//!
//! Vault's audit devices (`bao audit enable file file_path=/var/log/bao_audit.log`) see the
//! requests of the server's token only, not the API keys' subjects the server acts for. So a
//! server fronting Vault keeps the data directory's local store only for its audit log, and
//! wraps the Vault store in [`Recorded`]: after each read of a value and each write, the
//! entry the local store would have recorded for it is appended with [`AuditLog::record`],
//! with the actor and purpose of the request (`audit::current`). The actions are the local
//! store's (`audit::read_action`, `audit::write_action`): reads of the API keys and grants
//! scopes, which every authorisation does, are not recorded.
//!
//! Unlike the local store, the entry is written after the operation, not in its
//! transaction: a server that dies between the two leaves an operation without its entry.
//! An operation whose entry cannot be written fails, and a value whose read cannot be
//! recorded is not returned.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use zlayer_secrets_core::audit::{
    self, Actor, AuditAction, AuditContext, AuditLog, AuditOutcome, AuditRecord, WriteKind,
    read_action, write_action,
};
use zlayer_secrets_core::{
    BatchSecretsStore, Result, RotationResult, Secret, SecretMetadata, SecretVersion, SecretsError,
    SecretsProvider, SecretsStore, VersionHistory, VersionedSecretsStore, WriteOp,
};

/// A store whose reads of values and writes are recorded in `log` (see the module).
pub struct Recorded<S> {
    inner: Arc<S>,
    log: Arc<dyn AuditLog>,
    /// Who operations are recorded as outside any `audit::scope`.
    actor: Actor,
}

impl<S> std::fmt::Debug for Recorded<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorded")
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

impl<S> Recorded<S> {
    /// `inner`, recorded in `log`; outside any `audit::scope` as the user running this
    /// process.
    pub fn new(inner: Arc<S>, log: Arc<dyn AuditLog>) -> Self {
        Self {
            inner,
            log,
            actor: Actor::default(),
        }
    }

    fn context(&self) -> AuditContext {
        audit::current().unwrap_or_else(|| AuditContext::new(self.actor.clone()))
    }

    async fn append(&self, ctx: &AuditContext, records: Vec<AuditRecord>) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        self.log
            .record(&ctx.actor, records)
            .await
            .map_err(|e| SecretsError::during("record the operation in the audit log", e))
    }

    /// Records the read of values of `scope` that ended with `result` (as `records` says,
    /// given the action), then returns `result`.
    async fn read<T>(
        &self,
        scope: &str,
        result: Result<T>,
        records: impl FnOnce(&Result<T>, AuditAction) -> Vec<AuditRecord>,
    ) -> Result<T> {
        let ctx = self.context();
        if let Some(action) = read_action(scope, ctx.purpose) {
            let records = records(&result, action);
            self.append(&ctx, records).await?;
        }
        result
    }

    /// Records the write of `kind` to `scope`/`name` that ended with `result` (the version
    /// it made, if `version` knows it), then returns `result`.
    async fn wrote<T>(
        &self,
        kind: WriteKind,
        scope: &str,
        name: &str,
        result: Result<T>,
        version: impl FnOnce(&T) -> Option<u32>,
    ) -> Result<T> {
        let ctx = self.context();
        let action = write_action(kind, scope, ctx.purpose);
        let record = match &result {
            Ok(done) => {
                AuditRecord::new(action, scope, name, AuditOutcome::Ok).with_version(version(done))
            }
            Err(e) => AuditRecord::failed(action, scope, name, e),
        };
        self.append(&ctx, vec![record]).await?;
        result
    }
}

/// The entry of a read of `scope`/`name` that ended with `result`.
fn read_record<T>(
    action: AuditAction,
    scope: &str,
    name: &str,
    version: Option<u32>,
    result: &Result<T>,
) -> AuditRecord {
    match result {
        Ok(_) => AuditRecord::new(action, scope, name, AuditOutcome::Ok),
        Err(e) => AuditRecord::failed(action, scope, name, e),
    }
    .with_version(version)
}

#[async_trait]
impl<S: VersionedSecretsStore + BatchSecretsStore + 'static> SecretsProvider for Recorded<S> {
    async fn get_secret(&self, scope: &str, name: &str) -> Result<Secret> {
        let result = self.inner.get_secret(scope, name).await;
        self.read(scope, result, |r, action| {
            vec![read_record(action, scope, name, None, r)]
        })
        .await
    }

    async fn get_secrets(&self, scope: &str, names: &[&str]) -> Result<HashMap<String, Secret>> {
        let result = self.inner.get_secrets(scope, names).await;
        self.read(scope, result, |r, action| match r {
            Ok(found) => names
                .iter()
                .map(|name| {
                    let outcome = if found.contains_key(*name) {
                        AuditOutcome::Ok
                    } else {
                        AuditOutcome::NotFound
                    };
                    AuditRecord::new(action, scope, name, outcome)
                })
                .collect(),
            Err(e) => names
                .iter()
                .map(|name| AuditRecord::failed(action, scope, name, e))
                .collect(),
        })
        .await
    }

    async fn list_secrets(&self, scope: &str) -> Result<Vec<SecretMetadata>> {
        self.inner.list_secrets(scope).await
    }

    async fn exists(&self, scope: &str, name: &str) -> Result<bool> {
        self.inner.exists(scope, name).await
    }
}

#[async_trait]
impl<S: VersionedSecretsStore + BatchSecretsStore + 'static> SecretsStore for Recorded<S> {
    async fn set_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<()> {
        let result = self.inner.set_secret(scope, name, value).await;
        self.wrote(WriteKind::Set, scope, name, result, |()| None)
            .await
    }

    async fn delete_secret(&self, scope: &str, name: &str) -> Result<()> {
        let result = self.inner.delete_secret(scope, name).await;
        self.wrote(WriteKind::Delete, scope, name, result, |()| None)
            .await
    }

    async fn create_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<u32> {
        let result = self.inner.create_secret(scope, name, value).await;
        self.wrote(WriteKind::Create, scope, name, result, |v| Some(*v))
            .await
    }

    async fn rotate_secret(
        &self,
        scope: &str,
        name: &str,
        value: &Secret,
    ) -> Result<RotationResult> {
        let result = self.inner.rotate_secret(scope, name, value).await;
        self.wrote(WriteKind::Rotate, scope, name, result, |r| {
            Some(r.new_version)
        })
        .await
    }
}

#[async_trait]
impl<S: VersionedSecretsStore + BatchSecretsStore + 'static> VersionedSecretsStore for Recorded<S> {
    async fn get_metadata(&self, scope: &str, name: &str) -> Result<SecretMetadata> {
        self.inner.get_metadata(scope, name).await
    }

    async fn write_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<u32> {
        let result = self.inner.write_secret(scope, name, value).await;
        self.wrote(WriteKind::Set, scope, name, result, |v| Some(*v))
            .await
    }

    async fn version_history(&self, scope: &str, name: &str) -> Result<VersionHistory> {
        self.inner.version_history(scope, name).await
    }

    async fn list_versions(&self, scope: &str, name: &str) -> Result<Vec<SecretVersion>> {
        self.inner.list_versions(scope, name).await
    }

    async fn get_secret_version(&self, scope: &str, name: &str, version: u32) -> Result<Secret> {
        let result = self.inner.get_secret_version(scope, name, version).await;
        self.read(scope, result, |r, action| {
            vec![read_record(action, scope, name, Some(version), r)]
        })
        .await
    }

    async fn rollback_secret(&self, scope: &str, name: &str, to: u32) -> Result<RotationResult> {
        let result = self.inner.rollback_secret(scope, name, to).await;
        self.wrote(WriteKind::Rollback, scope, name, result, |r| {
            Some(r.new_version)
        })
        .await
    }
}

/// A batch is recorded as one entry per operation (`import` for a write); when it fails,
/// each is recorded with the failure, although on a store without transactions some may
/// have been written.
#[async_trait]
impl<S: VersionedSecretsStore + BatchSecretsStore + 'static> BatchSecretsStore for Recorded<S> {
    async fn apply_batch(&self, ops: &[WriteOp]) -> Result<()> {
        let result = self.inner.apply_batch(ops).await;
        let ctx = self.context();
        let records = ops
            .iter()
            .map(|op| {
                let (kind, scope, name) = match op {
                    WriteOp::Set { scope, name, .. } => (WriteKind::BatchSet, scope, name),
                    WriteOp::Delete { scope, name } => (WriteKind::Delete, scope, name),
                };
                let action = write_action(kind, scope, ctx.purpose);
                match &result {
                    Ok(()) => AuditRecord::new(action, scope, name, AuditOutcome::Ok),
                    Err(e) => AuditRecord::failed(action, scope, name, e),
                }
            })
            .collect();
        self.append(&ctx, records).await?;
        result
    }

    fn is_atomic(&self) -> bool {
        self.inner.is_atomic()
    }
}

#[cfg(test)]
mod tests;
