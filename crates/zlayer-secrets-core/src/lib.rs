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
//! - [`SecretsError`] is the error of every store and of the resolver: its variants name
//!   the secret, file or reference concerned, with [`WrongKeyReason`], [`TamperedRecord`],
//!   [`FileProblem`] and [`StoreProblem`] saying what is wrong, and keep their cause
//!   ([`BoxedCause`]); [`SecretsError::root_cause`] sees through the wrappers.
//! - [`SecretsProvider`] (read) and [`SecretsStore`] (write) are what every backend
//!   implements; [`VersionedSecretsStore`] adds history and rollback,
//!   [`BatchSecretsStore`] several writes at once. Names and scopes follow
//!   [`validate_name`] and [`validate_scope`], deployment, service, environment and
//!   project names [`validate_scope_part`], values at most [`MAX_VALUE_LEN`] bytes
//!   ([`validate_value`]); scopes starting with `_zlayer` are zlayer-secrets' own
//!   ([`is_reserved_scope`]); messages name a secret with [`label`].
//! - [`SecretsResolver`] turns references ([`SecretRef`], grammar in [`reference`](mod@reference)) into
//!   values, also inside strings (`postgres://app:{{ $S:pw }}@db`: a [`Template`]), and
//!   injects whole environments ([`SecretsResolver::plan_all`], layered); [`WatchSet`]
//!   tells when the secrets a process was given change;
//!   [`EnvScopeProvider`] maps environments to scopes ([`LocalEnvScopes`] is the plain
//!   local mapping).
//! - [`MemoryStore`] implements every store trait in memory, with real versions.
//! - [`audit`] is the audit log's vocabulary (who did what to which secret, with what
//!   outcome) and the [`AuditLog`](audit::AuditLog) trait; with the `audit-context` feature,
//!   `audit::scope` says who is acting for the stores a task calls.
//! - With the `blocking` feature, `blocking::run_blocking` runs blocking work (SQLite,
//!   Argon2id) off the async worker threads.
//! - With the `testkit` feature, `testkit` holds the conformance suite that every backend
//!   runs (`conformance_suite!`).

pub mod audit;
#[cfg(feature = "blocking")]
pub mod blocking;
mod error;
mod history;
mod limits;
mod memory;
mod metadata;
mod names;
mod provider;
mod resolver;
mod scope;
mod secret;
mod template;
#[cfg(feature = "testkit")]
pub mod testkit;
mod watch;

pub use error::{
    BoxedCause, FileProblem, Result, SecretsError, StoreProblem, TamperedRecord, WrongKeyReason,
};
pub use history::{
    BatchSecretsStore, DEFAULT_HISTORY_RETENTION, SecretVersion, VersionHistory, VersionState,
    VersionedSecretsStore, WriteOp,
};
pub use limits::{MAX_VALUE_LEN, validate_value};
pub use memory::MemoryStore;
pub use metadata::{RotationResult, SecretMetadata, unix_now};
pub use names::{
    API_KEYS_SCOPE, GIT_CREDENTIALS_SCOPE, GRANTS_SCOPE, MAX_NAME_LEN, MAX_SCOPE_LEN,
    REGISTRY_CREDENTIALS_SCOPE, RESERVED_SCOPE_PREFIX, is_reserved_scope, label, validate_name,
    validate_scope, validate_scope_part,
};
pub use provider::{SecretsProvider, SecretsStore};
pub use resolver::{EnvPlan, JsonFieldError, SecretsResolver, is_variable_name, json_field};
pub use scope::{EnvScopeProvider, LocalEnvScopes};
pub use secret::Secret;
pub use template::{Template, TemplateError};
pub use watch::{Versions, WatchSet};
pub use zlayer_secrets_ref as reference;
pub use zlayer_secrets_ref::SecretRef;
pub use zlayer_secrets_ref::SecretScope;
