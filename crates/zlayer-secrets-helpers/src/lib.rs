//! The credential-helper protocols through which git and docker keep their passwords and
//! tokens in the typed credential stores of `zlayer-secrets-credentials`.
//!
//! Depend on this crate to serve these protocols (the `zlayer-secret git-credential` verb
//! and the `docker-credential-zlayer` program, or a server or agent answering them itself):
//! it parses the requests, matches hosts and registries (with the normalisation of
//! `zlayer_secrets_credentials`), and runs the operations over any
//! [`SecretsStore`](zlayer_secrets_core::SecretsStore). It reads and writes no stream
//! itself: the caller reads a request (at most [`MAX_REQUEST_BYTES`]) from wherever it
//! comes and writes the answer where it goes. Code that only uses the stores does not need
//! it.
//!
//! - [`git`]: git's `key=value` protocol (`get`, `store`, `erase`) over
//!   [`GitCredentialStore`](zlayer_secrets_credentials::GitCredentialStore);
//! - [`docker`]: docker's JSON protocol (`store`, `get`, `erase`, `list`, `version`) over
//!   [`RegistryCredentialStore`](zlayer_secrets_credentials::RegistryCredentialStore);
//! - [`StoreAccess`]: how an operation reaches the store, opened only when it needs it
//!   ([`Opened`] for a store that is open already).
//!
//! Errors ([`git::GitError`], [`docker::DockerError`]) name the line, the key, the host or
//! the credential concerned, never a password or token.

mod access;
mod message;

pub mod docker;
pub mod git;

pub use access::{OpenError, Opened, StoreAccess};

/// The most bytes of one request worth reading: real requests are a few hundred bytes.
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;
