//! `PersistentSecretsStore` passes the suite every backend runs.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use zlayer_secrets_core::{
    BatchSecretsStore, Result, RotationResult, Secret, SecretMetadata, SecretVersion,
    SecretsProvider, SecretsStore, VersionedSecretsStore, WriteOp,
};
use zlayer_secrets_sqlite::{PersistentSecretsStore, StoreOptions};

/// A store in a temporary directory that is removed when the last clone is dropped.
#[derive(Clone)]
pub(crate) struct TempStore {
    store: PersistentSecretsStore,
    _dir: Arc<tempfile::TempDir>,
}

impl TempStore {
    pub(crate) async fn new(options: StoreOptions) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = PersistentSecretsStore::open_with_options(dir.path(), crate::key_a(), options)
            .await
            .unwrap();
        Self {
            store,
            _dir: Arc::new(dir),
        }
    }
}

#[async_trait]
impl SecretsProvider for TempStore {
    async fn get_secret(&self, scope: &str, name: &str) -> Result<Secret> {
        self.store.get_secret(scope, name).await
    }
    async fn get_secrets(&self, scope: &str, names: &[&str]) -> Result<HashMap<String, Secret>> {
        self.store.get_secrets(scope, names).await
    }
    async fn list_secrets(&self, scope: &str) -> Result<Vec<SecretMetadata>> {
        self.store.list_secrets(scope).await
    }
    async fn exists(&self, scope: &str, name: &str) -> Result<bool> {
        self.store.exists(scope, name).await
    }
}

#[async_trait]
impl SecretsStore for TempStore {
    async fn set_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<()> {
        self.store.set_secret(scope, name, value).await
    }
    async fn delete_secret(&self, scope: &str, name: &str) -> Result<()> {
        self.store.delete_secret(scope, name).await
    }
    async fn create_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<u32> {
        self.store.create_secret(scope, name, value).await
    }
    async fn rotate_secret(
        &self,
        scope: &str,
        name: &str,
        value: &Secret,
    ) -> Result<RotationResult> {
        self.store.rotate_secret(scope, name, value).await
    }
}

#[async_trait]
impl VersionedSecretsStore for TempStore {
    async fn get_metadata(&self, scope: &str, name: &str) -> Result<SecretMetadata> {
        self.store.get_metadata(scope, name).await
    }
    async fn write_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<u32> {
        self.store.write_secret(scope, name, value).await
    }
    async fn list_versions(&self, scope: &str, name: &str) -> Result<Vec<SecretVersion>> {
        self.store.list_versions(scope, name).await
    }
    async fn get_secret_version(&self, scope: &str, name: &str, version: u32) -> Result<Secret> {
        self.store.get_secret_version(scope, name, version).await
    }
    async fn rollback_secret(&self, scope: &str, name: &str, to: u32) -> Result<RotationResult> {
        self.store.rollback_secret(scope, name, to).await
    }
}

#[async_trait]
impl BatchSecretsStore for TempStore {
    async fn apply_batch(&self, ops: &[WriteOp]) -> Result<()> {
        self.store.apply_batch(ops).await
    }
    fn is_atomic(&self) -> bool {
        self.store.is_atomic()
    }
}

zlayer_secrets_core::conformance_suite!(|| TempStore::new(StoreOptions::default()));

/// The suite holds with a short history too (its rollback check keeps four versions).
mod short_retention {
    use zlayer_secrets_sqlite::StoreOptions;

    zlayer_secrets_core::conformance_suite!(|| super::TempStore::new(StoreOptions {
        retention: 4,
        ..StoreOptions::default()
    }));
}
