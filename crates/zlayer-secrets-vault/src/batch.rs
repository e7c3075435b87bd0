//! [`BatchSecretsStore`] for Vault: in order, with best-effort undo.
//!
//! KV v2 has no transactions. A batch is applied one operation at a time; before each one
//! the current version is read whole (every field, as the server holds it, whether or not
//! it has a text `value`), so that when a later operation fails the earlier ones can be
//! taken back in reverse order: a changed secret gets its old fields written back as a new
//! version, a created secret is removed, a deleted secret is written again (its old version
//! history cannot come back). An undo step is skipped, and reported, when someone else
//! changed that secret in the meantime. A crash or a lost connection in the middle of a
//! batch leaves the operations applied so far in place: batches are **not** crash-atomic,
//! and [`is_atomic`](BatchSecretsStore::is_atomic) says so.

use async_trait::async_trait;
use zlayer_secrets_core::{
    BatchSecretsStore, Result, SecretsError, WriteOp, label, validate_name, validate_scope,
    validate_value,
};

use crate::VaultSecretsProvider;
use crate::wire::{Current, SecretBuf};
use crate::writes::Written;

/// How many times a set inside a batch starts over after losing its check-and-set.
const SET_ATTEMPTS: usize = 10;

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
    /// The secret held `fields`: write them back, if it is still at the version written.
    Restore {
        scope: String,
        name: String,
        fields: SecretBuf,
        written: u32,
    },
    /// The secret was deleted while it held `fields`: write them again, if still absent.
    Recreate {
        scope: String,
        name: String,
        fields: SecretBuf,
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
                for _ in 0..SET_ATTEMPTS {
                    let before = self.read_current(scope, name, None).await?;
                    let written = match self.write_over(scope, name, value, &before).await? {
                        Written::Version(v) => v,
                        Written::CasMismatch | Written::CasRequired => continue,
                    };
                    let (scope, name) = (scope.clone(), name.clone());
                    return Ok(Some(match before {
                        Current::Absent => Undo::Remove {
                            scope,
                            name,
                            written,
                        },
                        Current::Gone { .. } => Undo::DeleteVersion {
                            scope,
                            name,
                            written,
                        },
                        Current::Live { fields, .. } => Undo::Restore {
                            scope,
                            name,
                            fields,
                            written,
                        },
                    }));
                }
                Err(SecretsError::Conflict {
                    scope: scope.clone(),
                    name: name.clone(),
                    expected: 0,
                })
            }
            WriteOp::Delete { scope, name } => {
                if self.read_metadata(scope, name).await?.is_none() {
                    return Ok(None);
                }
                let before = self.read_current(scope, name, None).await?;
                self.destroy_all(scope, name).await?;
                Ok(match before {
                    Current::Live { fields, .. } => Some(Undo::Recreate {
                        scope: scope.clone(),
                        name: name.clone(),
                        fields,
                    }),
                    Current::Absent | Current::Gone { .. } => None,
                })
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
                fields,
                written,
            } => match self.write_fields(scope, name, fields, *written).await? {
                Written::Version(_) => Ok(()),
                Written::CasMismatch | Written::CasRequired => Err(changed(label(scope, name))),
            },
            Undo::Recreate {
                scope,
                name,
                fields,
            } => match self.write_fields(scope, name, fields, 0).await? {
                Written::Version(_) => Ok(()),
                Written::CasMismatch | Written::CasRequired => Err(changed(label(scope, name))),
            },
        }
    }
}

#[async_trait]
impl BatchSecretsStore for VaultSecretsProvider {
    /// Applies the operations in order; on a failure, takes back the ones already applied
    /// where it can (see the module documentation) and returns the failure. When some could
    /// not be taken back the error is a [`SecretsError::BatchIncomplete`] naming those
    /// secrets.
    /// Every scope, name and value is checked before anything is written.
    async fn apply_batch(&self, ops: &[WriteOp]) -> Result<()> {
        for op in ops {
            let (WriteOp::Set { scope, name, .. } | WriteOp::Delete { scope, name }) = op;
            validate_scope(scope)?;
            validate_name(name)?;
            if let WriteOp::Set { value, .. } = op {
                validate_value(scope, name, value)?;
            }
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
                    left.push((undo.label(), e));
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
            return Err(SecretsError::BatchIncomplete {
                failed_at: u32::try_from(index + 1).unwrap_or(u32::MAX),
                total: u32::try_from(ops.len()).unwrap_or(u32::MAX),
                scope: scope.clone(),
                name: name.clone(),
                source: Box::new(failure),
                not_undone: left,
            });
        }
        Ok(())
    }

    /// Always `false`: KV v2 has no transactions.
    fn is_atomic(&self) -> bool {
        false
    }
}
