//! [`PersistentSecretsStore`]: the async face of the blocking [`Writer`] and [`Readers`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use zlayer_secrets_core::audit::{
    self, Actor, AuditAction, AuditContext, AuditEntry, AuditFilter, AuditLog, AuditOutcome,
    AuditRecord, AuditVerification, PruneReport,
};
use zlayer_secrets_core::blocking::run_blocking;
use zlayer_secrets_core::{
    BatchSecretsStore, Result, RotationResult, Secret, SecretMetadata, SecretVersion,
    SecretsProvider, SecretsStore, VersionedSecretsStore, WriteOp, validate_scope,
};
use zlayer_secrets_crypto::EncryptionKey;

use crate::audit::{Pending, now_ms};
use crate::error::in_store;
use crate::keys::Keys;
use crate::readers::Readers;
use crate::reads::{self, check_target};
use crate::recorder::{Flusher, ReadQueue};
use crate::writer::Writer;
use crate::{KeyInfo, ReencryptReport, StoreOptions};
use zlayer_secrets_core::audit::read_action;

/// Runs blocking database work off the async worker threads (see
/// [`run_blocking`](zlayer_secrets_core::blocking::run_blocking)).
async fn blocking<T, F>(work: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    run_blocking("the database task", work).await?
}

pub(crate) fn lock(writer: &Mutex<Writer>) -> MutexGuard<'_, Writer> {
    // A panic while the lock was held unwound through the open transaction, whose drop
    // rolled it back: the connection is consistent, so the poison flag can be ignored.
    writer
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A [`SecretsStore`] that keeps secrets encrypted in a SQLite database.
///
/// Every value is encrypted with XChaCha20-Poly1305 under the store's data key, with
/// associated data binding it to its scope, name and version; the data key is kept wrapped
/// by the key given to [`open`](Self::open). See the [crate documentation](crate) for the
/// durability, concurrency and re-keying guarantees.
///
/// Writes go through one connection, one at a time; reads through a pool of up to
/// [`StoreOptions::read_connections`] more, in parallel with each other and with the write
/// under way (WAL mode). A read sees every write that returned before it started.
///
/// Cloning is cheap and shares the connections.
#[derive(Clone)]
pub struct PersistentSecretsStore {
    writer: Arc<Mutex<Writer>>,
    readers: Arc<Readers>,
    path: PathBuf,
    /// Whether this handle records its operations ([`StoreOptions::audit`]).
    audit: bool,
    /// Who operations are recorded as outside any `audit::scope` ([`StoreOptions::actor`]).
    actor: Arc<Actor>,
    /// The entries of reads, committed by the flusher.
    queue: Arc<ReadQueue>,
    /// The flusher thread (when auditing), stopped with the last clone.
    _flusher: Option<Arc<Flusher>>,
}

impl std::fmt::Debug for PersistentSecretsStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersistentSecretsStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl PersistentSecretsStore {
    /// Opens the store at `path`, creating it if it does not exist, with default
    /// [`StoreOptions`].
    ///
    /// Where the database file is, as in the original crate (where `path` named the store's
    /// directory):
    ///
    /// | `path` | database file |
    /// |---|---|
    /// | an existing directory | [`DB_FILE_NAME`](crate::DB_FILE_NAME) (`secrets.sqlite`) inside it |
    /// | an existing file | `path` |
    /// | missing, ending in `.sqlite`, `.db` or `.sqlite3` (any case) | `path`, created |
    /// | missing, any other name | `secrets.sqlite` inside `path`, a directory created with it |
    ///
    /// Missing directories (`path`'s parents, or `path` itself in the last case) are created
    /// with mode 0700 and a new database file with mode 0600.
    ///
    /// Fails with [`SecretsError::WrongKey`] if `key` is not the key that locks an existing
    /// store.
    ///
    /// [`SecretsError::WrongKey`]: zlayer_secrets_core::SecretsError::WrongKey
    pub async fn open(path: impl AsRef<Path>, key: EncryptionKey) -> Result<Self> {
        Self::open_with_options(path, key, StoreOptions::default()).await
    }

