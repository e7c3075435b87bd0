//! [`MemoryStore`]: an in-memory store with real version semantics.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::num::NonZeroUsize;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;

use crate::{
    BatchSecretsStore, DEFAULT_HISTORY_RETENTION, Result, RotationResult, Secret, SecretMetadata,
    SecretVersion, SecretsError, SecretsProvider, SecretsStore, VersionedSecretsStore, WriteOp,
    label, unix_now, validate_name, validate_scope, validate_value,
};

/// Where a secret lives: (scope, name), kept apart so that `("a", "b:c")` and
/// `("a:b", "c")` never meet.
type Key = (String, String);

/// One retained version of a secret.
#[derive(Clone)]
struct Stored {
    version: u32,
    created_at: i64,
    value: Secret,
}

/// A secret and its retained history (oldest first; never empty).
#[derive(Clone)]
struct Entry {
    created_at: i64,
    versions: VecDeque<Stored>,
}

impl Entry {
    fn new(value: Secret) -> Self {
        let now = unix_now();
        Self {
            created_at: now,
            versions: VecDeque::from([Stored {
                version: 1,
                created_at: now,
                value,
            }]),
        }
    }

    fn current(&self) -> &Stored {
        self.versions
            .back()
            .expect("an entry is created with one version and never emptied")
    }

    fn metadata(&self, name: &str) -> SecretMetadata {
        let current = self.current();
        SecretMetadata {
            name: name.to_owned(),
            created_at: self.created_at,
            // A clock that steps backwards must not make a secret look updated before it
            // was created.
            updated_at: current.created_at.max(self.created_at),
            version: current.version,
        }
    }

    /// Appends a version and prunes history beyond `retention`. Returns the new version.
    fn push(&mut self, value: Secret, retention: NonZeroUsize, key: &Key) -> Result<u32> {
        let previous = self.current().version;
        let version = previous
            .checked_add(1)
            .ok_or_else(|| SecretsError::VersionLimit {
                scope: key.0.clone(),
                name: key.1.clone(),
            })?;
        self.versions.push_back(Stored {
            version,
            created_at: unix_now(),
            value,
        });
        while self.versions.len() > retention.get() {
            self.versions.pop_front();
        }
        Ok(version)
    }
}

/// An in-memory [`SecretsStore`] with version history and atomic batches.
///
/// It behaves like the persistent stores (it passes the same conformance suite): the first
/// write of a secret is version 1 and every write adds one; the last
/// [`retention`](Self::retention) versions are kept (default
/// [`DEFAULT_HISTORY_RETENTION`]); a rollback writes a new version; deleting a secret
/// removes all its versions; [`apply_batch`](BatchSecretsStore::apply_batch) is
/// all-or-nothing; [`create_secret`](SecretsStore::create_secret) checks and writes under
/// one lock, so of concurrent creates exactly one succeeds. Names and scopes are checked
/// with [`validate_name`] and [`validate_scope`], values with [`validate_value`].
///
/// Nothing is persisted: values live (zeroized on drop) only as long as the store. Use it in
/// tests and in programs built without persistence.
///
/// ```
/// # tokio_test_block_on(async {
/// use zlayer_secrets_core::{MemoryStore, Secret, SecretsProvider, SecretsStore};
///
/// let store = MemoryStore::new();
/// store.set_secret("prod", "db-password", &Secret::new("s3cr3t")).await?;
/// assert_eq!(store.get_secret("prod", "db-password").await?.expose(), "s3cr3t");
/// # Ok::<(), zlayer_secrets_core::SecretsError>(())
/// # }).unwrap();
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
pub struct MemoryStore {
    secrets: Mutex<BTreeMap<Key, Entry>>,
    retention: NonZeroUsize,
}

impl MemoryStore {
    /// An empty store keeping [`DEFAULT_HISTORY_RETENTION`] versions per secret.
    #[must_use]
    pub fn new() -> Self {
        Self::with_retention(DEFAULT_HISTORY_RETENTION)
    }

