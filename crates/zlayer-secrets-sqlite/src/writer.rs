//! The writer of the store: its one read-write connection, used from one thread at a time
//! behind a mutex, and every write. Every method is one transaction.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLockReadGuard};

use rusqlite::{Connection, Transaction, TransactionBehavior, params};
use zlayer_secrets_core::audit::{
    Actor, AuditAction, AuditContext, AuditOutcome, AuditRecord, PruneReport, WriteKind,
    write_action,
};
use zlayer_secrets_core::{
    Result, RotationResult, Secret, SecretsError, WriteOp, label, unix_now, validate_value,
};
use zlayer_secrets_crypto::EncryptionKey;

use crate::aad::value_aad;
use crate::audit;
use crate::error::{database, in_store};
use crate::keys::{Keys, SharedKeys};
use crate::reads::{check_target, current, current_unchecked, decrypt, not_found, stored_version};
use crate::recorder::ReadQueue;
use crate::{Durability, ReencryptReport, StoreOptions, fs, schema, seal};

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
    /// Whether this handle records its operations in the audit log.
    audit: bool,
    /// Whether commits are flushed to disk (`synchronous = FULL`).
    durable: bool,
    /// The entries of reads, waiting to be committed ([`flush_reads`](Self::flush_reads)).
    queue: Arc<ReadQueue>,
}

/// The entry of a write of `kind` to `scope`/`name` that committed `version`.
fn written(
    ctx: &AuditContext,
    kind: WriteKind,
    scope: &str,
    name: &str,
    version: Option<u32>,
) -> AuditRecord {
    AuditRecord::new(
        write_action(kind, scope, ctx.purpose),
        scope,
        name,
        AuditOutcome::Ok,
    )
    .with_version(version)
}

/// The entry of a write of `kind` to `scope`/`name` that failed with `error`.
fn refused(
    ctx: &AuditContext,
    kind: WriteKind,
    scope: &str,
    name: &str,
    error: &SecretsError,
) -> AuditRecord {
    AuditRecord::failed(write_action(kind, scope, ctx.purpose), scope, name, error)
}

impl Writer {
    /// Opens (creating if needed) the store at `path` with key-encryption key `kek`, checking
    /// `options` (those of the read connections too).
    pub(crate) fn open(
        path: &Path,
        kek: EncryptionKey,
        options: &StoreOptions,
        actor: &Actor,
    ) -> Result<Self> {
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
        let mut writer = Self {
            conn,
            keys: Arc::new(SharedKeys::new(keys)),
            retention: options.retention,
            path,
            audit: options.audit,
            durable: options.durability == Durability::Full,
            queue: Arc::default(),
        };
        writer
            .reconcile_audit(actor)
            .map_err(|e| in_store(&writer.path, e))?;
        Ok(writer)
    }

    /// Records, when this handle's audit setting differs from the one the store last had,
    /// that auditing was turned on or off, and keeps the new setting.
    fn reconcile_audit(&mut self, actor: &Actor) -> Result<()> {
        if audit::recorded_enabled(&self.conn)? == self.audit {
            return Ok(());
        }
        let enabled = self.audit;
        let (tx, keys) = self.write()?;
        if audit::recorded_enabled(&tx)? != enabled {
            audit::set_enabled(&tx, &keys, actor, enabled)?;
        }
        drop(keys);
        Self::commit(tx)
    }

    /// The queue of read entries this writer commits.
    pub(crate) fn queue(&self) -> &Arc<ReadQueue> {
        &self.queue
    }

    /// Appends `records` of `actor` to the audit log (after the entries of reads still
    /// queued) in a transaction of their own: entries given by a caller, and those of writes
    /// that failed.
    pub(crate) fn record(&mut self, actor: &Actor, records: Vec<AuditRecord>) -> Result<()> {
        if !self.audit || records.is_empty() {
            return Ok(());
        }
        self.flush_reads()?;
        self.light(|tx, keys| audit::append(tx, keys, actor, records))
    }

    /// Commits the entries of reads queued so far, in one transaction. If that fails they
    /// stay queued, and reads of values are refused until a commit succeeds.
    pub(crate) fn flush_reads(&mut self) -> Result<()> {
        let items = self.queue.take();
        if items.is_empty() {
            return Ok(());
        }
        match self.light(|tx, keys| audit::append_copies(tx, keys, &items)) {
            Ok(()) => {
                self.queue.committed();
                Ok(())
            }
            Err(e) => {
                self.queue.put_back(items);
                Err(e)
            }
        }
    }

