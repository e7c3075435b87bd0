//! The files zlayer-secrets reads secrets from and writes them to: dotenv (`NAME="value"`
//! lines) and flat JSON objects.
//!
//! Depend on this crate to import or export secrets in these formats (the `zlayer-secret`
//! command's `import`, `export` and `run --env-file`, a secrets server's upload and
//! download). It knows nothing of stores: it turns text into names and
//! [`Secret`](zlayer_secrets_core::Secret) values and back. Applications that only resolve
//! references do not need it.
//!
//! - [`read`] reads a text in a [`Format`] ([`Format::detect`] guesses it) into [`Pair`]s,
//!   each with the [`Place`] it was found at, and [`Warning`]s;
//! - [`dotenv`] is the dotenv dialect: its reader ([`dotenv::parse`]) and the writer whose
//!   output every common reader reads alike ([`dotenv::write_entry`]);
//! - [`json`] is the JSON object of name/string pairs: [`json::parse`] and [`json::write`];
//! - [`shell`] writes what is only ever written: `export K='v'` lines for a POSIX shell and
//!   docker's `--env-file`.
//!
//! Errors ([`FormatError`]) and warnings name the line, the position or the key concerned,
//! never a value. Values travel as `Secret`, and every buffer that holds values is zeroized.

mod error;
mod format;

pub mod dotenv;
pub mod json;
pub mod shell;

pub use error::{FormatError, JsonSyntax, JsonType, Warning};
pub use format::{Contents, Format, Pair, Place, read};
