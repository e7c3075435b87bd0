//! Backends to run every test against, and a store wrapper that fails chosen writes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use zlayer_secrets_core::{
    MemoryStore, Result, RotationResult, Secret, SecretsError, SecretsStore,
};
use zlayer_secrets_crypto::EncryptionKey;
use zlayer_secrets_sqlite::PersistentSecretsStore;

/// A store to test against, with whatever keeps it alive.
pub(crate) struct Backend {
    /// Which backend, for failure messages.
    pub(crate) name: &'static str,
    /// The store.
    pub(crate) store: Arc<dyn SecretsStore>,
    /// The directory of an on-disk store, removed on drop.
    _dir: Option<tempfile::TempDir>,
}

/// Every backend, fresh and empty: [`MemoryStore`] and [`PersistentSecretsStore`] (SQLite
/// in a temporary directory).
pub(crate) async fn backends() -> Vec<Backend> {
    let (sqlite, dir) = sqlite().await;
    vec![
        Backend {
            name: "memory",
            store: Arc::new(MemoryStore::new()),
            _dir: None,
        },
        Backend {
            name: "sqlite",
            store: Arc::new(sqlite),
            _dir: Some(dir),
        },
    ]
}

/// A fresh SQLite store in a new temporary directory.
pub(crate) async fn sqlite() -> (PersistentSecretsStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = PersistentSecretsStore::open(dir.path(), EncryptionKey::generate())
        .await
        .unwrap();
    (store, dir)
}

/// When [`FailingStore`] fails a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FailMode {
    /// Refuse the write: nothing reaches the inner store (a crash before the write).
    Before,
    /// Apply the write, then report an error (a crash right after it).
    After,
}

/// Passes reads on to an inner store, counts writes (`set_secret`, `delete_secret`,
/// `create_secret`, `rotate_secret`) and fails the `fail_on`-th one (1-based) as `mode` says.
pub(crate) struct FailingStore {
    inner: Arc<dyn SecretsStore>,
    writes: AtomicUsize,
    fail_on: Option<usize>,
    mode: FailMode,
}

impl FailingStore {
    pub(crate) fn new(
        inner: Arc<dyn SecretsStore>,
        fail_on: Option<usize>,
        mode: FailMode,
    ) -> Self {
        Self {
            inner,
            writes: AtomicUsize::new(0),
            fail_on,
            mode,
        }
    }

    /// Writes attempted so far (failed ones included).
    pub(crate) fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    /// Counts a write; `Some(error)` if this one must fail.
    fn count(&self) -> Option<SecretsError> {
        let n = self.writes.fetch_add(1, Ordering::SeqCst) + 1;
        (self.fail_on == Some(n))
            .then(|| SecretsError::Storage(format!("injected failure of write {n}")))
    }

    async fn write<T>(&self, op: impl std::future::Future<Output = Result<T>> + Send) -> Result<T> {
        match (self.count(), self.mode) {
            (None, _) => op.await,
            (Some(e), FailMode::Before) => Err(e),
            (Some(e), FailMode::After) => {
                op.await?;
                Err(e)
            }
        }
    }
}

zlayer_secrets_testsupport::forward_provider!(FailingStore, inner);

#[async_trait]
impl SecretsStore for FailingStore {
    async fn set_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<()> {
        self.write(self.inner.set_secret(scope, name, value)).await
    }

    async fn delete_secret(&self, scope: &str, name: &str) -> Result<()> {
        self.write(self.inner.delete_secret(scope, name)).await
    }

    async fn create_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<u32> {
        self.write(self.inner.create_secret(scope, name, value))
            .await
    }

    async fn rotate_secret(
        &self,
        scope: &str,
        name: &str,
        value: &Secret,
    ) -> Result<RotationResult> {
        self.write(self.inner.rotate_secret(scope, name, value))
            .await
    }
}

/// Every secret of every reserved scope, as `(scope, name)`, sorted.
pub(crate) async fn reserved_contents(store: &dyn SecretsStore) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for scope in zlayer_secrets_credentials::scopes::RESERVED_SCOPES {
        for m in store.list_secrets(scope).await.unwrap() {
            out.push((scope.to_owned(), m.name));
        }
    }
    out.sort();
    out
}
