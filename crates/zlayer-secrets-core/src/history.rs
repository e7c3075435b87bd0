//! Capabilities beyond the original traits: version history and atomic batches.

use std::num::NonZeroUsize;
use std::sync::Arc;

use async_trait::async_trait;

use crate::{Result, RotationResult, Secret, SecretMetadata, SecretsStore};

/// How many versions of each secret a store keeps unless configured otherwise (the current
/// version included). Vault's KV v2 engine keeps the same number by default.
pub const DEFAULT_HISTORY_RETENTION: NonZeroUsize = NonZeroUsize::new(10).expect("10 is not zero");

/// One retained version of a secret (no value).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SecretVersion {
    /// The version number, from 1.
    pub version: u32,
    /// When this version was written (Unix seconds).
    pub created_at: i64,
}

/// A store that keeps past versions of each secret.
#[async_trait]
pub trait VersionedSecretsStore: SecretsStore {
    /// Metadata of one secret; [`SecretsError::NotFound`](crate::SecretsError::NotFound) if absent.
    async fn get_metadata(&self, scope: &str, name: &str) -> Result<SecretMetadata>;

    /// The retained versions of a secret, oldest first.
    async fn list_versions(&self, scope: &str, name: &str) -> Result<Vec<SecretVersion>>;

    /// The value of one retained version.
    async fn get_secret_version(&self, scope: &str, name: &str, version: u32) -> Result<Secret>;

    /// Writes the value of version `to` again, as a new version.
    async fn rollback_secret(&self, scope: &str, name: &str, to: u32) -> Result<RotationResult>;
}

/// One write in a [`BatchSecretsStore::apply_batch`].
#[derive(Debug, Clone)]
pub enum WriteOp {
    /// Create or update a secret.
    Set {
        /// Scope of the secret.
        scope: String,
        /// Name of the secret.
        name: String,
        /// The new value.
        value: Secret,
    },
    /// Delete a secret and its history; a missing secret is not an error inside a batch.
    Delete {
        /// Scope of the secret.
        scope: String,
        /// Name of the secret.
        name: String,
    },
}

/// A store that applies several writes together.
#[async_trait]
pub trait BatchSecretsStore: SecretsStore {
    /// Applies every operation in order. When [`is_atomic`](Self::is_atomic) is true, either
    /// all of them take effect or none does, also across a crash.
    async fn apply_batch(&self, ops: &[WriteOp]) -> Result<()>;

    /// Whether [`apply_batch`](Self::apply_batch) is all-or-nothing on this backend.
    fn is_atomic(&self) -> bool;
}

#[async_trait]
impl<T: VersionedSecretsStore + ?Sized> VersionedSecretsStore for Arc<T> {
    async fn get_metadata(&self, scope: &str, name: &str) -> Result<SecretMetadata> {
        (**self).get_metadata(scope, name).await
    }

    async fn list_versions(&self, scope: &str, name: &str) -> Result<Vec<SecretVersion>> {
        (**self).list_versions(scope, name).await
    }

    async fn get_secret_version(&self, scope: &str, name: &str, version: u32) -> Result<Secret> {
        (**self).get_secret_version(scope, name, version).await
    }

    async fn rollback_secret(&self, scope: &str, name: &str, to: u32) -> Result<RotationResult> {
        (**self).rollback_secret(scope, name, to).await
    }
}

#[async_trait]
impl<T: BatchSecretsStore + ?Sized> BatchSecretsStore for Arc<T> {
    async fn apply_batch(&self, ops: &[WriteOp]) -> Result<()> {
        (**self).apply_batch(ops).await
    }

    fn is_atomic(&self) -> bool {
        (**self).is_atomic()
    }
}
