//! SQLite errors as [`SecretsError`]s that keep them, and the database path added where the
//! code that failed did not know it.

use std::path::Path;

use zlayer_secrets_core::SecretsError;

/// A [`SecretsError::Database`] saying what we were doing (read after "while") when SQLite
/// failed, and keeping SQLite's error.
///
/// SQLite's messages never contain bound parameter values, so no secret can leak here.
pub(crate) fn database(operation: impl Into<String>, err: rusqlite::Error) -> SecretsError {
    SecretsError::Database {
        operation: operation.into(),
        path: None,
        source: Box::new(err),
    }
}

/// `err` with the database file `path` filled in where it names none: the store's core
/// reports its failures without the path, the edge that knows the path adds it.
pub(crate) fn in_store(path: &Path, err: SecretsError) -> SecretsError {
    let fill = |slot: Option<std::path::PathBuf>| slot.or_else(|| Some(path.to_path_buf()));
    match err {
        SecretsError::Database {
            operation,
            path,
            source,
        } => SecretsError::Database {
            operation,
            path: fill(path),
            source,
        },
        SecretsError::Store { path, problem } => SecretsError::Store {
            path: fill(path),
            problem,
        },
        SecretsError::WrongKey { store, key, reason } => SecretsError::WrongKey {
            store: fill(store),
            key,
            reason,
        },
        other => other,
    }
}
