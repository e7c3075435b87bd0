//! zlayer-secrets: secrets for container workloads, stored encrypted, referenced from
//! configuration, resolved at start.
//!
//! Depend on this crate to use the whole subsystem; it re-exports the public API of the
//! `zlayer-secrets-*` crates under the names of the original `zlayer-secrets` crate, so code
//! written against that crate compiles against this one. An agent that only resolves
//! references can depend on `zlayer-secrets-core` alone (no SQLite, no cryptography), or on
//! this crate with `default-features = false`.
//!
//! # Contents
//!
//! | what | where | feature |
//! |---|---|---|
//! | secret values, metadata, scopes | [`Secret`], [`SecretMetadata`], [`RotationResult`], [`SecretScope`] | always |
//! | errors | [`SecretsError`], [`Result`], the parts of its variants [`WrongKeyReason`], [`TamperedRecord`], [`FileProblem`], [`StoreProblem`], [`BoxedCause`] | always |
//! | provider and store traits | [`SecretsProvider`], [`SecretsStore`], [`VersionedSecretsStore`], [`BatchSecretsStore`] | always |
//! | name, scope and value rules | [`validate_name`], [`validate_scope`], [`validate_scope_part`], [`validate_value`], [`MAX_VALUE_LEN`], [`is_reserved_scope`], [`label`] | always |
//! | versions and batch writes | [`SecretVersion`], [`VersionHistory`], [`VersionState`], [`WriteOp`] | always |
//! | the reference grammar | [`SecretRef`], module [`reference`](mod@reference) | always |
//! | resolving references | [`SecretsResolver`], [`EnvScopeProvider`], [`LocalEnvScopes`], [`Template`], [`TemplateError`] | always |
//! | whole environments, watching for changes | [`EnvPlan`], [`is_variable_name`], [`WatchSet`], [`Versions`] | always |
//! | an in-memory store | [`MemoryStore`] | always |
//! | encryption keys | [`EncryptionKey`], [`KeyManager`], module [`crypto`] | `persistent` |
//! | the SQLite store | [`PersistentSecretsStore`], module [`sqlite`] | `persistent` |
//! | a data directory's store (layout, key, key rotation) | [`LocalStore`] | `persistent` |
//! | API keys | [`credentials::CredentialStore`] | `persistent` |
//! | registry credentials | [`registry_credentials`] | `persistent` |
//! | Git credentials | [`git_credentials`] | `persistent` |
//! | environment grants | [`grants`] | `persistent` |
//! | Vault / OpenBao | [`VaultSecretsProvider`] | `vault` |
//! | `secrecy` (in our API) | [`secrecy`] | always |
//!
//! # Features
//!
//! - `persistent` (default): the SQLite store, keys, and the typed credential stores.
//! - `vault`: [`VaultSecretsProvider`] for HashiCorp Vault / OpenBao KV v2.
//!
//! With `default-features = false` only the traits, the grammar, the resolver and
//! [`MemoryStore`] remain.
//!
//! # Store and read a secret
//!
//! ```
//! use zlayer_secrets::{MemoryStore, Secret, SecretsProvider, SecretsStore};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = MemoryStore::new();
//! store.set_secret("shop", "db-password", &Secret::new("hunter2")).await?;
//! assert_eq!(store.get_secret("shop", "db-password").await?.expose(), "hunter2");
//!
//! // `Debug` never shows the value.
//! let secret = store.get_secret("shop", "db-password").await?;
//! assert_eq!(format!("{secret:?}"), "[REDACTED]");
//!
//! // Rotation reports the versions; it refuses secrets that do not exist.
//! let r = store.rotate_secret("shop", "db-password", &Secret::new("correct horse")).await?;
//! assert_eq!((r.previous_version, r.new_version), (Some(1), 2));
//! assert!(store.rotate_secret("shop", "nope", &Secret::new("x")).await.is_err());
//! # Ok::<(), zlayer_secrets::SecretsError>(())
//! # }).unwrap();
//! ```
//!
//! # Resolve the references of an environment
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::Arc;
//! use zlayer_secrets::{LocalEnvScopes, MemoryStore, Secret, SecretsResolver, SecretsStore};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = Arc::new(MemoryStore::new());
//! store.set_secret("shop", "db-password", &Secret::new("hunter2")).await?;
//! store.set_secret("shop/api", "token", &Secret::new("t0k3n")).await?;
//! store.set_secret("env:prod", "STRIPE", &Secret::new(r#"{"key":"sk_live"}"#)).await?;
//!
//! let resolver = SecretsResolver::new(store, "shop").with_env_resolver(Arc::new(LocalEnvScopes));
//! let env = HashMap::from([
//!     ("DB_PASSWORD".to_owned(), "$S:db-password".to_owned()),
//!     ("API_TOKEN".to_owned(), "$S:@api/token".to_owned()),
//!     ("STRIPE_KEY".to_owned(), "$secret://prod/STRIPE/key".to_owned()),
//!     ("PLAIN".to_owned(), "unchanged".to_owned()),
//! ]);
//! let resolved = resolver.resolve_env(&env).await?;
//! assert_eq!(resolved["DB_PASSWORD"], "hunter2");
//! assert_eq!(resolved["API_TOKEN"], "t0k3n");
//! assert_eq!(resolved["STRIPE_KEY"], "sk_live");
//! assert_eq!(resolved["PLAIN"], "unchanged");
//! # Ok::<(), zlayer_secrets::SecretsError>(())
//! # }).unwrap();
//! ```
//!
//! # Parse a reference
//!
//! ```
//! use zlayer_secrets::SecretRef;
//!
//! let r = SecretRef::parse("$S:shop:prod/stripe/key").unwrap();
//! assert_eq!(r.project.as_deref(), Some("shop"));
//! assert_eq!(r.environment.as_deref(), Some("prod"));
//! assert_eq!((r.name.as_str(), r.field.as_deref()), ("stripe", Some("key")));
//! assert_eq!(r.to_string(), "$S:shop:prod/stripe/key");
//! assert!(SecretRef::parse("$S:").is_none());
//! ```
//!
//! # Keep secrets encrypted on disk
//!
//! ```
//! # #[cfg(feature = "persistent")] {
//! use zlayer_secrets::{
//!     KeyManager, PersistentSecretsStore, Secret, SecretsProvider, SecretsStore,
//!     VersionedSecretsStore,
//! };
//!
//! # tokio::runtime::Builder::new_multi_thread().build().unwrap().block_on(async {
//! let dir = tempfile::tempdir().unwrap();
//! // A key file `secrets_shop.key` (mode 0600) is created on first use, unless
//! // ZLAYER_SECRETS_KEY or ZLAYER_SECRETS_PASSWORD provide the key.
//! let key = KeyManager::with_base_dir(dir.path()).get_or_create_key("shop")?;
//! let store = PersistentSecretsStore::open(dir.path(), key).await?;
//!
//! store.set_secret("shop", "api-key", &Secret::new("v1")).await?;
//! store.set_secret("shop", "api-key", &Secret::new("v2")).await?;
//! assert_eq!(store.get_secret("shop", "api-key").await?.expose(), "v2");
//! assert_eq!(store.get_secret_version("shop", "api-key", 1).await?.expose(), "v1");
//! let back = store.rollback_secret("shop", "api-key", 1).await?;
//! assert_eq!(back.new_version, 3);
//! # Ok::<(), zlayer_secrets::SecretsError>(())
//! # }).unwrap();
//! # }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use secrecy;

