//! [`BatchSecretsStore`] for Vault: in order, with best-effort undo.
//!
//! KV v2 has no transactions. A batch is applied one operation at a time; before each one
//! the current value is read, so that when a later operation fails the earlier ones can be
//! taken back in reverse order: a changed secret gets its old value written back as a new
//! version, a created secret is removed, a deleted secret is written again (its old version
//! history cannot come back). An undo step is skipped, and reported, when someone else
//! changed that secret in the meantime. A crash or a lost connection in the middle of a
//! batch leaves the operations applied so far in place: batches are **not** crash-atomic,
//! and [`is_atomic`](BatchSecretsStore::is_atomic) says so.

use async_trait::async_trait;
use zlayer_secrets_core::{
    BatchSecretsStore, Result, Secret, SecretsError, WriteOp, validate_name, validate_scope,
};

use crate::VaultSecretsProvider;
use crate::store::{Written, label};

/// How to take back one applied operation.
enum Undo {
    /// The secret did not exist: remove it, if it is still at the version written.
    Remove {
        scope: String,
        name: String,
        written: u32,
    },
    /// The secret's current version had been deleted: delete the version written.
    DeleteVersion {
        scope: String,
        name: String,
        written: u32,
    },
    /// The secret had `value`: write it back, if it is still at the version written.
    Restore {
        scope: String,
        name: String,
        value: Secret,
        written: u32,
    },
    /// The secret was deleted while it had `value`: write it again, if still absent.
    Recreate {
        scope: String,
        name: String,
        value: Secret,
    },
}

impl Undo {
    fn label(&self) -> String {
        match self {
            Self::Remove { scope, name, .. }
            | Self::DeleteVersion { scope, name, .. }
            | Self::Restore { scope, name, .. }
            | Self::Recreate { scope, name, .. } => label(scope, name),
        }
    }
}

impl VaultSecretsProvider {
    /// Applies one operation and says how to take it back (`None`: it changed nothing).
    async fn apply_one(&self, op: &WriteOp) -> Result<Option<Undo>> {
        match op {
            WriteOp::Set { scope, name, value } => {
                let before = self.read_metadata(scope, name).await?;
                let previous = match &before {
                    Some(meta) if meta.is_live() => Some(
                        self.read_value(scope, name, Some(meta.current_version))
                            .await?,
                    ),
                    _ => None,
                };
                let written = self.write_any(scope, name, value).await?;
                let (scope, name) = (scope.clone(), name.clone());
                Ok(Some(match (before, previous) {
                    (None, _) => Undo::Remove {
                        scope,
                        name,
                        written,
                    },
                    (Some(_), Some(value)) => Undo::Restore {
                        scope,
                        name,
                        value,
                        written,
                    },
                    (Some(_), None) => Undo::DeleteVersion {
                        scope,
                        name,
                        written,
                    },
                }))
            }
            WriteOp::Delete { scope, name } => {
                let Some(meta) = self.read_metadata(scope, name).await? else {
                    return Ok(None);
                };
                let previous = if meta.is_live() {
                    Some(
                        self.read_value(scope, name, Some(meta.current_version))
                            .await?,
                    )
                } else {
                    None
                };
                self.destroy_all(scope, name).await?;
                Ok(previous.map(|value| Undo::Recreate {
                    scope: scope.clone(),
                    name: name.clone(),
                    value,
                }))
            }
        }
    }

    /// Takes back one operation; the error says why it could not.
    async fn undo_one(&self, undo: &Undo) -> Result<()> {
        let changed = |what: String| {
            SecretsError::Provider(format!(
                "{what} was changed by another writer in the meantime; left as it is"
            ))
        };
        match undo {
            Undo::Remove {
                scope,
                name,
                written,
            } => match self.read_metadata(scope, name).await? {
                Some(meta) if meta.current_version == *written => {
                    self.destroy_all(scope, name).await.map(drop)
                }
                None => Ok(()),
                Some(_) => Err(changed(label(scope, name))),
            },
            Undo::DeleteVersion {
                scope,
                name,
                written,
            } => match self.read_metadata(scope, name).await? {
                Some(meta) if meta.current_version == *written => {
                    self.delete_current_version(scope, name).await
                }
                _ => Err(changed(label(scope, name))),
            },
            Undo::Restore {
                scope,
                name,
                value,
                written,
            } => match self.write(scope, name, value, Some(*written)).await? {
                Written::Version(_) => Ok(()),
                Written::CasMismatch | Written::CasRequired => Err(changed(label(scope, name))),
            },
            Undo::Recreate { scope, name, value } => {
                match self.write(scope, name, value, Some(0)).await? {
                    Written::Version(_) => Ok(()),
                    Written::CasMismatch | Written::CasRequired => Err(changed(label(scope, name))),
                }
            }
        }
    }
}

#[async_trait]
impl BatchSecretsStore for VaultSecretsProvider {
    /// Applies the operations in order; on a failure, takes back the ones already applied
    /// where it can (see the module documentation) and returns the failure. When some could
    /// not be taken back the error is a [`SecretsError::Provider`] naming those secrets.
    /// Every scope and name is checked before anything is written.
    async fn apply_batch(&self, ops: &[WriteOp]) -> Result<()> {
        for op in ops {
            let (WriteOp::Set { scope, name, .. } | WriteOp::Delete { scope, name }) = op;
            validate_scope(scope)?;
            validate_name(name)?;
        }
        let mut undo_log = Vec::with_capacity(ops.len());
        for (index, op) in ops.iter().enumerate() {
            let failure = match self.apply_one(op).await {
                Ok(undo) => {
                    undo_log.extend(undo);
                    continue;
                }
                Err(e) => e,
            };
            let mut left = Vec::new();
            for undo in undo_log.iter().rev() {
                if let Err(e) = self.undo_one(undo).await {
                    left.push(format!("{} ({e})", undo.label()));
                }
            }
            let (WriteOp::Set { scope, name, .. } | WriteOp::Delete { scope, name }) = op;
            if left.is_empty() {
                tracing::warn!(
                    failed_at = index + 1,
                    of = ops.len(),
                    undone = undo_log.len(),
                    "a Vault batch failed; the operations before it were taken back"
                );
                return Err(failure);
            }
            return Err(SecretsError::Provider(format!(
                "batch failed at operation {} of {} ({}): {failure}; the operations before it \
                 could not all be taken back, these secrets may hold the batch's values: {}",
                index + 1,
                ops.len(),
                label(scope, name),
                left.join(", ")
            )));
        }
        Ok(())
    }

    /// Always `false`: KV v2 has no transactions.
    fn is_atomic(&self) -> bool {
        false
    }
}
