//! The heart of zlayer-secrets: secret values, metadata, errors, the provider and store
//! traits, and the reference resolver.
//!
//! Depend on this crate directly if you only read or resolve secrets (an agent that turns
//! `$S:` references into values at container start): it pulls in no SQLite, no
//! cryptography and no HTTP client. Applications that want the whole subsystem should
//! depend on the `zlayer-secrets` facade instead.

mod error;
mod history;
mod memory;
mod metadata;
mod names;
mod provider;
mod scope;
mod secret;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use error::{Result, SecretsError};
pub use history::{
    BatchSecretsStore, DEFAULT_HISTORY_RETENTION, SecretVersion, VersionedSecretsStore, WriteOp,
};
pub use memory::MemoryStore;
pub use metadata::{RotationResult, SecretMetadata, unix_now};
pub use names::{MAX_NAME_LEN, MAX_SCOPE_LEN, validate_name, validate_scope};
pub use provider::{SecretsProvider, SecretsStore};
pub use scope::{EnvScopeProvider, LocalEnvScopes, SecretScope};
pub use secret::Secret;
pub use zlayer_secrets_ref as reference;
pub use zlayer_secrets_ref::SecretRef;