    /// Opens the store at `path` like [`open`](Self::open), with `options`.
    pub async fn open_with_options(
        path: impl AsRef<Path>,
        key: EncryptionKey,
        options: StoreOptions,
    ) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let audit = options.audit;
        let actor = Arc::new(options.actor.clone());
        let opener = audit::current().map_or_else(|| options.actor.clone(), |c| c.actor);
        let (writer, readers) = blocking(move || {
            let writer = Writer::open(&path, key, &options, &opener)?;
            let readers = Readers::new(writer.path(), &options, Arc::clone(writer.keys()));
            Ok((writer, readers))
        })
        .await?;
        let path = writer.path().to_path_buf();
        let queue = Arc::clone(writer.queue());
        let writer = Arc::new(Mutex::new(writer));
        let flusher = if audit {
            Some(Arc::new(Flusher::start(
                Arc::clone(&writer),
                Arc::clone(&queue),
            )?))
        } else {
            None
        };
        Ok(Self {
            writer,
            readers: Arc::new(readers),
            path,
            audit,
            actor,
            queue,
            _flusher: flusher,
        })
    }

    /// Who the running task acts as: the context of `audit::scope` if it runs in one, else
    /// the handle's [`StoreOptions::actor`].
    fn context(&self) -> AuditContext {
        audit::current().unwrap_or_else(|| AuditContext::new(Actor::clone(&self.actor)))
    }

    /// Runs `work`, a read of values, on a read connection, then queues the entries
    /// `records` makes of its result for the flusher (`recorder.rs`). Refused, with the reason,
    /// while queued entries cannot be committed.
    async fn read_values<T, W, R>(&self, work: W, records: R) -> Result<T>
    where
        T: Send + 'static,
        W: FnOnce(&rusqlite::Connection, &Keys) -> Result<T> + Send + 'static,
        R: FnOnce(&Result<T>, Option<AuditAction>) -> Vec<AuditRecord> + Send + 'static,
    {
        let readers = Arc::clone(&self.readers);
        let recording = if self.audit {
            if self.queue.failed() {
                // Entries of earlier reads could not be committed: try again now, and refuse
                // with the reason if it still fails.
                self.write(Writer::flush_reads).await?;
            }
            let (actor, purpose) = match audit::current() {
                Some(ctx) => (Arc::new(ctx.actor), ctx.purpose),
                None => (Arc::clone(&self.actor), None),
            };
            Some((Arc::clone(&self.queue), actor, purpose))
        } else {
            None
        };
        blocking(move || {
            let result = readers.read(work);
            if let Some((queue, actor, purpose)) = recording {
                let at_ms = now_ms();
                queue.push(records(&result, purpose).into_iter().map(|record| Pending {
                    at_ms,
                    actor: Arc::clone(&actor),
                    record,
                }));
            }
            result
        })
        .await
        .map_err(|e| in_store(&self.path, e))
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` with the writer, once the writes before it are done.
    async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Writer) -> Result<T> + Send + 'static,
    {
        let writer = Arc::clone(&self.writer);
        blocking(move || work(&mut lock(&writer)))
            .await
            .map_err(|e| in_store(&self.path, e))
    }

    /// Runs `work` on a read connection, in one read transaction with the data key of its
    /// snapshot.
    async fn read<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection, &Keys) -> Result<T> + Send + 'static,
    {
        let readers = Arc::clone(&self.readers);
        blocking(move || readers.read(work))
            .await
            .map_err(|e| in_store(&self.path, e))
    }

    /// The fingerprint of the key that currently locks the store (safe to print).
    pub async fn key_fingerprint(&self) -> Result<String> {
        Ok(self.key_info().await?.fingerprint)
    }

    /// What the store records about its keys, for `zlayer-secret key status`.
    pub async fn key_info(&self) -> Result<KeyInfo> {
        self.read(|tx, _| reads::key_info(tx)).await
    }

    /// Locks the store with `new_key` instead of the current key.
    ///
    /// Only the wrapped data key is rewritten, in one transaction: the secrets themselves are
    /// untouched. Afterwards the store opens with `new_key` and not with the old key. If the
    /// process dies during the call, the store opens with exactly one of the two keys.
    ///
    /// This does not help if the old key may have leaked together with a copy of the
    /// database: use [`reencrypt_all`](Self::reencrypt_all) then.
    pub async fn rekey(&self, new_key: EncryptionKey) -> Result<()> {
        let ctx = self.context();
        self.write(move |writer| writer.rekey(&ctx, new_key)).await
    }

    /// Generates a new data key, re-encrypts every stored version of every secret with it and
    /// locks it with `new_key` (which may be the current key), all in one transaction.
    ///
    /// If the process dies during the call, nothing changes: the store opens with the old
    /// key and every value is as before.
    pub async fn reencrypt_all(&self, new_key: EncryptionKey) -> Result<ReencryptReport> {
        self.reencrypt_all_with_progress(new_key, |_, _| {}).await
    }

    /// [`reencrypt_all`](Self::reencrypt_all), calling `progress(done, total)` (counted in
    /// stored versions) as it goes. The new key only takes effect at the end.
    pub async fn reencrypt_all_with_progress<P>(
        &self,
        new_key: EncryptionKey,
        mut progress: P,
    ) -> Result<ReencryptReport>
    where
        P: FnMut(u64, u64) + Send + 'static,
    {
        let ctx = self.context();
        self.write(move |writer| writer.reencrypt_all(&ctx, new_key, &mut progress))
            .await
    }
}

#[async_trait]
impl SecretsProvider for PersistentSecretsStore {
    async fn get_secret(&self, scope: &str, name: &str) -> Result<Secret> {
        check_target(scope, name)?;
        let (scope, name) = (scope.to_owned(), name.to_owned());
        let target = (scope.clone(), name.clone());
        self.read_values(
            move |tx, keys| reads::get(tx, keys, &scope, &name),
            move |result, purpose| {
                let (scope, name) = target;
                let Some(action) = read_action(&scope, purpose) else {
                    return Vec::new();
                };
                vec![match result {
                    Ok((_, version)) => AuditRecord::new(action, &scope, &name, AuditOutcome::Ok)
                        .with_version(Some(*version)),
                    Err(e) => AuditRecord::failed(action, &scope, &name, e),
                }]
            },
        )
        .await
        .map(|(secret, _)| secret)
    }

    async fn get_secrets(&self, scope: &str, names: &[&str]) -> Result<HashMap<String, Secret>> {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let names_json = reads::check_many(scope, &names)?;
        if names.is_empty() {
            return Ok(HashMap::new());
        }
        let scope = scope.to_owned();
        let count = names.len();
        let target = scope.clone();
        self.read_values(
            move |tx, keys| {
                let mut versions = Vec::with_capacity(count);
                let values = reads::get_many(tx, keys, &scope, &names_json, count, &mut versions)?;
                Ok((values, versions))
            },
            move |result, purpose| {
                let scope = target;
                let Some(action) = read_action(&scope, purpose) else {
                    return Vec::new();
                };
                match result {
                    Ok((_, versions)) => {
                        let mut records: Vec<AuditRecord> = versions
                            .iter()
                            .map(|(name, version)| {
                                AuditRecord::new(action, &scope, name, AuditOutcome::Ok)
                                    .with_version(Some(*version))
                            })
                            .collect();
                        let missing = names
                            .iter()
                            .filter(|n| !versions.iter().any(|(found, _)| found == *n));
                        records.extend(missing.map(|name| {
                            AuditRecord::new(action, &scope, name, AuditOutcome::NotFound)
                        }));
                        records
                    }
                    Err(e) => names
                        .iter()
                        .map(|name| AuditRecord::failed(action, &scope, name, e))
                        .collect(),
                }
            },
        )
        .await
        .map(|(values, _)| values)
    }

    async fn list_secrets(&self, scope: &str) -> Result<Vec<SecretMetadata>> {
        validate_scope(scope)?;
        let scope = scope.to_owned();
        self.read(move |tx, keys| reads::list(tx, keys, &scope))
            .await
    }

    async fn exists(&self, scope: &str, name: &str) -> Result<bool> {
        check_target(scope, name)?;
        let (scope, name) = (scope.to_owned(), name.to_owned());
        let readers = Arc::clone(&self.readers);
        blocking(move || readers.unkeyed(|conn| reads::exists(conn, &scope, &name)))
            .await
            .map_err(|e| in_store(&self.path, e))
    }
}

#[async_trait]
impl SecretsStore for PersistentSecretsStore {
    async fn set_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<()> {
        let (scope, name, value) = (scope.to_owned(), name.to_owned(), value.clone());
        let ctx = self.context();
        self.write(move |writer| writer.set(&ctx, &scope, &name, &value).map(drop))
            .await
    }

    async fn delete_secret(&self, scope: &str, name: &str) -> Result<()> {
        let (scope, name) = (scope.to_owned(), name.to_owned());
        let ctx = self.context();
        self.write(move |writer| writer.delete(&ctx, &scope, &name))
            .await
    }

    /// Atomic: the check and the write are one `BEGIN IMMEDIATE` transaction, so of
    /// concurrent creates in any number of threads or processes exactly one succeeds.
    async fn create_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<u32> {
        let (scope, name, value) = (scope.to_owned(), name.to_owned(), value.clone());
        let ctx = self.context();
        self.write(move |writer| writer.create(&ctx, &scope, &name, &value))
            .await
    }

    async fn rotate_secret(
        &self,
        scope: &str,
        name: &str,
        value: &Secret,
    ) -> Result<RotationResult> {
        let (scope, name, value) = (scope.to_owned(), name.to_owned(), value.clone());
        let ctx = self.context();
        self.write(move |writer| writer.rotate(&ctx, &scope, &name, &value))
            .await
    }
}

#[async_trait]
impl VersionedSecretsStore for PersistentSecretsStore {
    async fn get_metadata(&self, scope: &str, name: &str) -> Result<SecretMetadata> {
        check_target(scope, name)?;
        let (scope, name) = (scope.to_owned(), name.to_owned());
        self.read(move |tx, keys| reads::metadata(tx, keys, &scope, &name))
            .await
    }

    /// The version comes from the write's own transaction.
    async fn write_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<u32> {
        let (scope, name, value) = (scope.to_owned(), name.to_owned(), value.clone());
        let ctx = self.context();
        self.write(move |writer| writer.set(&ctx, &scope, &name, &value))
            .await
    }

    async fn list_versions(&self, scope: &str, name: &str) -> Result<Vec<SecretVersion>> {
        check_target(scope, name)?;
        let (scope, name) = (scope.to_owned(), name.to_owned());
        self.read(move |tx, keys| reads::list_versions(tx, keys, &scope, &name))
            .await
    }

    async fn get_secret_version(&self, scope: &str, name: &str, version: u32) -> Result<Secret> {
        check_target(scope, name)?;
        let (scope, name) = (scope.to_owned(), name.to_owned());
        let target = (scope.clone(), name.clone());
        self.read_values(
            move |tx, keys| reads::get_version(tx, keys, &scope, &name, version),
            move |result, purpose| {
                let (scope, name) = target;
                let Some(action) = read_action(&scope, purpose) else {
                    return Vec::new();
                };
                let record = match result {
                    Ok(_) => AuditRecord::new(action, &scope, &name, AuditOutcome::Ok),
                    Err(e) => AuditRecord::failed(action, &scope, &name, e),
                };
                vec![record.with_version(Some(version))]
            },
        )
        .await
    }

    async fn rollback_secret(&self, scope: &str, name: &str, to: u32) -> Result<RotationResult> {
        let (scope, name) = (scope.to_owned(), name.to_owned());
        let ctx = self.context();
        self.write(move |writer| writer.rollback(&ctx, &scope, &name, to))
            .await
    }
}

#[async_trait]
impl BatchSecretsStore for PersistentSecretsStore {
    async fn apply_batch(&self, ops: &[WriteOp]) -> Result<()> {
        let ops = ops.to_vec();
        let ctx = self.context();
        self.write(move |writer| writer.apply_batch(&ctx, &ops))
            .await
    }

    fn is_atomic(&self) -> bool {
        true
    }
}

/// The store's audit log, in its own database. Entries of writes commit with the write;
/// entries of reads are queued and committed in batches by the store's flusher thread (and
/// before any later write, prune or call of this trait on the same handle). Entries that are
/// not part of a write are committed without waiting for the disk: they survive a crash of
/// the process and reach the disk with the next durable commit or checkpoint.
#[async_trait]
impl AuditLog for PersistentSecretsStore {
    async fn record(&self, actor: &Actor, records: Vec<AuditRecord>) -> Result<()> {
        let actor = actor.clone();
        self.write(move |writer| writer.record(&actor, records))
            .await
    }

    async fn entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        self.write(Writer::flush_reads).await?;
        let filter = filter.clone();
        let readers = Arc::clone(&self.readers);
        blocking(move || readers.unkeyed(|conn| crate::audit::entries(conn, &filter)))
            .await
            .map_err(|e| in_store(&self.path, e))
    }

    async fn verify(&self) -> Result<AuditVerification> {
        self.write(Writer::flush_reads).await?;
        self.read(crate::audit::verify).await
    }

    async fn prune(&self, before_ms: i64, actor: &Actor) -> Result<PruneReport> {
        let actor = actor.clone();
        self.write(move |writer| writer.prune_audit(before_ms, &actor))
            .await
    }
}
