//! `PersistentSecretsStore`: secrets encrypted at rest in a local SQLite database.
//!
//! Depend on this crate if you need the embedded store itself; applications normally reach it
//! through the `zlayer-secrets` facade (feature `persistent`). Code that only reads or
//! resolves secrets should depend on `zlayer-secrets-core` and take a `SecretsProvider`.
//!
//! - [`PersistentSecretsStore`] is the store in one database file, opened with a key.
//! - [`LocalStore`] is the store of a data directory as the `zlayer-secret` command, a server
//!   or an agent opens it: its layout, its key from `KeyManager`, reads of a missing store that
//!   create nothing, interrupted key rotations, and key rotation ([`KeyStatus`],
//!   [`KeyRotated`], [`Notice`]).
//!
//! # Example
//!
//! ```
//! use zlayer_secrets_core::{Secret, SecretsProvider, SecretsStore, VersionedSecretsStore};
//! use zlayer_secrets_crypto::EncryptionKey;
//! use zlayer_secrets_sqlite::PersistentSecretsStore;
//!
//! # fn main() -> zlayer_secrets_core::Result<()> {
//! # let dir = tempfile::tempdir().expect("a temporary directory");
//! # let rt = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
//! # rt.block_on(async {
//! let key = EncryptionKey::generate();
//! let store = PersistentSecretsStore::open(dir.path(), key.clone()).await?;
//! store.set_secret("myapp", "db-password", &Secret::new("first")).await?;
//! store.set_secret("myapp", "db-password", &Secret::new("second")).await?;
//! assert_eq!(store.get_secret("myapp", "db-password").await?.expose(), "second");
//!
//! // History: read an old version, roll back to it (as version 3).
//! assert_eq!(store.get_secret_version("myapp", "db-password", 1).await?.expose(), "first");
//! store.rollback_secret("myapp", "db-password", 1).await?;
//!
//! // Lock the store with another key; the old one no longer opens it.
//! let new_key = EncryptionKey::generate();
//! store.rekey(new_key.clone()).await?;
//! drop(store);
//! assert!(PersistentSecretsStore::open(dir.path(), key).await.is_err());
//! let store = PersistentSecretsStore::open(dir.path(), new_key).await?;
//! assert_eq!(store.get_secret("myapp", "db-password").await?.expose(), "first");
//! # Ok(())
//! # })
//! # }
//! ```
//!
//! # What it guarantees
//!
//! - **Encryption.** Every stored version of every value is encrypted with
//!   XChaCha20-Poly1305 under a random data key. The associated data binds each ciphertext
//!   to its scope, name and version: a ciphertext copied to another secret, or to another
//!   version of the same one, fails to decrypt with [`SecretsError::Decryption`]. Scopes,
//!   names, version numbers and timestamps are stored in clear.
//! - **Authenticated current versions.** Which version of a secret is current is
//!   authenticated under the data key (with the store, scope and name): a version number
//!   changed outside zlayer-secrets, e.g. rolled back to a version whose value still
//!   decrypts, makes every read and write of that secret fail with
//!   [`SecretsError::Tampered`] instead of returning the old value.
//! - **Envelope keys.** The data key is stored wrapped (encrypted) by the key given to
//!   [`PersistentSecretsStore::open`]. Opening with any other key fails at once with
//!   [`SecretsError::WrongKey`]. [`PersistentSecretsStore::rekey`] changes the outer key by
//!   rewriting one row; [`PersistentSecretsStore::reencrypt_all`] replaces the data key and
//!   re-encrypts everything. Either runs in one transaction: after a crash the store opens with
//!   exactly one of the two keys and loses nothing.
//! - **Scopes and names** are separate columns: `("a", "b:c")` and `("a:b", "c")` are two
//!   different secrets, and `list_secrets("a")` lists exactly scope `a`.
//! - **History.** Each write adds a version; the last [`StoreOptions::retention`] versions
//!   (default [`DEFAULT_RETENTION`]) are kept, can be read and listed, and a rollback writes
//!   an old value again as a new version.
//! - **Concurrency.** Every write is a `BEGIN IMMEDIATE` transaction, so writers in several
//!   threads or processes queue for the lock (up to [`StoreOptions::busy_timeout`]) and no
//!   update is lost: each write adds exactly one version. Batches
//!   ([`BatchSecretsStore::apply_batch`]) are all-or-nothing. Reads run on a pool of up to
//!   [`StoreOptions::read_connections`] connections beside the writer, in parallel with each
//!   other and with writes; each is one read transaction, so it sees a batch whole or not at
//!   all, and every write that returned before it started.
//! - **Durability.** The database runs in WAL mode with `synchronous = FULL` by default
//!   ([`Durability::Full`]): a write that returned is on disk, and survives a killed process
//!   and a power loss alike. `synchronous = NORMAL` ([`Durability::Normal`]) is faster but
//!   can lose the last commits on power loss (never on a process crash); it is available for
//!   bulk work, not the default, because a secret reported as stored may already be in use.
//! - **Audit log.** Every read of a value and every change is an entry of the store's audit
//!   log, in the same database ([`AuditLog`](zlayer_secrets_core::audit::AuditLog)): who
//!   ([`StoreOptions::actor`], or the context of `zlayer_secrets_core::audit::scope`), what,
//!   which secret and version, and the outcome; never a value. A write and its entry commit
//!   in one transaction; entries of reads are committed in batches a few milliseconds later
//!   (before any later write of the handle, and when it is dropped). Each entry carries a MAC
//!   chained to the one before, under a key derived from the data key, so an edited, removed
//!   or reordered entry makes [`verify`](zlayer_secrets_core::audit::AuditLog::verify) name
//!   it. [`StoreOptions::audit`] turns recording off for a handle, which is itself recorded.
//! - **Files.** [`PersistentSecretsStore::open`] takes a directory (the database is
//!   [`DB_FILE_NAME`] inside it; a missing path without a `.sqlite`, `.db` or `.sqlite3`
//!   extension is created as that directory) or a database file. A new database file is
//!   created with mode 0600 before SQLite opens it (SQLite gives its `-wal` and `-shm` files
//!   the same mode), and missing directories with mode 0700.
//! - **Limits.** Values up to [`MAX_VALUE_LEN`] bytes (1 MiB); a larger one is refused with
//!   [`SecretsError::TooLarge`]. Names and scopes follow
//!   [`validate_name`](zlayer_secrets_core::validate_name) and
//!   [`validate_scope`](zlayer_secrets_core::validate_scope).
//! - **Async.** rusqlite is blocking; every call runs on tokio's blocking thread pool, so the
//!   store works under the multi-thread and the current-thread runtime alike. A call whose
//!   future is dropped still runs to completion or rolls back as a whole.
//!
//! The on-disk format (tables, associated-data encoding, re-keying protocol) is described in
//! `docs/format.md`.
//!
//! [`SecretsError::Decryption`]: zlayer_secrets_core::SecretsError::Decryption
//! [`SecretsError::Tampered`]: zlayer_secrets_core::SecretsError::Tampered
//! [`SecretsError::WrongKey`]: zlayer_secrets_core::SecretsError::WrongKey
//! [`SecretsError::TooLarge`]: zlayer_secrets_core::SecretsError::TooLarge
//! [`BatchSecretsStore::apply_batch`]: zlayer_secrets_core::BatchSecretsStore::apply_batch

mod aad;
mod audit;
mod error;
mod fs;
mod info;
mod keys;
mod local;
mod options;
mod readers;
mod reads;
mod recorder;
mod schema;
mod seal;
mod store;
mod writer;

pub use info::{KeyInfo, ReencryptReport};
pub use local::{KEY_NAME, KeyInUse, KeyRotated, KeyStatus, LocalStore, Notice};
pub use options::{
    DB_FILE_NAME, DEFAULT_BUSY_TIMEOUT, DEFAULT_READ_CONNECTIONS, DEFAULT_RETENTION, Durability,
    MAX_VALUE_LEN, StoreOptions,
};
pub use schema::SCHEMA_VERSION;
pub use store::PersistentSecretsStore;
