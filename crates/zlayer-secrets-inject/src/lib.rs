//! How resolved secrets reach a process, and how they are kept out of what it prints.
//!
//! Depend on this crate if you start programs with secrets (the `zlayer-secret run`
//! command, an agent starting workloads): it holds no store and resolves nothing, it takes
//! values that are already resolved. Programs that only read or store secrets do not need
//! it.
//!
//! - [`Masker`] and [`MaskStream`] replace every given value in a byte stream with
//!   [`CONCEALED`], also when a value arrives split across reads; [`copy_masked`] pipes an
//!   asynchronous reader to a writer through them (a child's stdout or stderr to ours).
//! - [`SecretFiles`] hands values to a program as files (`DIR/NAME`, mode 0400, in a
//!   private directory) instead of variables, and removes them afterwards.
//! - [`pty`] (Unix): a pseudo-terminal for a child's output, so that a program whose
//!   output is masked still writes to a terminal, and the modes of our own terminal, put
//!   back however the child ends.

mod copy;
mod mask;
#[cfg(unix)]
pub mod pty;
mod secret_files;

pub use copy::copy_masked;
pub use mask::{CONCEALED, MAX_SEQUENCE, MIN_MASKED_CHARS, MaskStream, Masker};
pub use secret_files::{SecretFiles, SecretFilesError};
