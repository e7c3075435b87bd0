//! The heart of zlayer-secrets: secret values, metadata, errors, the provider and store
//! traits, the reference resolver and an in-memory store.
//!
//! Depend on this crate directly if you only read or resolve secrets (an agent that turns
//! `$S:` references into values at container start), or if you implement a backend: it
//! pulls in no SQLite, no cryptography and no HTTP client (a test of this crate checks
//! `cargo tree`). Applications that want the whole subsystem should depend on the
//! `zlayer-secrets` facade instead.
//!
//! - [`Secret`] holds a value (redacted `Debug`, zeroized on drop); [`SecretMetadata`],
//!   [`SecretVersion`], [`VersionHistory`] and [`RotationResult`] describe secrets without
//!   their values.
//! - [`SecretsProvider`] (read) and [`SecretsStore`] (write) are what every backend
//!   implements; [`VersionedSecretsStore`] adds history and rollback,
//!   [`BatchSecretsStore`] several writes at once. Names and scopes follow
//!   [`validate_name`] and [`validate_scope`]; scopes starting with `_zlayer` are
//!   zlayer-secrets' own ([`is_reserved_scope`]).
//! - [`SecretsResolver`] turns references ([`SecretRef`], grammar in [`reference`](mod@reference)) into
//!   values; [`EnvScopeProvider`] maps environments to scopes ([`LocalEnvScopes`] is the
//!   plain local mapping).
//! - [`MemoryStore`] implements every store trait in memory, with real versions.
//! - With the `blocking` feature, `blocking::run_blocking` runs blocking work (SQLite,
//!   Argon2id) off the async worker threads.
//! - With the `testkit` feature, `testkit` holds the conformance suite that every backend
//!   runs (`conformance_suite!`).

#[cfg(feature = "blocking")]
pub mod blocking;
mod error;
mod history;
mod memory;
mod metadata;
mod names;
mod provider;
mod resolver;
mod scope;
mod secret;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use error::{Result, SecretsError};
pub use history::{
    BatchSecretsStore, DEFAULT_HISTORY_RETENTION, SecretVersion, VersionHistory, VersionState,
    VersionedSecretsStore, WriteOp,
};
pub use memory::MemoryStore;
pub use metadata::{RotationResult, SecretMetadata, unix_now};
pub use names::{
    MAX_NAME_LEN, MAX_SCOPE_LEN, RESERVED_SCOPE_PREFIX, is_reserved_scope, validate_name,
    validate_scope,
};
pub use provider::{SecretsProvider, SecretsStore};
pub use resolver::SecretsResolver;
pub use scope::{EnvScopeProvider, LocalEnvScopes};
pub use secret::Secret;
pub use zlayer_secrets_ref as reference;
pub use zlayer_secrets_ref::SecretRef;
pub use zlayer_secrets_ref::SecretScope;
