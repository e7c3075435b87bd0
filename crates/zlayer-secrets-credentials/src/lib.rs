//! Typed stores for API keys, registry and Git credentials, and environment grants, over
//! any [`SecretsStore`](zlayer_secrets_core::SecretsStore).
//!
//! Depend on this crate if you authenticate API callers, hand out registry or Git
//! credentials, or check who may use an environment's secrets, and want to pick the
//! backend yourself (memory, SQLite, Vault). Applications that want the whole subsystem
//! should depend on the `zlayer-secrets` facade, which re-exports [`credentials`],
//! [`registry_credentials`] and [`git_credentials`] under the original paths.
//!
//! # Reserved scopes
//!
//! The stores keep their records in scopes of the backing store whose first segment is
//! `_zlayer` ([`scopes::RESERVED_SCOPE_PREFIX`]); user deployments and environments never
//! use it (the CLI refuses such scopes and hides them from `ls`; see
//! [`scopes::is_reserved_scope`]):
//!
//! | scope | store | one record per | value (JSON, encrypted by the store) |
//! |---|---|---|---|
//! | `_zlayer/api_keys` | [`credentials::CredentialStore`] | API key | `{"hash": "$argon2id$…", "roles": […]}` |
//! | `_zlayer/registry_credentials` | [`registry_credentials::RegistryCredentialStore`] | credential id | `{"id", "registry", "username", "auth_type", "password"}` |
//! | `_zlayer/git_credentials` | [`git_credentials::GitCredentialStore`] | credential id | `{"id", "name", "kind", "host"?, "username"?, "value", "stored_at_ns"?}` |
//! | `_zlayer/grants` | [`grants::GrantStore`] | environment | `{"environment", "grants": {"user:alice": "read", …}}` |
//!
//! # One record per credential
//!
//! The original crate kept a registry or Git credential as two secrets, its metadata in one
//! scope and its password in another, written one after the other: a crash between the two
//! writes left metadata without a password or the reverse. Here metadata and secret are one
//! JSON value, so creating or deleting a credential is exactly one write of the backing
//! store. That is atomic on every backend, including Vault, which has no transactions, and
//! it works with any `S: SecretsStore` (no need for
//! [`BatchSecretsStore`](zlayer_secrets_core::BatchSecretsStore)). There is no separate
//! index: listing enumerates the scope, so nothing can fall out of step. The price is that
//! listing reads (and decrypts) every record of the scope, in one batched read; the
//! returned types ([`registry_credentials::RegistryCredential`],
//! [`git_credentials::GitCredential`]) hold no secret.
//!
//! # What never shows
//!
//! Passwords, tokens, keys, API secrets and hashes appear in no `Debug` or `Display`
//! output, no error message and no log event of this crate: secret values come back only
//! as [`Secret`](zlayer_secrets_core::Secret) (whose `Debug` is `[REDACTED]`), the internal
//! records have redacting `Debug`, and errors about corrupt records say where the JSON
//! broke without quoting it.
//!
//! # Orders
//!
//! - [`credentials::CredentialStore::list_api_keys`]: by key.
//! - [`registry_credentials::RegistryCredentialStore::list`] and `find_by_registry`: by
//!   normalised registry, then user name, then id.
//! - [`git_credentials::GitCredentialStore::list`] and `find_by_host`: by label, then id.
//! - [`git_credentials::GitCredentialStore::find_by_location_key`]: newest first (the
//!   value stored last), then by label and id.
//! - [`grants::GrantStore::list`]: by environment, then subject (users before groups, each
//!   by id).
//!
//! Host comparison rules are in [`registry_credentials::normalize_registry`] and
//! [`git_credentials::normalize_git_host`] (and for credential helpers
//! [`git_credentials::normalize_git_location`]).

mod blocking;
mod hashing;
mod host;
mod random;
mod record;
mod typed;

pub mod credentials;
pub mod git_credentials;
pub mod grants;
pub mod registry_credentials;
pub mod scopes;

pub use credentials::{ApiKeyIdentity, CredentialStore};
pub use git_credentials::{GitCredential, GitCredentialKind, GitCredentialStore};
pub use grants::{Grant, GrantStore, Operation, PermissionLevel, Subject};
pub use registry_credentials::{RegistryAuthType, RegistryCredential, RegistryCredentialStore};
