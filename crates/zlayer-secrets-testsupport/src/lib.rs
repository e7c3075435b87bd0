//! Helpers shared by the tests of the zlayer-secrets crates.
//!
//! Depend on this crate only under `[dev-dependencies]`: it is not published, it panics to
//! report a failure, and no normal build may use it (`cargo xtask tidy` refuses it as a
//! normal dependency). It holds what several test binaries need alike, so that each is
//! written once:
//!
//! - [`block_on`]: runs a future to completion on the calling thread.
//! - [`process`]: [`Run`](process::Run), what one run of a program printed, and
//!   [`run_command`](process::run_command), which runs a command with or without input.
//! - [`openbao`]: the OpenBao server that `cargo xtask ci` starts for the `#[ignore]`d tests,
//!   and its `bao` command line.
//! - [`forward`]: test stores around a real store: [`Holding`](forward::Holding) keeps a
//!   guard (a temporary directory) alive beside a store, and the `forward_*!` macros write
//!   the trait implementations that only pass calls on, for wrappers that change the others.
//! - [`ownership`] (Unix): [`give_away`](ownership::give_away) hands a file to another
//!   user, for tests of the rules on who may own key and database files.
//! - [`unique_scope`]: a scope or deployment name no other test uses.
//! - [`contains`]: whether bytes (a file, an output) hold a value.

// Test code: a panic is how a helper reports that the test cannot go on.
#![allow(clippy::unwrap_used)]

pub mod forward;
pub mod openbao;
#[cfg(unix)]
pub mod ownership;
pub mod process;
pub mod server;

pub use zlayer_secrets_core::testkit::unique_scope;

/// Runs `future` to completion on a runtime of the calling thread (time and I/O drivers
/// enabled), so that a thread-local subscriber or other thread state set by the test sees
/// everything the future does.
///
/// For a runtime with worker threads (needed by stores that block), use
/// `zlayer_secrets_core::testkit::block_on`.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime starts")
        .block_on(future)
}

/// Whether `haystack` holds the bytes of `needle` anywhere (never, for an empty `needle`):
/// for scanning files and output for a value that must not be there.
#[must_use]
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Items the exported macros name; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use async_trait::async_trait;
    pub use std::collections::HashMap;
    pub use zlayer_secrets_core::{
        BatchSecretsStore, Result, RotationResult, Secret, SecretMetadata, SecretVersion,
        SecretsProvider, SecretsStore, VersionHistory, VersionedSecretsStore, WriteOp,
    };
}
