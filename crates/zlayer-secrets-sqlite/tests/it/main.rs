//! Integration tests of `PersistentSecretsStore`.
#![allow(clippy::unwrap_used)] // tests report failure by panicking, helpers included

mod at_rest;
mod audit;
mod batch;
mod conformance;
mod files;
mod history;
mod keys;
mod local;
mod migrate;
mod procs;
mod readers;
mod runtime;
mod scopes;
mod tamper;

use std::path::{Path, PathBuf};

use zlayer_secrets_crypto::EncryptionKey;
use zlayer_secrets_sqlite::{PersistentSecretsStore, StoreOptions};

/// A fixed key, so that child processes and fixtures can share it.
pub(crate) fn key_a() -> EncryptionKey {
    EncryptionKey::from_bytes(&[0xa1; 32]).unwrap()
}

/// Another fixed key.
pub(crate) fn key_b() -> EncryptionKey {
    EncryptionKey::from_bytes(&[0xb2; 32]).unwrap()
}

/// A temporary directory and the database path inside it.
pub(crate) fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite");
    (dir, path)
}

/// A new store at [`temp_db`]'s path, opened with [`key_a`].
pub(crate) async fn new_store() -> (tempfile::TempDir, PathBuf, PersistentSecretsStore) {
    let (dir, path) = temp_db();
    let store = open_a(&path).await;
    (dir, path, store)
}

/// Opens (creating) a store at `path` with [`key_a`].
pub(crate) async fn open_a(path: &Path) -> PersistentSecretsStore {
    PersistentSecretsStore::open(path, key_a()).await.unwrap()
}

/// Opens with options.
pub(crate) async fn open_with(path: &Path, options: StoreOptions) -> PersistentSecretsStore {
    PersistentSecretsStore::open_with_options(path, key_a(), options)
        .await
        .unwrap()
}

/// A raw SQLite connection to the store's file, for tampering and inspection.
pub(crate) fn raw(path: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    conn
}

/// Every value of the first column of the rows `sql` selects, in their order.
pub(crate) fn first_column<T: rusqlite::types::FromSql>(path: &Path, sql: &str) -> Vec<T> {
    raw(path)
        .prepare(sql)
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// A number from an environment variable, or `default`.
pub(crate) fn env_count(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
