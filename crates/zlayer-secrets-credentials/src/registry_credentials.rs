//! Credentials for Docker / OCI registries (basic auth or a token).
//!
//! Each credential is one record in [`REGISTRY_CREDENTIALS_SCOPE`]
//! (`_zlayer/registry_credentials`), named by its id (a random UUID), whose value is the
//! JSON `{"id", "registry", "username", "auth_type", "password"}`: metadata and password
//! together, so that creating or deleting a credential is a single write and can never
//! leave one without the other (see the crate docs for why one record, not two).
//!
//! [`RegistryCredentialStore::list`] and the look-ups return [`RegistryCredential`], which
//! holds no password; only [`RegistryCredentialStore::get_password`] reads it.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = zlayer_secrets_core::MemoryStore::new();
//! use zlayer_secrets_credentials::registry_credentials::{RegistryAuthType, RegistryCredentialStore};
//!
//! let registries = RegistryCredentialStore::new(store);
//! let cred = registries.create("ghcr.io", "ci-bot", "ghp_xxxx", RegistryAuthType::Token).await?;
//! let found = registries.find_by_registry("https://GHCR.IO:443/").await?;
//! assert_eq!(found[0].id, cred.id);
//! assert_eq!(registries.get_password(&cred.id).await?.expose(), "ghp_xxxx");
//! # Ok::<(), zlayer_secrets_core::SecretsError>(())
//! # }).unwrap();
//! ```

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;
use zlayer_secrets_core::{Result, Secret, SecretsStore};

pub use crate::host::normalize_registry;
use crate::scopes::REGISTRY_CREDENTIALS_SCOPE;
use crate::typed::{self, CredentialRecord};

/// A registry credential without its password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryCredential {
    /// Unique identifier (a random UUID).
    pub id: String,
    /// The registry as given at creation, e.g. `"docker.io"` or `"ghcr.io"`; compare with
    /// [`normalize_registry`].
    pub registry: String,
    /// User name for authentication.
    pub username: String,
    /// Basic authentication or a bearer token.
    pub auth_type: RegistryAuthType,
}

/// How a registry credential authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistryAuthType {
    /// HTTP basic authentication (user name and password).
    Basic,
    /// A bearer token.
    Token,
}

/// The stored form: the credential and its password in one record.
#[derive(Serialize, Deserialize)]
struct RegistryRecord {
    #[serde(flatten)]
    credential: RegistryCredential,
    password: String,
}

impl std::fmt::Debug for RegistryRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryRecord")
            .field("credential", &self.credential)
            .field("password", &"[REDACTED]")
            .finish()
    }
}

impl Drop for RegistryRecord {
    fn drop(&mut self) {
        self.password.zeroize();
    }
}

impl CredentialRecord for RegistryRecord {
    const NOUN: &'static str = "registry credential";

    fn id(&self) -> &str {
        &self.credential.id
    }
}

/// Store of registry credentials over any [`SecretsStore`].
pub struct RegistryCredentialStore<S: SecretsStore> {
    store: S,
}

impl<S: SecretsStore> std::fmt::Debug for RegistryCredentialStore<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryCredentialStore")
            .field("scope", &REGISTRY_CREDENTIALS_SCOPE)
            .finish_non_exhaustive()
    }
}

/// Orders by registry key, then user name, then id.
fn sort(creds: &mut [(String, RegistryCredential)]) {
    creds.sort_by(|(ka, a), (kb, b)| (ka, &a.username, &a.id).cmp(&(kb, &b.username, &b.id)));
}

impl<S: SecretsStore> RegistryCredentialStore<S> {
    /// A registry credential store keeping its records in `store`.
    pub fn new(store: S) -> Self {
        Self { store }
    }

    /// The underlying store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Stores a new credential under a fresh random id and returns it (without password).
    ///
    /// `registry` must be a host [`normalize_registry`] accepts; it is kept as given.
    /// `username` must not be empty for [`RegistryAuthType::Basic`]; `password` (the
    /// password or token) must not be empty. One write to the store.
    pub async fn create(
        &self,
        registry: &str,
        username: &str,
        password: &str,
        auth_type: RegistryAuthType,
    ) -> Result<RegistryCredential> {
        normalize_registry(registry)?;
        typed::check_label("user name", username, auth_type == RegistryAuthType::Token)?;
        typed::check_secret_value("password or token", password)?;
        let rec = RegistryRecord {
            credential: RegistryCredential {
                id: crate::random::uuid_v4()?,
                registry: registry.trim().to_owned(),
                username: username.to_owned(),
                auth_type,
            },
            password: password.to_owned(),
        };
        typed::insert(&self.store, REGISTRY_CREDENTIALS_SCOPE, &rec).await?;
        tracing::info!(
            id = %rec.credential.id,
            registry = %rec.credential.registry,
            username = %rec.credential.username,
            "created registry credential"
        );
        Ok(rec.credential.clone())
    }