    /// Runs `work` in a write transaction of audit entries only, committed without waiting
    /// for the disk even with [`Durability::Full`]: it survives a crash of the process, and
    /// reaches the disk with the next durable commit or checkpoint.
    fn light(&mut self, work: impl FnOnce(&Transaction<'_>, &Keys) -> Result<()>) -> Result<()> {
        let durable = self.durable;
        if durable {
            self.set_synchronous("NORMAL")?;
        }
        let result = (|| {
            let (tx, keys) = self.write()?;
            work(&tx, &keys)?;
            drop(keys);
            Self::commit(tx)
        })();
        if durable {
            let restored = self.set_synchronous("FULL");
            result?;
            restored
        } else {
            result
        }
    }

    fn set_synchronous(&self, value: &str) -> Result<()> {
        self.conn
            .pragma_update(None, "synchronous", value)
            .map_err(|e| database("setting `synchronous`", e))
    }

    /// Records `record` of a write that failed (best effort: the write's own error is what
    /// the caller sees).
    fn record_failure(&mut self, actor: &Actor, record: AuditRecord) {
        if let Err(e) = self.record(actor, vec![record]) {
            tracing::warn!(error = %e, "could not record a failed write in the audit log");
        }
    }

    /// Runs `work` in a write transaction and commits it together with the audit entries it
    /// returns; when it fails, records the entry `failed` makes of the error instead.
    fn audited<T>(
        &mut self,
        ctx: &AuditContext,
        work: impl FnOnce(&Transaction<'_>, &Keys, u32) -> Result<(T, Vec<AuditRecord>)>,
        failed: impl FnOnce(&SecretsError) -> Option<AuditRecord>,
    ) -> Result<T> {
        let retention = self.retention;
        let audit = self.audit;
        if audit {
            self.flush_reads()?;
        }
        let result = (|| {
            let (tx, keys) = self.write()?;
            let (value, records) = work(&tx, &keys, retention)?;
            if audit {
                audit::append(&tx, &keys, &ctx.actor, records)?;
            }
            drop(keys);
            Self::commit(tx)?;
            Ok(value)
        })();
        if let Err(e) = &result
            && let Some(record) = failed(e)
        {
            self.record_failure(&ctx.actor, record);
        }
        result
    }

    /// Prunes the audit log before `before_ms`, recording the prune as an entry of `actor`.
    pub(crate) fn prune_audit(&mut self, before_ms: i64, actor: &Actor) -> Result<PruneReport> {
        self.flush_reads()?;
        let (tx, keys) = self.write()?;
        let report = audit::prune(&tx, &keys, before_ms, actor)?;
        drop(keys);
        Self::commit(tx)?;
        Ok(report)
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

    pub(crate) fn set(
        &mut self,
        ctx: &AuditContext,
        scope: &str,
        name: &str,
        value: &Secret,
    ) -> Result<u32> {
        check_write(scope, name, value)?;
        self.audited(
            ctx,
            |tx, keys, retention| {
                let (_, version) =
                    Self::put(tx, keys, retention, scope, name, value.expose().as_bytes())?;
                Ok((
                    version,
                    vec![written(ctx, WriteKind::Set, scope, name, Some(version))],
                ))
            },
            |e| Some(refused(ctx, WriteKind::Set, scope, name, e)),
        )
    }

    /// Writes version 1 of a secret that does not exist, in the same `BEGIN IMMEDIATE`
    /// transaction as the check: of concurrent creates (threads or processes) exactly one
    /// commits, the others find the row and fail with [`SecretsError::AlreadyExists`].
    pub(crate) fn create(
        &mut self,
        ctx: &AuditContext,
        scope: &str,
        name: &str,
        value: &Secret,
    ) -> Result<u32> {
        check_write(scope, name, value)?;
        self.audited(
            ctx,
            |tx, keys, retention| {
                if current_unchecked(tx, scope, name)?.is_some() {
                    return Err(SecretsError::AlreadyExists {
                        name: label(scope, name),
                    });
                }
                let (_, version) =
                    Self::put(tx, keys, retention, scope, name, value.expose().as_bytes())?;
                Ok((
                    version,
                    vec![written(ctx, WriteKind::Create, scope, name, Some(version))],
                ))
            },
            |e| Some(refused(ctx, WriteKind::Create, scope, name, e)),
        )
    }

    pub(crate) fn rotate(
        &mut self,
        ctx: &AuditContext,
        scope: &str,
        name: &str,
        value: &Secret,
    ) -> Result<RotationResult> {
        check_write(scope, name, value)?;
        self.audited(
            ctx,
            |tx, keys, retention| {
                if current(tx, keys, scope, name)?.is_none() {
                    return Err(not_found(scope, name));
                }
                let (previous, new_version) =
                    Self::put(tx, keys, retention, scope, name, value.expose().as_bytes())?;
                Ok((
                    RotationResult {
                        previous_version: previous,
                        new_version,
                    },
                    vec![written(
                        ctx,
                        WriteKind::Rotate,
                        scope,
                        name,
                        Some(new_version),
                    )],
                ))
            },
            |e| Some(refused(ctx, WriteKind::Rotate, scope, name, e)),
        )
    }

    pub(crate) fn rollback(
        &mut self,
        ctx: &AuditContext,
        scope: &str,
        name: &str,
        to: u32,
    ) -> Result<RotationResult> {
        check_target(scope, name)?;
        self.audited(
            ctx,
            |tx, keys, retention| {
                let ciphertext = stored_version(tx, keys, scope, name, to)?;
                let old = decrypt(keys, scope, name, to, &ciphertext)?;
                let (previous, new_version) =
                    Self::put(tx, keys, retention, scope, name, old.expose().as_bytes())?;
                let record = written(ctx, WriteKind::Rollback, scope, name, Some(new_version))
                    .with_detail(format!("from version {to}"));
                Ok((
                    RotationResult {
                        previous_version: previous,
                        new_version,
                    },
                    vec![record],
                ))
            },
            |e| {
                Some(
                    refused(ctx, WriteKind::Rollback, scope, name, e)
                        .with_detail(format!("to version {to}")),
                )
            },
        )
    }

    fn remove(tx: &Transaction<'_>, scope: &str, name: &str) -> Result<bool> {
        // The versions go with it (ON DELETE CASCADE).
        let removed = tx
            .prepare_cached("DELETE FROM secrets WHERE scope = ?1 AND name = ?2")
            .and_then(|mut stmt| stmt.execute(params![scope, name]))
            .map_err(|e| database("deleting a secret", e))?;
        Ok(removed > 0)
    }

    pub(crate) fn delete(&mut self, ctx: &AuditContext, scope: &str, name: &str) -> Result<()> {
        check_target(scope, name)?;
        // A delete needs no key, but refuses a data key replaced under another key as every
        // write does.
        self.audited(
            ctx,
            |tx, _keys, _| {
                if !Self::remove(tx, scope, name)? {
                    return Err(not_found(scope, name));
                }
                Ok(((), vec![written(ctx, WriteKind::Delete, scope, name, None)]))
            },
            |e| Some(refused(ctx, WriteKind::Delete, scope, name, e)),
        )
    }

    /// Applies every operation in one transaction: all or nothing. Each operation is an
    /// entry of the audit log (`import` for a write, `delete` for a delete that found the
    /// secret).
    pub(crate) fn apply_batch(&mut self, ctx: &AuditContext, ops: &[WriteOp]) -> Result<()> {
        for op in ops {
            match op {
                WriteOp::Set { scope, name, value } => check_write(scope, name, value)?,
                WriteOp::Delete { scope, name } => check_target(scope, name)?,
            }
        }
        self.audited(
            ctx,
            |tx, keys, retention| {
                let mut records = Vec::with_capacity(ops.len());
                for op in ops {
                    match op {
                        WriteOp::Set { scope, name, value } => {
                            let (_, version) = Self::put(
                                tx,
                                keys,
                                retention,
                                scope,
                                name,
                                value.expose().as_bytes(),
                            )?;
                            records.push(written(
                                ctx,
                                WriteKind::BatchSet,
                                scope,
                                name,
                                Some(version),
                            ));
                        }
                        WriteOp::Delete { scope, name } => {
                            if Self::remove(tx, scope, name)? {
                                records.push(written(ctx, WriteKind::Delete, scope, name, None));
                            }
                        }
                    }
                }
                Ok(((), records))
            },
            |e| {
                let detail = format!(
                    "a batch of {} writes: {}",
                    ops.len(),
                    zlayer_secrets_core::audit::error_kind(e)
                );
                Some(AuditRecord {
                    action: AuditAction::Import,
                    scope: None,
                    name: None,
                    version: None,
                    outcome: AuditOutcome::of_error(e),
                    detail: Some(detail),
                })
            },
        )
    }

    /// Locks the store with `new_kek`. The keys stay write-locked from before the commit
    /// until the new key is adopted: a read connection that meanwhile finds a data key
    /// replaced by another process unwraps it with the key the store then has.
    pub(crate) fn rekey(&mut self, ctx: &AuditContext, new_kek: EncryptionKey) -> Result<()> {
        let audit = self.audit;
        if audit {
            self.flush_reads()?;
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| database("locking the database to re-key", e))?;
        let mut keys = self.keys.write();
        keys.rekey(&tx, &new_kek)?;
        if audit {
            audit::append(&tx, &keys, &ctx.actor, vec![key_rotation("re-key", None)])?;
        }
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
        ctx: &AuditContext,
        new_kek: EncryptionKey,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<ReencryptReport> {
        let audit = self.audit;
        if audit {
            self.flush_reads()?;
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| database("locking the database to re-encrypt", e))?;
        let keys = self.keys.for_write(&tx)?;
        let (versions, fresh) = keys.reencrypt_all(&tx, new_kek, progress)?;
        // The log moves to the new data key's audit key whether or not this handle records.
        let problem = audit::reseal(&tx, &keys, &fresh)?;
        if audit || problem.is_some() {
            audit::append(
                &tx,
                &fresh,
                &ctx.actor,
                vec![key_rotation("re-encryption", problem)],
            )?;
        }
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

/// The entry of a key change; `problem` is what verifying the log found before a
/// re-encryption re-sealed it.
fn key_rotation(
    what: &str,
    problem: Option<zlayer_secrets_core::audit::AuditProblem>,
) -> AuditRecord {
    let (outcome, detail) = match problem {
        None => (AuditOutcome::Ok, what.to_owned()),
        Some(p) => (
            AuditOutcome::Error,
            format!("{what}; before it, the audit log did not verify: {p}"),
        ),
    };
    AuditRecord {
        action: AuditAction::KeyRotation,
        scope: None,
        name: None,
        version: None,
        outcome,
        detail: Some(detail),
    }
}
