//! [`VaultSecretsProvider`]: secrets in a HashiCorp Vault or OpenBao KV version 2 engine.
//!
//! Depend on this crate (or on the `zlayer-secrets` facade with its `vault` feature) when
//! secrets should live in a Vault or OpenBao server shared by many machines. For secrets on
//! one machine use the SQLite store instead; to only read or resolve secrets through the
//! traits, `zlayer-secrets-core` is enough.
//!
//! The provider implements [`SecretsStore`](zlayer_secrets_core::SecretsStore),
//! [`VersionedSecretsStore`](zlayer_secrets_core::VersionedSecretsStore) and
//! [`BatchSecretsStore`](zlayer_secrets_core::BatchSecretsStore) (not atomic: KV v2 has no
//! transactions) over the KV v2 HTTP API, with a small `reqwest` client on rustls.
//!
//! It shares the mount with other tools: writes keep the fields `bao kv put` stored next to
//! `value`, data without a `value` string reads as the JSON object of its fields (or, for a
//! `value` of another JSON kind, as [`SecretsError::NotText`](zlayer_secrets_core::SecretsError::NotText)),
//! and a mount that is not KV version 2 is refused before anything is written. See
//! [`VaultSecretsProvider`] for the details.
//!
//! ```no_run
//! # async fn demo() -> zlayer_secrets_core::Result<()> {
//! use zlayer_secrets_core::{Secret, SecretsProvider, SecretsStore};
//! use zlayer_secrets_vault::VaultSecretsProvider;
//!
//! // VAULT_ADDR, VAULT_TOKEN, and optionally VAULT_MOUNT (default `secret`) and VAULT_NAMESPACE.
//! let vault = VaultSecretsProvider::from_env()?;
//! vault.set_secret("prod", "db-password", &Secret::new("hunter2")).await?;
//! let password = vault.get_secret("prod", "db-password").await?;
//! assert_eq!(password.expose(), "hunter2");
//! # Ok(())
//! # }
//! ```

mod batch;
mod client;
mod config;
mod store;
mod wire;
mod writes;

pub use config::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_CONCURRENCY, DEFAULT_MOUNT, DEFAULT_REQUEST_TIMEOUT,
    ENV_VAULT_ADDR, ENV_VAULT_CACERT, ENV_VAULT_CLIENT_TIMEOUT, ENV_VAULT_MOUNT,
    ENV_VAULT_NAMESPACE, ENV_VAULT_TOKEN, VaultConfig,
};
pub use store::VaultSecretsProvider;
