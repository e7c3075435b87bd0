//! The provider (read) and store (read-write) traits every backend implements.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;

use crate::{Result, RotationResult, Secret, SecretMetadata, SecretsError, label};

/// Read access to secrets, organised by scope (a deployment, `deployment/service`, or an
/// environment scope such as `env:prod`).
///
/// Object-safe: `Arc<dyn SecretsProvider>` works. Implement it with `#[async_trait]`.
#[async_trait]
pub trait SecretsProvider: Send + Sync {
    /// The current value of `name` in `scope`; [`SecretsError::NotFound`] if absent.
    async fn get_secret(&self, scope: &str, name: &str) -> Result<Secret>;

    /// The current values of several secrets of one scope. Names that do not exist are
    /// omitted from the map rather than failing the call.
    async fn get_secrets(&self, scope: &str, names: &[&str]) -> Result<HashMap<String, Secret>>;

    /// Metadata (never values) of every secret in exactly this scope, ordered by name.
    async fn list_secrets(&self, scope: &str) -> Result<Vec<SecretMetadata>>;

    /// Whether `name` exists in `scope`.
    async fn exists(&self, scope: &str, name: &str) -> Result<bool>;
}

/// Read-write access to secrets.
#[async_trait]
pub trait SecretsStore: SecretsProvider {
    /// Creates the secret at version 1, or writes a new version of it.
    async fn set_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<()>;

    /// Deletes the secret and all its versions; [`SecretsError::NotFound`] if absent.
    async fn delete_secret(&self, scope: &str, name: &str) -> Result<()>;

    /// Creates the secret only if it does not exist, and returns the version written.
    ///
    /// [`SecretsError::AlreadyExists`] (naming `scope/name`) if the secret exists; its value
    /// is left alone. The version is 1 for a name never written; a backend whose history
    /// outlives a deleted current version (Vault, where `kv delete` keeps the metadata)
    /// goes on counting from there.
    ///
    /// The stores of this workspace (memory, SQLite, Vault) do this atomically: of several
    /// concurrent creates of one name, in any number of threads or processes, exactly one
    /// succeeds. The default implementation, for other stores, checks
    /// [`exists`](SecretsProvider::exists) and then writes with
    /// [`set_secret`](Self::set_secret): it is **not** atomic (two concurrent creates can
    /// both succeed, the later write winning), and it reads the version back from
    /// [`list_secrets`](SecretsProvider::list_secrets). Backends that can should override it.
    async fn create_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<u32> {
        if self.exists(scope, name).await? {
            return Err(SecretsError::AlreadyExists {
                name: label(scope, name),
            });
        }
        self.set_secret(scope, name, value).await?;
        self.list_secrets(scope)
            .await?
            .into_iter()
            .find(|m| m.name == name)
            .map(|m| m.version)
            .ok_or_else(|| SecretsError::NotFound {
                name: label(scope, name),
            })
    }

    /// Writes a new value of an existing secret and reports the versions before and after.
    ///
    /// [`SecretsError::NotFound`] if the secret does not exist (use
    /// [`set_secret`](Self::set_secret) to create). The default implementation reads the
    /// metadata, writes, and reads the metadata again; backends override it to do this
    /// atomically.
    async fn rotate_secret(
        &self,
        scope: &str,
        name: &str,
        value: &Secret,
    ) -> Result<RotationResult> {
        let find = |list: Vec<SecretMetadata>| {
            list.into_iter().find(|m| m.name == name).map(|m| m.version)
        };
        let previous_version = find(self.list_secrets(scope).await?);
        let not_found = || SecretsError::NotFound {
            name: label(scope, name),
        };
        if previous_version.is_none() {
            return Err(not_found());
        }
        self.set_secret(scope, name, value).await?;
        let new_version = find(self.list_secrets(scope).await?).ok_or_else(not_found)?;
        Ok(RotationResult {
            previous_version,
            new_version,
        })
    }
}

#[async_trait]
impl<T: SecretsProvider + ?Sized> SecretsProvider for Arc<T> {
    async fn get_secret(&self, scope: &str, name: &str) -> Result<Secret> {
        (**self).get_secret(scope, name).await
    }

    async fn get_secrets(&self, scope: &str, names: &[&str]) -> Result<HashMap<String, Secret>> {
        (**self).get_secrets(scope, names).await
    }

    async fn list_secrets(&self, scope: &str) -> Result<Vec<SecretMetadata>> {
        (**self).list_secrets(scope).await
    }

    async fn exists(&self, scope: &str, name: &str) -> Result<bool> {
        (**self).exists(scope, name).await
    }
}

#[async_trait]
impl<T: SecretsStore + ?Sized> SecretsStore for Arc<T> {
    async fn set_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<()> {
        (**self).set_secret(scope, name, value).await
    }

    async fn delete_secret(&self, scope: &str, name: &str) -> Result<()> {
        (**self).delete_secret(scope, name).await
    }

    async fn create_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<u32> {
        (**self).create_secret(scope, name, value).await
    }

    async fn rotate_secret(
        &self,
        scope: &str,
        name: &str,
        value: &Secret,
    ) -> Result<RotationResult> {
        (**self).rotate_secret(scope, name, value).await
    }
}
