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

/// What became of a version: readable, or removed by the backend's own tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum VersionState {
    /// It can be read.
    Live,
    /// Soft-deleted (Vault's `kv delete`): not readable, but the backend can bring it back.
    Deleted,
    /// Destroyed (Vault's `kv destroy`): its value is gone for good.
    Destroyed,
}

impl VersionState {
    /// The lowercase word for it: `live`, `deleted` or `destroyed`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Deleted => "deleted",
            Self::Destroyed => "destroyed",
        }
    }
}

/// A secret's history: its current version, whether that can be read, and the versions
/// that can be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionHistory {
    /// The current (newest) version, readable or not.
    pub current: SecretVersion,
    /// What became of the current version. Only backends whose own tools can delete a
    /// version without deleting the secret (Vault) report anything but
    /// [`VersionState::Live`].
    pub current_state: VersionState,
    /// The versions that can be read, oldest first (the current one among them when it is
    /// live).
    pub versions: Vec<SecretVersion>,
}

/// A store that keeps past versions of each secret.
#[async_trait]
pub trait VersionedSecretsStore: SecretsStore {
    /// Metadata of one secret; [`SecretsError::NotFound`](crate::SecretsError::NotFound) if absent.
    async fn get_metadata(&self, scope: &str, name: &str) -> Result<SecretMetadata>;

    /// Creates the secret or writes a new version of it, as
    /// [`set_secret`](SecretsStore::set_secret) does, and returns the version written.
    ///
    /// The default implementation writes, then reads the metadata; backends whose write
    /// reports the version override it (so that a concurrent writer cannot make it report
    /// another version, and no permission to read metadata is needed).
    async fn write_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<u32> {
        self.set_secret(scope, name, value).await?;
        Ok(self.get_metadata(scope, name).await?.version)
    }

    /// The history of a secret: [`list_versions`](Self::list_versions) and which version
    /// is current. [`SecretsError::NotFound`](crate::SecretsError::NotFound) if the secret
    /// has no history at all.
    ///
    /// Unlike [`get_metadata`](Self::get_metadata), this also answers when the current
    /// version was deleted or destroyed with the backend's own tools while older versions
    /// remain. The default implementation combines `get_metadata` and `list_versions`.
    async fn version_history(&self, scope: &str, name: &str) -> Result<VersionHistory> {
        let meta = self.get_metadata(scope, name).await?;
        let versions = self.list_versions(scope, name).await?;
        let current = versions
            .iter()
            .find(|v| v.version == meta.version)
            .cloned()
            .unwrap_or(SecretVersion {
                version: meta.version,
                created_at: meta.updated_at,
            });
        Ok(VersionHistory {
            current,
            current_state: VersionState::Live,
            versions,
        })
    }

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

    async fn write_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<u32> {
        (**self).write_secret(scope, name, value).await
    }

    async fn version_history(&self, scope: &str, name: &str) -> Result<VersionHistory> {
        (**self).version_history(scope, name).await
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