    /// An empty store keeping the last `versions` versions of each secret (the current one
    /// included).
    #[must_use]
    pub fn with_retention(versions: NonZeroUsize) -> Self {
        Self {
            secrets: Mutex::new(BTreeMap::new()),
            retention: versions,
        }
    }

    /// How many versions of each secret are kept.
    #[must_use]
    pub fn retention(&self) -> NonZeroUsize {
        self.retention
    }

    /// How many secrets (not versions) the store holds, over all scopes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the store holds no secret.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Writes `value` as the next version of the secret (or version 1 of a new one) under
    /// one lock; returns the version written.
    fn write(&self, scope: &str, name: &str, value: &Secret) -> Result<u32> {
        let key = write_key(scope, name, value)?;
        let mut secrets = self.lock();
        if let Some(entry) = secrets.get_mut(&key) {
            return entry.push(value.clone(), self.retention, &key);
        }
        secrets.insert(key, Entry::new(value.clone()));
        Ok(1)
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<Key, Entry>> {
        // Every update is prepared first and then committed with operations that cannot
        // panic, so a panic elsewhere while the lock was held cannot have left a
        // half-written entry: the data behind a poisoned lock is still consistent.
        self.secrets.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("secrets", &self.len())
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

fn key(scope: &str, name: &str) -> Result<Key> {
    validate_scope(scope)?;
    validate_name(name)?;
    Ok((scope.to_owned(), name.to_owned()))
}

/// The key of a write of `value`: a valid target and a value within the limit.
fn write_key(scope: &str, name: &str, value: &Secret) -> Result<Key> {
    let key = key(scope, name)?;
    validate_value(scope, name, value)?;
    Ok(key)
}

fn not_found(scope: &str, name: &str) -> SecretsError {
    SecretsError::NotFound {
        name: label(scope, name),
    }
}

fn version_not_found(scope: &str, name: &str, version: u32) -> SecretsError {
    SecretsError::NotFound {
        name: format!("{} version {version}", label(scope, name)),
    }
}

#[async_trait]
impl SecretsProvider for MemoryStore {
    async fn get_secret(&self, scope: &str, name: &str) -> Result<Secret> {
        let key = key(scope, name)?;
        self.lock()
            .get(&key)
            .map(|entry| entry.current().value.clone())
            .ok_or_else(|| not_found(scope, name))
    }

    async fn get_secrets(&self, scope: &str, names: &[&str]) -> Result<HashMap<String, Secret>> {
        validate_scope(scope)?;
        names.iter().try_for_each(|name| validate_name(name))?;
        let secrets = self.lock();
        let mut found = HashMap::with_capacity(names.len());
        for name in names {
            let key = (scope.to_owned(), (*name).to_owned());
            if let Some(entry) = secrets.get(&key) {
                found.insert(key.1, entry.current().value.clone());
            }
        }
        Ok(found)
    }

    async fn list_secrets(&self, scope: &str) -> Result<Vec<SecretMetadata>> {
        validate_scope(scope)?;
        let secrets = self.lock();
        // Keys are ordered by (scope, name): the scope's secrets are one contiguous run,
        // already sorted by name.
        let start = (scope.to_owned(), String::new());
        Ok(secrets
            .range(start..)
            .take_while(|((s, _), _)| s == scope)
            .map(|((_, name), entry)| entry.metadata(name))
            .collect())
    }

    async fn exists(&self, scope: &str, name: &str) -> Result<bool> {
        let key = key(scope, name)?;
        Ok(self.lock().contains_key(&key))
    }
}

#[async_trait]
impl SecretsStore for MemoryStore {
    async fn set_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<()> {
        self.write(scope, name, value).map(drop)
    }

    /// Checks for the name and inserts it under one lock: atomic.
    async fn create_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<u32> {
        let key = write_key(scope, name, value)?;
        let mut secrets = self.lock();
        if secrets.contains_key(&key) {
            return Err(SecretsError::AlreadyExists {
                name: label(scope, name),
            });
        }
        secrets.insert(key, Entry::new(value.clone()));
        Ok(1)
    }

    async fn delete_secret(&self, scope: &str, name: &str) -> Result<()> {
        let key = key(scope, name)?;
        self.lock()
            .remove(&key)
            .map(drop)
            .ok_or_else(|| not_found(scope, name))
    }

    async fn rotate_secret(
        &self,
        scope: &str,
        name: &str,
        value: &Secret,
    ) -> Result<RotationResult> {
        let key = write_key(scope, name, value)?;
        let mut secrets = self.lock();
        let entry = secrets
            .get_mut(&key)
            .ok_or_else(|| not_found(scope, name))?;
        let previous = entry.current().version;
        let new_version = entry.push(value.clone(), self.retention, &key)?;
        Ok(RotationResult {
            previous_version: Some(previous),
            new_version,
        })
    }
}

#[async_trait]
impl VersionedSecretsStore for MemoryStore {
    async fn get_metadata(&self, scope: &str, name: &str) -> Result<SecretMetadata> {
        let key = key(scope, name)?;
        self.lock()
            .get(&key)
            .map(|entry| entry.metadata(name))
            .ok_or_else(|| not_found(scope, name))
    }

    /// The version comes from the write itself, under the same lock.
    async fn write_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<u32> {
        self.write(scope, name, value)
    }

    async fn list_versions(&self, scope: &str, name: &str) -> Result<Vec<SecretVersion>> {
        let key = key(scope, name)?;
        self.lock()
            .get(&key)
            .map(|entry| {
                entry
                    .versions
                    .iter()
                    .map(|v| SecretVersion {
                        version: v.version,
                        created_at: v.created_at,
                    })
                    .collect()
            })
            .ok_or_else(|| not_found(scope, name))
    }

    async fn get_secret_version(&self, scope: &str, name: &str, version: u32) -> Result<Secret> {
        let key = key(scope, name)?;
        self.lock()
            .get(&key)
            .and_then(|entry| entry.versions.iter().find(|v| v.version == version))
            .map(|v| v.value.clone())
            .ok_or_else(|| version_not_found(scope, name, version))
    }

    async fn rollback_secret(&self, scope: &str, name: &str, to: u32) -> Result<RotationResult> {
        let key = key(scope, name)?;
        let mut secrets = self.lock();
        let entry = secrets
            .get_mut(&key)
            .ok_or_else(|| not_found(scope, name))?;
        let value = entry
            .versions
            .iter()
            .find(|v| v.version == to)
            .map(|v| v.value.clone())
            .ok_or_else(|| version_not_found(scope, name, to))?;
        let previous = entry.current().version;
        let new_version = entry.push(value, self.retention, &key)?;
        Ok(RotationResult {
            previous_version: Some(previous),
            new_version,
        })
    }
}

#[async_trait]
impl BatchSecretsStore for MemoryStore {
    async fn apply_batch(&self, ops: &[WriteOp]) -> Result<()> {
        // Check every operation before touching anything.
        let keys = ops
            .iter()
            .map(|op| match op {
                WriteOp::Set { scope, name, value } => write_key(scope, name, value),
                WriteOp::Delete { scope, name } => key(scope, name),
            })
            .collect::<Result<Vec<Key>>>()?;

        let mut secrets = self.lock();
        // Stage the new state of every touched secret; the store changes only once all
        // operations have succeeded.
        let mut staged: HashMap<Key, Option<Entry>> = HashMap::new();
        for (op, key) in ops.iter().zip(&keys) {
            let slot = staged
                .entry(key.clone())
                .or_insert_with_key(|key| secrets.get(key).cloned());
            match op {
                WriteOp::Set { value, .. } => match slot {
                    Some(entry) => {
                        entry.push(value.clone(), self.retention, key)?;
                    }
                    None => *slot = Some(Entry::new(value.clone())),
                },
                WriteOp::Delete { .. } => *slot = None,
            }
        }
        for (key, entry) in staged {
            match entry {
                Some(entry) => {
                    secrets.insert(key, entry);
                }
                None => {
                    secrets.remove(&key);
                }
            }
        }
        Ok(())
    }

    fn is_atomic(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests;
