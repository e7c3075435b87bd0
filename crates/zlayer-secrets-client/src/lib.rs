//! The client of the zlayer-secrets server: [`RemoteStore`], the store traits of
//! `zlayer-secrets-core` over the server's HTTP API, so that every verb of the CLI, the
//! resolver and an agent work against a server as against a local store.
//!
//! Depend on this crate to reach secrets that a `zlayer-secret serve` keeps on another
//! host. It holds no database and no key: it pulls in an HTTP client (reqwest with rustls)
//! and nothing of SQLite, Argon2id or the workspace's cryptography (`cargo xtask tidy`
//! checks). A program that keeps the store itself wants `zlayer-secrets` instead.
//!
//! - [`RemoteConfig`] says where the server is and which API key to use
//!   ([`RemoteConfig::from_env`]: `ZLAYER_SECRETS_SERVER`, `ZLAYER_SECRETS_API_KEY`,
//!   `ZLAYER_SECRETS_API_SECRET`, `ZLAYER_SECRETS_SERVER_CA`).
//! - [`RemoteStore::connect`] checks that the server answers; [`RemoteStore`] implements
//!   `SecretsProvider`, `SecretsStore`, `VersionedSecretsStore` and `BatchSecretsStore`,
//!   and adds what only a server does in one request ([`RemoteStore::resolve_env`],
//!   [`RemoteStore::reveal_all`], [`RemoteStore::bulk_import`]) and its administration
//!   (grants, API keys, [`RemoteStore::whoami`]), and the server's audit log
//!   ([`RemoteStore::audit_entries`], [`RemoteStore::audit_verify`]).
//!
//! ```no_run
//! # async fn demo() -> zlayer_secrets_core::Result<()> {
//! use zlayer_secrets_client::{RemoteConfig, RemoteStore};
//! use zlayer_secrets_core::SecretsProvider as _;
//!
//! let store = RemoteStore::connect(RemoteConfig::from_env()?).await?;
//! let password = store.get_secret("env:prod", "db-password").await?;
//! # drop(password);
//! # Ok(())
//! # }
//! ```

mod admin;
mod audit;
mod bulk;
mod config;
mod errors;
mod http;
mod store;
mod token;

pub use config::{ENV_API_KEY, ENV_API_SECRET, ENV_SERVER, ENV_SERVER_CA, RemoteConfig};
pub use http::{CONNECT_TIMEOUT, REQUEST_TIMEOUT};
pub use store::RemoteStore;
