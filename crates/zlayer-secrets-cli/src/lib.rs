//! The `zlayer-secret` command as a library: its arguments, how it picks and opens the
//! store, its verbs and its output.
//!
//! This library exists only so that the two programs of this crate stay thin: `zlayer-secret`
//! parses its command line into a [`Cli`] and hands it to [`run`]; `docker-credential-zlayer`
//! hands its arguments to [`docker_credential_helper`]. Other programs should not depend on
//! it: what they need lives in the crates it is built from (the `zlayer-secrets` facade,
//! `zlayer-secrets-formats`, `zlayer-secrets-inject`, `zlayer-secrets-helpers`).
//!
//! See `docs/cli.md` for every verb. Exit codes: 0 success, 1 failure, 2 usage error; `run`
//! exits with its program's code.

mod backend;
mod cli;
mod commands;
mod entry;
mod formats;
mod helpers;
mod output;
mod own_credentials;
mod progress;
mod scope;
mod suggest;
mod value;

pub use cli::Cli;
pub use entry::run;
pub use helpers::docker_credential_helper;
