//! Mapping SQLite errors into [`SecretsError`] with context.

use zlayer_secrets_core::SecretsError;

/// A [`SecretsError::Storage`] saying what we were doing when SQLite failed.
///
/// SQLite's messages never contain bound parameter values, so no secret can leak here.
pub(crate) fn storage(doing: &str, err: &rusqlite::Error) -> SecretsError {
    SecretsError::Storage(format!("{doing}: {err}"))
}