    /// The credential (without password), `None` if there is none with this id.
    pub async fn get(&self, id: &str) -> Result<Option<RegistryCredential>> {
        let rec: Option<RegistryRecord> =
            typed::fetch(&self.store, REGISTRY_CREDENTIALS_SCOPE, id).await?;
        Ok(rec.map(|r| r.credential.clone()))
    }

    /// The password or token of a credential;
    /// [`NotFound`](zlayer_secrets_core::SecretsError::NotFound) if there is none with this
    /// id.
    pub async fn get_password(&self, id: &str) -> Result<Secret> {
        let rec: RegistryRecord = typed::fetch(&self.store, REGISTRY_CREDENTIALS_SCOPE, id)
            .await?
            .ok_or_else(|| typed::not_found::<RegistryRecord>(id))?;
        Ok(Secret::new(rec.password.as_str()))
    }

    /// Replaces the password or token of an existing credential, keeping its id, registry,
    /// user name and kind (one write, so a credential helper's `store` of a changed
    /// password never leaves a moment without a credential);
    /// [`NotFound`](zlayer_secrets_core::SecretsError::NotFound) if there is none with this
    /// id.
    pub async fn set_password(&self, id: &str, password: &str) -> Result<()> {
        typed::check_secret_value("password or token", password)?;
        let mut rec: RegistryRecord = typed::fetch(&self.store, REGISTRY_CREDENTIALS_SCOPE, id)
            .await?
            .ok_or_else(|| typed::not_found::<RegistryRecord>(id))?;
        rec.password.zeroize();
        password.clone_into(&mut rec.password);
        typed::replace(&self.store, REGISTRY_CREDENTIALS_SCOPE, &rec).await?;
        tracing::info!(id, "changed password of registry credential");
        Ok(())
    }

    async fn keyed(&self) -> Result<Vec<(String, RegistryCredential)>> {
        let recs: Vec<RegistryRecord> =
            typed::fetch_all(&self.store, REGISTRY_CREDENTIALS_SCOPE).await?;
        let mut out = Vec::with_capacity(recs.len());
        for rec in recs {
            // A record written by an older version may hold a registry we now refuse;
            // it still lists, keyed by its lowercased text.
            let key = normalize_registry(&rec.credential.registry)
                .unwrap_or_else(|_| rec.credential.registry.to_ascii_lowercase());
            out.push((key, rec.credential.clone()));
        }
        sort(&mut out);
        Ok(out)
    }

    /// Every credential (without passwords), ordered by normalised registry, then user
    /// name, then id. A corrupt record fails the listing with an error naming its id.
    pub async fn list(&self) -> Result<Vec<RegistryCredential>> {
        Ok(self.keyed().await?.into_iter().map(|(_, c)| c).collect())
    }

    /// The credentials for a registry, compared through [`normalize_registry`] (so
    /// `https://index.docker.io/v1/` finds a credential created for `docker.io`), in the
    /// order of [`list`](Self::list). Empty if there is none.
    pub async fn find_by_registry(&self, registry: &str) -> Result<Vec<RegistryCredential>> {
        let wanted = normalize_registry(registry)?;
        Ok(self
            .keyed()
            .await?
            .into_iter()
            .filter(|(key, _)| *key == wanted)
            .map(|(_, c)| c)
            .collect())
    }

    /// Deletes a credential and its password (one write);
    /// [`NotFound`](zlayer_secrets_core::SecretsError::NotFound) if there is none with this
    /// id.
    pub async fn delete(&self, id: &str) -> Result<()> {
        typed::remove::<S, RegistryRecord>(&self.store, REGISTRY_CREDENTIALS_SCOPE, id).await?;
        tracing::info!(id, "deleted registry credential");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_type_serde_is_snake_case() {
        assert_eq!(
            serde_json::to_string(&RegistryAuthType::Basic).unwrap(),
            "\"basic\""
        );
        assert_eq!(
            serde_json::to_string(&RegistryAuthType::Token).unwrap(),
            "\"token\""
        );
        let t: RegistryAuthType = serde_json::from_str("\"token\"").unwrap();
        assert_eq!(t, RegistryAuthType::Token);
    }

    #[test]
    fn credential_serde_shape_is_the_original() {
        let c = RegistryCredential {
            id: "i".into(),
            registry: "ghcr.io".into(),
            username: "u".into(),
            auth_type: RegistryAuthType::Basic,
        };
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            serde_json::json!({"id": "i", "registry": "ghcr.io", "username": "u", "auth_type": "basic"})
        );
    }

    #[test]
    fn record_is_flat_and_its_debug_hides_the_password() {
        let rec = RegistryRecord {
            credential: RegistryCredential {
                id: "i".into(),
                registry: "ghcr.io".into(),
                username: "u".into(),
                auth_type: RegistryAuthType::Token,
            },
            password: "tok-hunter2".into(),
        };
        let json = serde_json::to_value(&rec).unwrap();
        assert_eq!(json["password"], "tok-hunter2");
        assert_eq!(json["auth_type"], "token");
        let dbg = format!("{rec:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(dbg.contains("REDACTED"), "{dbg}");
    }
}
