//! The writer of the store: its one read-write connection, used from one thread at a time
//! behind a mutex, and every write. Every method is one transaction.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLockReadGuard};

use rusqlite::{Connection, Transaction, TransactionBehavior, params};
use zlayer_secrets_core::{
    Result, RotationResult, Secret, SecretsError, WriteOp, label, unix_now, validate_value,
};
use zlayer_secrets_crypto::EncryptionKey;

use crate::aad::value_aad;
use crate::error::{database, in_store};
use crate::keys::{Keys, SharedKeys};
use crate::reads::{check_target, current, current_unchecked, decrypt, not_found, stored_version};
use crate::{ReencryptReport, StoreOptions, fs, schema, seal};

/// The longest busy timeout SQLite takes: `i32::MAX` milliseconds.
const MAX_BUSY_TIMEOUT_MS: u128 = i32::MAX as u128;

/// A write's target and value: a valid scope and name, and a value within the limit.
fn check_write(scope: &str, name: &str, value: &Secret) -> Result<()> {
    check_target(scope, name)?;
    validate_value(scope, name, value)
}

/// The blocking writer of a store.
pub(crate) struct Writer {
    conn: Connection,
    keys: Arc<SharedKeys>,
    retention: u32,
    path: PathBuf,
}

impl Writer {
    /// Opens (creating if needed) the store at `path` with key-encryption key `kek`, checking
    /// `options` (those of the read connections too).
    pub(crate) fn open(path: &Path, kek: EncryptionKey, options: &StoreOptions) -> Result<Self> {
        if options.retention == 0 {
            return Err(SecretsError::InvalidInput {
                what: "version retention 0".to_owned(),
                reason: "it must be at least 1 (the current version)".to_owned(),
            });
        }
        if options.busy_timeout.as_millis() > MAX_BUSY_TIMEOUT_MS {
            return Err(SecretsError::InvalidInput {
                what: format!("busy timeout of {} s", options.busy_timeout.as_secs()),
                reason: "it is longer than SQLite accepts (about 24 days)".to_owned(),
            });
        }
        if options.read_connections == 0 {
            return Err(SecretsError::InvalidInput {
                what: "read connections 0".to_owned(),
                reason: "it must be at least 1".to_owned(),
            });
        }
        let path = fs::resolve(path)?;
        fs::prepare(&path)?;
        let in_file = |err| in_store(&path, err);
        let mut conn = Connection::open(&path).map_err(|e| in_file(database("opening", e)))?;
        schema::preflight(&conn, options).map_err(in_file)?;
        schema::configure(&conn, options).map_err(in_file)?;
        // The steps that need no key, then (once the key has unlocked the data key, so a
        // wrong key writes nothing) the ones that compute authenticators.
        schema::migrate(&mut conn, None).map_err(in_file)?;
        let mut keys = Keys::load_or_init(&mut conn, kek).map_err(in_file)?;
        schema::migrate(&mut conn, Some(&mut keys)).map_err(in_file)?;
        tracing::debug!(path = %path.display(), "opened the secrets store");
        Ok(Self {
            conn,
            keys: Arc::new(SharedKeys::new(keys)),
            retention: options.retention,
            path,
        })
    }

    /// The keys, shared with the store's read connections.
    pub(crate) fn keys(&self) -> &Arc<SharedKeys> {
        &self.keys
    }

