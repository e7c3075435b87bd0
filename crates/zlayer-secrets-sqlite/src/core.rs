//! The blocking core of the store: one SQLite connection and the keys, used from one thread
//! at a time behind a mutex. Every method is one transaction.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use zlayer_secrets_core::{
    Result, RotationResult, Secret, SecretMetadata, SecretVersion, SecretsError, TamperedRecord,
    WriteOp, label, unix_now, validate_name, validate_scope, validate_value,
};
use zlayer_secrets_crypto::EncryptionKey;

use crate::aad::value_aad;
use crate::error::{database, in_store};
use crate::keys::Keys;
use crate::{KeyInfo, ReencryptReport, StoreOptions, fs, schema, seal};

/// The longest busy timeout SQLite takes: `i32::MAX` milliseconds.
const MAX_BUSY_TIMEOUT_MS: u128 = i32::MAX as u128;

fn not_found(scope: &str, name: &str) -> SecretsError {
    SecretsError::NotFound {
        name: label(scope, name),
    }
}

fn check_target(scope: &str, name: &str) -> Result<()> {
    validate_scope(scope)?;
    validate_name(name)
}

/// A write's target and value: a valid scope and name, and a value within the limit.
fn check_write(scope: &str, name: &str, value: &Secret) -> Result<()> {
    check_target(scope, name)?;
    validate_value(scope, name, value)
}

/// The current row of a secret.
struct Current {
    id: i64,
    version: u32,
    /// The authenticator of `version` as the current version ([`Keys::seal_current`]).
    mac: Vec<u8>,
}

/// The row of a secret as stored, its pointer not yet checked: only for what does not
/// depend on which version is current (existence, deletion).
fn current_unchecked(tx: &Connection, scope: &str, name: &str) -> Result<Option<Current>> {
    tx.prepare_cached("SELECT id, version, version_mac FROM secrets WHERE scope = ?1 AND name = ?2")
        .and_then(|mut stmt| {
            stmt.query_row(params![scope, name], |row| {
                Ok(Current {
                    id: row.get(0)?,
                    version: row.get(1)?,
                    mac: row.get(2)?,
                })
            })
            .optional()
        })
        .map_err(|e| database("looking up a secret", e))
}

/// The row of a secret, its current version authenticated: [`SecretsError::Tampered`] if the
/// pointer was changed outside zlayer-secrets.
fn current(tx: &Connection, keys: &Keys, scope: &str, name: &str) -> Result<Option<Current>> {
    let cur = current_unchecked(tx, scope, name)?;
    if let Some(cur) = &cur {
        keys.check_current(scope, name, cur.version, &cur.mac)?;
    }
    Ok(cur)
}

/// The error for a current version whose stored value is missing (the store never prunes the
/// current version, so only a change outside zlayer-secrets can remove it).
fn current_value_missing(scope: &str, name: &str, version: u32) -> SecretsError {
    SecretsError::Tampered {
        scope: scope.to_owned(),
        name: name.to_owned(),
        record: TamperedRecord::MissingValue { version },
    }
}

/// Metadata from a row of `name, created_at, updated_at, version, version_mac`, with the
/// authenticator.
fn metadata_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(SecretMetadata, Vec<u8>)> {
    Ok((
        SecretMetadata {
            name: row.get(0)?,
            created_at: row.get(1)?,
            updated_at: row.get(2)?,
            version: row.get(3)?,
        },
        row.get(4)?,
    ))
}

/// The blocking store.
pub(crate) struct Core {
    conn: Connection,
    keys: Keys,
    retention: u32,
    path: PathBuf,
}

