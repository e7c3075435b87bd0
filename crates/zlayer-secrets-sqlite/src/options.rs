//! [`StoreOptions`]: retention, durability, lock waiting and read connections of a store.

use std::time::Duration;

use zlayer_secrets_core::audit::Actor;

/// Versions kept per secret unless [`StoreOptions::retention`] says otherwise.
pub const DEFAULT_RETENTION: u32 = 10;

/// Largest secret value accepted, in bytes: the one limit of every store,
/// [`zlayer_secrets_core::MAX_VALUE_LEN`] (1 MiB, inclusive), under the name this crate has
/// always given it.
///
/// A bigger value is refused with [`SecretsError::TooLarge`] before anything is written.
///
/// [`SecretsError::TooLarge`]: zlayer_secrets_core::SecretsError::TooLarge
pub use zlayer_secrets_core::MAX_VALUE_LEN;

/// How long a writer waits for another writer (thread or process) before giving up, unless
/// [`StoreOptions::busy_timeout`] says otherwise.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How many read connections a store opens at most, unless
/// [`StoreOptions::read_connections`] says otherwise.
pub const DEFAULT_READ_CONNECTIONS: usize = 4;

/// The file name used when [`open`](crate::PersistentSecretsStore::open) is given a directory
/// (or a missing path without a database extension), and the database of a [`LocalStore`]'s
/// data directory.
///
/// [`LocalStore`]: crate::LocalStore
pub const DB_FILE_NAME: &str = "secrets.sqlite";

/// When a committed write reaches the disk (SQLite's `synchronous` setting in WAL mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous = FULL`: every commit is flushed to disk (`fsync` of the write-ahead log)
    /// before it returns. A committed write survives a process crash and a power loss. The
    /// default: writes to a secrets store are rare, and a secret that was reported stored
    /// (and perhaps already handed to someone) must not vanish.
    #[default]
    Full,
    /// `synchronous = NORMAL`: commits are flushed at checkpoints only. A committed write
    /// survives a process crash, but the last commits before a power loss or kernel panic can
    /// be lost (the database stays consistent). Faster for bulk loads.
    Normal,
}

impl Durability {
    pub(crate) fn pragma_value(self) -> &'static str {
        match self {
            Self::Full => "FULL",
            Self::Normal => "NORMAL",
        }
    }
}

/// Options of [`PersistentSecretsStore::open_with_options`](crate::PersistentSecretsStore::open_with_options).
///
/// Build one with struct-update syntax:
///
/// ```
/// use zlayer_secrets_sqlite::StoreOptions;
/// let options = StoreOptions { retention: 3, ..StoreOptions::default() };
/// assert_eq!(options.retention, 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// How many versions of each secret are kept, the current one included (at least 1).
    /// Older versions are deleted by the write that makes them fall out of the window.
    pub retention: u32,
    /// When commits reach the disk.
    pub durability: Durability,
    /// How long a write waits for the database lock held by another writer (at most
    /// `i32::MAX` milliseconds, about 24 days).
    pub busy_timeout: Duration,
    /// How many reads of this store run at the same time (at least 1): the size of its pool
    /// of read connections to the database file, beside the one connection that writes.
    ///
    /// In WAL mode readers do not wait for the writer or for each other, so up to this many
    /// reads (`get_secret`, `get_secrets`, `list_secrets`, `exists`, metadata, history and
    /// `key_info`) proceed in parallel while a write is under way; more wait for a free
    /// connection. Connections are opened when first needed: a store that only ever serves
    /// one read at a time opens one. Each costs an open file and SQLite's page cache (up to
    /// 2 MiB) once used.
    pub read_connections: usize,
    /// Whether this handle records its operations in the store's audit log (on by default).
    ///
    /// Off, nothing this handle does is recorded, except the change itself: opening with a
    /// setting other than the one the store last had records an `audit-disable` (or
    /// `audit-enable`) entry of [`actor`](Self::actor). Other handles keep their own setting.
    pub audit: bool,
    /// Who the handle's operations are recorded as when the calling task names no one
    /// (with `zlayer_secrets_core::audit::scope`): by default the user running the process,
    /// through the program's name.
    pub actor: Actor,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            retention: DEFAULT_RETENTION,
            durability: Durability::default(),
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            read_connections: DEFAULT_READ_CONNECTIONS,
            audit: true,
            actor: Actor::default(),
        }
    }
}