pub use zlayer_secrets_core::{
    BatchSecretsStore, BoxedCause, EnvPlan, EnvScopeProvider, FileProblem, JsonFieldError,
    LocalEnvScopes, MAX_NAME_LEN, MAX_SCOPE_LEN, MAX_VALUE_LEN, MemoryStore, RESERVED_SCOPE_PREFIX,
    Result, RotationResult, Secret, SecretMetadata, SecretRef, SecretScope, SecretVersion,
    SecretsError, SecretsProvider, SecretsResolver, SecretsStore, StoreProblem, TamperedRecord,
    Template, TemplateError, VersionHistory, VersionState, VersionedSecretsStore, Versions,
    WatchSet, WriteOp, WrongKeyReason, is_reserved_scope, is_variable_name, json_field, label,
    reference, unix_now, validate_name, validate_scope, validate_scope_part, validate_value,
};

/// The audit log's vocabulary and the [`AuditLog`](audit::AuditLog) trait (the
/// `zlayer_secrets_core::audit` module).
pub use zlayer_secrets_core::audit;

/// Encryption keys: [`EncryptionKey`], [`KeyManager`] and key files (the
/// `zlayer-secrets-crypto` crate).
#[cfg(feature = "persistent")]
#[cfg_attr(docsrs, doc(cfg(feature = "persistent")))]
pub use zlayer_secrets_crypto as crypto;
#[cfg(feature = "persistent")]
#[cfg_attr(docsrs, doc(cfg(feature = "persistent")))]
pub use zlayer_secrets_crypto::{EncryptionKey, KeyManager};

/// The SQLite store and its options (the `zlayer-secrets-sqlite` crate).
#[cfg(feature = "persistent")]
#[cfg_attr(docsrs, doc(cfg(feature = "persistent")))]
pub use zlayer_secrets_sqlite as sqlite;
#[cfg(feature = "persistent")]
#[cfg_attr(docsrs, doc(cfg(feature = "persistent")))]
pub use zlayer_secrets_sqlite::{LocalStore, PersistentSecretsStore};

#[cfg(feature = "persistent")]
#[cfg_attr(docsrs, doc(cfg(feature = "persistent")))]
pub use zlayer_secrets_credentials::{
    CredentialStore, GitCredential, GitCredentialKind, GitCredentialStore, RegistryAuthType,
    RegistryCredential, RegistryCredentialStore,
};
#[cfg(feature = "persistent")]
#[cfg_attr(docsrs, doc(cfg(feature = "persistent")))]
pub use zlayer_secrets_credentials::{
    credentials, git_credentials, grants, registry_credentials, scopes,
};

#[cfg(feature = "vault")]
#[cfg_attr(docsrs, doc(cfg(feature = "vault")))]
pub use zlayer_secrets_vault::VaultSecretsProvider;