impl Core {
    /// Opens (creating if needed) the store at `path` with key-encryption key `kek`.
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
            keys,
            retention: options.retention,
            path,
        })
    }

    /// The database file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// A read transaction with the current data key.
    fn read(&mut self) -> Result<(Transaction<'_>, &Keys)> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(|e| database("starting a read", e))?;
        self.keys.refresh(&tx)?;
        Ok((tx, &self.keys))
    }

    /// A write transaction (`BEGIN IMMEDIATE`: the write lock is taken at once, so two
    /// writers queue instead of failing on upgrade) with the current data key.
    fn write(&mut self) -> Result<(Transaction<'_>, &Keys)> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| database("locking the database for a write", e))?;
        self.keys.refresh(&tx)?;
        Ok((tx, &self.keys))
    }

    fn decrypt(
        keys: &Keys,
        scope: &str,
        name: &str,
        version: u32,
        ciphertext: &[u8],
    ) -> Result<Secret> {
        let mut plain = seal::open(keys.dek(), &value_aad(scope, name, version), ciphertext)
            .ok_or_else(|| {
                SecretsError::Decryption(format!(
                    "version {version} of {} does not decrypt: the stored value was altered or \
                     copied from another secret or version",
                    label(scope, name)
                ))
            })?;
        let bytes = std::mem::take(&mut *plain);
        String::from_utf8(bytes).map(Secret::new).map_err(|e| {
            zeroize::Zeroize::zeroize(&mut e.into_bytes());
            SecretsError::Decryption(format!(
                "version {version} of {} decrypted to bytes that are not UTF-8",
                label(scope, name)
            ))
        })
    }

    pub(crate) fn get(&mut self, scope: &str, name: &str) -> Result<Secret> {
        check_target(scope, name)?;
        let (tx, keys) = self.read()?;
        let row: Option<(u32, Vec<u8>, Option<Vec<u8>>)> = tx
            .prepare_cached(
                "SELECT s.version, s.version_mac, v.ciphertext FROM secrets s
                 LEFT JOIN secret_versions v ON v.secret_id = s.id AND v.version = s.version
                 WHERE s.scope = ?1 AND s.name = ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![scope, name], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })
                .optional()
            })
            .map_err(|e| database("reading a secret", e))?;
        let (version, mac, ciphertext) = row.ok_or_else(|| not_found(scope, name))?;
        keys.check_current(scope, name, version, &mac)?;
        let ciphertext = ciphertext.ok_or_else(|| current_value_missing(scope, name, version))?;
        Self::decrypt(keys, scope, name, version, &ciphertext)
    }

    /// The current values of `names` in `scope`, in one query.
    pub(crate) fn get_many(
        &mut self,
        scope: &str,
        names: &[String],
    ) -> Result<HashMap<String, Secret>> {
        validate_scope(scope)?;
        for name in names {
            validate_name(name)?;
        }
        if names.is_empty() {
            return Ok(HashMap::new());
        }
        let names_json = serde_json::to_string(names).map_err(|e| SecretsError::Database {
            operation: "encoding the list of names".to_owned(),
            path: None,
            source: Box::new(e),
        })?;
        let (tx, keys) = self.read()?;
        let mut stmt = tx
            .prepare_cached(
                "SELECT s.name, s.version, s.version_mac, v.ciphertext FROM secrets s
                 LEFT JOIN secret_versions v ON v.secret_id = s.id AND v.version = s.version
                 WHERE s.scope = ?1 AND s.name IN (SELECT value FROM json_each(?2))",
            )
            .map_err(|e| database("preparing a batch read", e))?;
        let rows = stmt
            .query_map(params![scope, names_json], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, u32>(1)?,
                    row.get::<_, Vec<u8>>(2)?,
                    row.get::<_, Option<Vec<u8>>>(3)?,
                ))
            })
            .map_err(|e| database("reading secrets", e))?;
        let mut out = HashMap::with_capacity(names.len());
        for row in rows {
            let (name, version, mac, ciphertext) =
                row.map_err(|e| database("reading secrets", e))?;
            keys.check_current(scope, &name, version, &mac)?;
            let ciphertext =
                ciphertext.ok_or_else(|| current_value_missing(scope, &name, version))?;
            let value = Self::decrypt(keys, scope, &name, version, &ciphertext)?;
            out.insert(name, value);
        }
        Ok(out)
    }

    /// The secrets of `scope`, each one's current version authenticated.
    pub(crate) fn list(&mut self, scope: &str) -> Result<Vec<SecretMetadata>> {
        validate_scope(scope)?;
        let (tx, keys) = self.read()?;
        let mut stmt = tx
            .prepare_cached(
                "SELECT name, created_at, updated_at, version, version_mac FROM secrets
                 WHERE scope = ?1 ORDER BY name",
            )
            .map_err(|e| database("preparing a listing", e))?;
        let rows = stmt
            .query_map(params![scope], metadata_row)
            .map_err(|e| database("listing secrets", e))?;
        let mut out = Vec::new();
        for row in rows {
            let (meta, mac) = row.map_err(|e| database("listing secrets", e))?;
            keys.check_current(scope, &meta.name, meta.version, &mac)?;
            out.push(meta);
        }
        Ok(out)
    }

    pub(crate) fn metadata(&mut self, scope: &str, name: &str) -> Result<SecretMetadata> {
        check_target(scope, name)?;
        let (tx, keys) = self.read()?;
        let (meta, mac) = tx
            .prepare_cached(
                "SELECT name, created_at, updated_at, version, version_mac FROM secrets
                 WHERE scope = ?1 AND name = ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![scope, name], metadata_row)
                    .optional()
            })
            .map_err(|e| database("reading a secret's metadata", e))?
            .ok_or_else(|| not_found(scope, name))?;
        keys.check_current(scope, name, meta.version, &mac)?;
        Ok(meta)
    }

    pub(crate) fn exists(&mut self, scope: &str, name: &str) -> Result<bool> {
        check_target(scope, name)?;
        Ok(current_unchecked(&self.conn, scope, name)?.is_some())
    }

    pub(crate) fn list_versions(&mut self, scope: &str, name: &str) -> Result<Vec<SecretVersion>> {
        check_target(scope, name)?;
        let (tx, keys) = self.read()?;
        let cur = current(&tx, keys, scope, name)?.ok_or_else(|| not_found(scope, name))?;
        let mut stmt = tx
            .prepare_cached(
                "SELECT version, created_at FROM secret_versions
                 WHERE secret_id = ?1 ORDER BY version",
            )
            .map_err(|e| database("preparing a version listing", e))?;
        let rows = stmt
            .query_map(params![cur.id], |row| {
                Ok(SecretVersion {
                    version: row.get(0)?,
                    created_at: row.get(1)?,
                })
            })
            .map_err(|e| database("listing versions", e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| database("listing versions", e))
    }

    pub(crate) fn get_version(&mut self, scope: &str, name: &str, version: u32) -> Result<Secret> {
        check_target(scope, name)?;
        let (tx, keys) = self.read()?;
        let ciphertext = stored_version(&tx, keys, scope, name, version)?;
        Self::decrypt(keys, scope, name, version, &ciphertext)
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
        let (_, version) = Self::put(&tx, keys, retention, scope, name, value.expose().as_bytes())?;
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
        let (_, version) = Self::put(&tx, keys, retention, scope, name, value.expose().as_bytes())?;
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
        if current(&tx, keys, scope, name)?.is_none() {
            return Err(not_found(scope, name));
        }
        let (previous, new_version) =
            Self::put(&tx, keys, retention, scope, name, value.expose().as_bytes())?;
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
        let ciphertext = stored_version(&tx, keys, scope, name, to)?;
        let old = Self::decrypt(keys, scope, name, to, &ciphertext)?;
        let (previous, new_version) =
            Self::put(&tx, keys, retention, scope, name, old.expose().as_bytes())?;
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
        let (tx, _) = self.write()?;
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
                    Self::put(&tx, keys, retention, scope, name, value.expose().as_bytes())?;
                }
                WriteOp::Delete { scope, name } => {
                    Self::remove(&tx, scope, name)?;
                }
            }
        }
        Self::commit(tx)
    }

    pub(crate) fn rekey(&mut self, new_kek: EncryptionKey) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| database("locking the database to re-key", e))?;
        self.keys.rekey(&tx, &new_kek)?;
        tx.commit()
            .map_err(|e| database("committing the re-key", e))?;
        self.keys.adopt_kek(new_kek);
        self.checkpoint();
        Ok(())
    }

    pub(crate) fn reencrypt_all(
        &mut self,
        new_kek: EncryptionKey,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<ReencryptReport> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| database("locking the database to re-encrypt", e))?;
        let (versions, keys) = self.keys.reencrypt_all(&tx, new_kek, progress)?;
        tx.commit()
            .map_err(|e| database("committing the re-encryption", e))?;
        self.keys = keys;
        self.checkpoint();
        Ok(ReencryptReport {
            versions,
            data_key_generation: self.keys.generation(),
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

    pub(crate) fn key_info(&mut self) -> Result<KeyInfo> {
        let schema_version = schema::current_version(&self.conn)?;
        let (tx, _) = self.read()?;
        tx.query_row(
            "SELECT kek_fingerprint, dek_generation, store_id, created_at, rekeyed_at,
                    reencrypted_at
             FROM store_meta WHERE id = 1",
            [],
            |row| {
                Ok(KeyInfo {
                    fingerprint: row.get(0)?,
                    data_key_generation: row.get(1)?,
                    store_id: hex::encode(row.get::<_, Vec<u8>>(2)?),
                    created_at: row.get(3)?,
                    rekeyed_at: row.get(4)?,
                    reencrypted_at: row.get(5)?,
                    schema_version,
                })
            },
        )
        .map_err(|e| database("reading the store's key record", e))
    }
}

/// The ciphertext of one retained version, or a `NotFound` naming what is retained.
fn stored_version(
    tx: &Transaction<'_>,
    keys: &Keys,
    scope: &str,
    name: &str,
    version: u32,
) -> Result<Vec<u8>> {
    let cur = current(tx, keys, scope, name)?.ok_or_else(|| not_found(scope, name))?;
    let ciphertext: Option<Vec<u8>> = tx
        .prepare_cached(
            "SELECT ciphertext FROM secret_versions WHERE secret_id = ?1 AND version = ?2",
        )
        .and_then(|mut stmt| {
            stmt.query_row(params![cur.id, version], |row| row.get(0))
                .optional()
        })
        .map_err(|e| database("reading a secret version", e))?;
    ciphertext.ok_or_else(|| {
        let retained: Option<(u32, u32)> = tx
            .query_row(
                "SELECT min(version), max(version) FROM secret_versions WHERE secret_id = ?1",
                params![cur.id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .ok();
        let what = match retained {
            Some((lo, hi)) => format!(
                "version {version} of {} (versions {lo} to {hi} are kept)",
                label(scope, name)
            ),
            None => format!("version {version} of {}", label(scope, name)),
        };
        SecretsError::NotFound { name: what }
    })
}