    /// The database file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// A write transaction (`BEGIN IMMEDIATE`: the write lock is taken at once, so two
    /// writers queue instead of failing on upgrade) with the current data key.
    fn write(&mut self) -> Result<(Transaction<'_>, RwLockReadGuard<'_, Keys>)> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| database("locking the database for a write", e))?;
        let keys = self.keys.for_write(&tx)?;
        Ok((tx, keys))
    }

    /// Writes `value` as the next version inside `tx`; returns (previous, new) versions.
    fn put(
        tx: &Transaction<'_>,
        keys: &Keys,
        retention: u32,
        scope: &str,
        name: &str,
        value: &[u8],
    ) -> Result<(Option<u32>, u32)> {
        let now = unix_now();
        // A pointer rolled back outside zlayer-secrets fails here, as the tamper error, and
        // never reaches the insert below (whose version would already exist).
        let (id, previous, version) = if let Some(cur) = current(tx, keys, scope, name)? {
            let next = cur
                .version
                .checked_add(1)
                .ok_or_else(|| SecretsError::VersionLimit {
                    scope: scope.to_owned(),
                    name: name.to_owned(),
                })?;
            let mac = keys.seal_current(scope, name, next)?;
            tx.prepare_cached(
                "UPDATE secrets SET version = ?1, updated_at = ?2, version_mac = ?3 WHERE id = ?4",
            )
            .and_then(|mut stmt| stmt.execute(params![next, now, mac, cur.id]))
            .map_err(|e| database("updating a secret", e))?;
            (cur.id, Some(cur.version), next)
        } else {
            let mac = keys.seal_current(scope, name, 1)?;
            tx.prepare_cached(
                "INSERT INTO secrets (scope, name, version, created_at, updated_at, version_mac)
                 VALUES (?1, ?2, 1, ?3, ?3, ?4)",
            )
            .and_then(|mut stmt| stmt.execute(params![scope, name, now, mac]))
            .map_err(|e| database("creating a secret", e))?;
            (tx.last_insert_rowid(), None, 1)
        };
        let ciphertext = seal::seal(keys.dek(), &value_aad(scope, name, version), value)?;
        tx.prepare_cached(
            "INSERT INTO secret_versions (secret_id, version, created_at, ciphertext)
             VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut stmt| stmt.execute(params![id, version, now, ciphertext]))
        .map_err(|e| database("storing a secret version", e))?;
        if let Some(oldest_kept) = version.checked_sub(retention) {
            tx.prepare_cached("DELETE FROM secret_versions WHERE secret_id = ?1 AND version <= ?2")
                .and_then(|mut stmt| stmt.execute(params![id, oldest_kept]))
                .map_err(|e| database("pruning old versions", e))?;
        }
        Ok((previous, version))
    }

    fn commit(tx: Transaction<'_>) -> Result<()> {
        tx.commit().map_err(|e| database("committing a write", e))
    }

    pub(crate) fn set(&mut self, scope: &str, name: &str, value: &Secret) -> Result<u32> {
        check_write(scope, name, value)?;
        let retention = self.retention;
        let (tx, keys) = self.write()?;
        let (_, version) = Self::put(
            &tx,
            &keys,
            retention,
            scope,
            name,
            value.expose().as_bytes(),
        )?;
        Self::commit(tx)?;
        Ok(version)
    }

    /// Writes version 1 of a secret that does not exist, in the same `BEGIN IMMEDIATE`
    /// transaction as the check: of concurrent creates (threads or processes) exactly one
    /// commits, the others find the row and fail with [`SecretsError::AlreadyExists`].
    pub(crate) fn create(&mut self, scope: &str, name: &str, value: &Secret) -> Result<u32> {
        check_write(scope, name, value)?;
        let retention = self.retention;
        let (tx, keys) = self.write()?;
        if current_unchecked(&tx, scope, name)?.is_some() {
            return Err(SecretsError::AlreadyExists {
                name: label(scope, name),
            });
        }
        let (_, version) = Self::put(
            &tx,
            &keys,
            retention,
            scope,
            name,
            value.expose().as_bytes(),
        )?;
        Self::commit(tx)?;
        Ok(version)
    }

    pub(crate) fn rotate(
        &mut self,
        scope: &str,
        name: &str,
        value: &Secret,
    ) -> Result<RotationResult> {
        check_write(scope, name, value)?;
        let retention = self.retention;
        let (tx, keys) = self.write()?;
        if current(&tx, &keys, scope, name)?.is_none() {
            return Err(not_found(scope, name));
        }
        let (previous, new_version) = Self::put(
            &tx,
            &keys,
            retention,
            scope,
            name,
            value.expose().as_bytes(),
        )?;
        Self::commit(tx)?;
        Ok(RotationResult {
            previous_version: previous,
            new_version,
        })
    }

    pub(crate) fn rollback(&mut self, scope: &str, name: &str, to: u32) -> Result<RotationResult> {
        check_target(scope, name)?;
        let retention = self.retention;
        let (tx, keys) = self.write()?;
        let ciphertext = stored_version(&tx, &keys, scope, name, to)?;
        let old = decrypt(&keys, scope, name, to, &ciphertext)?;
        let (previous, new_version) =
            Self::put(&tx, &keys, retention, scope, name, old.expose().as_bytes())?;
        Self::commit(tx)?;
        Ok(RotationResult {
            previous_version: previous,
            new_version,
        })
    }

    fn remove(tx: &Transaction<'_>, scope: &str, name: &str) -> Result<bool> {
        // The versions go with it (ON DELETE CASCADE).
        let removed = tx
            .prepare_cached("DELETE FROM secrets WHERE scope = ?1 AND name = ?2")
            .and_then(|mut stmt| stmt.execute(params![scope, name]))
            .map_err(|e| database("deleting a secret", e))?;
        Ok(removed > 0)
    }

    pub(crate) fn delete(&mut self, scope: &str, name: &str) -> Result<()> {
        check_target(scope, name)?;
        // A delete needs no key, but refuses a data key replaced under another key as every
        // write does.
        let (tx, _keys) = self.write()?;
        if !Self::remove(&tx, scope, name)? {
            return Err(not_found(scope, name));
        }
        Self::commit(tx)
    }

    /// Applies every operation in one transaction: all or nothing.
    pub(crate) fn apply_batch(&mut self, ops: &[WriteOp]) -> Result<()> {
        for op in ops {
            match op {
                WriteOp::Set { scope, name, value } => check_write(scope, name, value)?,
                WriteOp::Delete { scope, name } => check_target(scope, name)?,
            }
        }
        let retention = self.retention;
        let (tx, keys) = self.write()?;
        for op in ops {
            match op {
                WriteOp::Set { scope, name, value } => {
                    Self::put(
                        &tx,
                        &keys,
                        retention,
                        scope,
                        name,
                        value.expose().as_bytes(),
                    )?;
                }
                WriteOp::Delete { scope, name } => {
                    Self::remove(&tx, scope, name)?;
                }
            }
        }
        Self::commit(tx)
    }

    /// Locks the store with `new_kek`. The keys stay write-locked from before the commit
    /// until the new key is adopted: a read connection that meanwhile finds a data key
    /// replaced by another process unwraps it with the key the store then has.
    pub(crate) fn rekey(&mut self, new_kek: EncryptionKey) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| database("locking the database to re-key", e))?;
        let mut keys = self.keys.write();
        keys.rekey(&tx, &new_kek)?;
        tx.commit()
            .map_err(|e| database("committing the re-key", e))?;
        keys.adopt_kek(new_kek);
        drop(keys);
        self.checkpoint();
        Ok(())
    }

    /// Re-encrypts everything under a new data key wrapped by `new_kek`. Reads go on with
    /// the old data key while it runs; the keys are write-locked for the commit and the
    /// switch to the new data key, so every read transaction that starts after the commit
    /// finds the new keys in place, and one whose snapshot predates it starts again.
    pub(crate) fn reencrypt_all(
        &mut self,
        new_kek: EncryptionKey,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<ReencryptReport> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| database("locking the database to re-encrypt", e))?;
        let keys = self.keys.for_write(&tx)?;
        let (versions, fresh) = keys.reencrypt_all(&tx, new_kek, progress)?;
        drop(keys);
        let mut keys = self.keys.write();
        tx.commit()
            .map_err(|e| database("committing the re-encryption", e))?;
        *keys = fresh;
        let data_key_generation = keys.generation();
        drop(keys);
        self.checkpoint();
        Ok(ReencryptReport {
            versions,
            data_key_generation,
        })
    }

    /// Copies the write-ahead log into the database and truncates it, so that old key
    /// material does not linger in the log. Best effort: a reader in another process can
    /// hold the log open, in which case a later checkpoint does it.
    fn checkpoint(&self) {
        if let Err(e) = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        {
            tracing::debug!(error = %e, "checkpoint after re-keying did not complete");
        }
    }
}
