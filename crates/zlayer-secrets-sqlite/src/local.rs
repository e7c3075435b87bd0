//! [`LocalStore`]: the store of a data directory, the key that locks it, and the rules for
//! opening it.

mod notice;
mod rotate;
mod status;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use zlayer_secrets_core::{Result, SecretsError, WrongKeyReason};
use zlayer_secrets_crypto::{KeyManager, KeySource, ResolvedKey};

use crate::{DB_FILE_NAME, PersistentSecretsStore, StoreOptions};

pub use notice::Notice;
pub use rotate::KeyRotated;
pub use status::{KeyInUse, KeyStatus};

/// The [`KeyManager`] deployment whose key locks a data directory's store: its key file is
/// `secrets_default.key`, the pending file of a rotation `secrets_default.key.new`.
pub const KEY_NAME: &str = "default";

/// What receives the [`Notice`]s of a [`LocalStore`].
type NoticeHandler = Arc<dyn Fn(&Notice) + Send + Sync>;

/// The encrypted store of a data directory, as every program on the machine opens it.
///
/// **Layout.** A data directory holds one database, [`database_path`](Self::database_path)
/// (`secrets.sqlite`), with every scope, and the files of the [`KeyManager`] key named
/// [`KEY_NAME`]: the key file `secrets_default.key` (mode 0600) and, while a rotation is
/// unfinished, the pending key file `secrets_default.key.new`. The key is the first of
/// `ZLAYER_SECRETS_KEY`, `ZLAYER_SECRETS_PASSWORD` (with the salt file
/// `secrets_default.salt`) and the key file; the key file is generated on the first write.
/// [`default_dir`](Self::default_dir) is the directory used when none is chosen.
///
/// **Opening.** [`open_read`](Self::open_read) creates nothing: a directory without a
/// database gives `None`, which readers treat as an empty store.
/// [`open_write`](Self::open_write) creates the database and, if no key exists yet, the key
/// file. A store that exists is never given a freshly generated key (that would only lock it
/// out): without its key, opening fails and creates nothing.
///
/// **Interrupted rotations.** [`rotate_key`](Self::rotate_key) writes the new key to the
/// pending file, re-protects the store with it, then replaces the key file. After a crash in
/// between, the pending file is left beside a store that opens with one of the two keys:
///
/// - [`open_read`](Self::open_read) and [`open_write`](Self::open_write) open a store that
///   the key in use still opens (with [`Notice::UnfinishedRotation`]) and refuse one that
///   only the pending key opens, saying to run `zlayer-secret key rotate`;
/// - [`key_status`](Self::key_status) opens either, to report on it, and commits nothing;
/// - [`rotate_key`](Self::rotate_key) finishes the rotation: a store that only the pending
///   key opens, while the key in use comes from the key file, has the pending file replace
///   the key file ([`Notice::FinishedRotation`]) before it is rotated again; one the key
///   file still opens is re-keyed with the pending key (the rotation resumes).
///
/// A key from `ZLAYER_SECRETS_KEY` or `ZLAYER_SECRETS_PASSWORD` is not the one a rotation
/// started from: when it does not open the store, the pending key is neither tried nor
/// committed, and the error names the variable.
///
/// **Notices and errors.** Nothing is printed: what a user should know (a key file others
/// can read, an unfinished rotation) goes to the handler set with
/// [`on_notice`](Self::on_notice), at the moment it is learnt, so that notices that come
/// before an error reach the caller too (by default they are logged with `tracing`). Errors
/// are [`SecretsError`]s naming the file concerned: a key that does not open the store is
/// [`SecretsError::WrongKey`] naming the store and where the key came from, and a step that
/// failed (reading the key, re-keying) is an [`Operation`](SecretsError::Operation) saying
/// which, whose [`root_cause`](SecretsError::root_cause) is what went wrong.
///
/// ```
/// use zlayer_secrets_core::{Secret, SecretsProvider, SecretsStore};
/// use zlayer_secrets_sqlite::LocalStore;
///
/// # fn main() -> zlayer_secrets_core::Result<()> {
/// # let dir = tempfile::tempdir().expect("a temporary directory");
/// # let rt = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
/// # rt.block_on(async {
/// // Keys from the variables given here, not from the process environment.
/// let local = LocalStore::new(dir.path()).with_env_vars(Vec::<(String, String)>::new());
/// assert!(local.open_read().await?.is_none(), "no store yet, and none is created");
/// assert!(!local.database_path().exists());
///
/// let store = local.open_write().await?; // creates the database and the key file
/// store.set_secret("myapp", "db-password", &Secret::new("hunter2")).await?;
/// assert!(local.key_file_path().exists());
/// drop(store);
///
/// let rotated = local.rotate_key(false).await?;
/// assert_ne!(rotated.old_fingerprint, rotated.new_fingerprint);
/// let store = local.open_read().await?.expect("the store exists");
/// assert_eq!(store.get_secret("myapp", "db-password").await?.expose(), "hunter2");
/// # Ok(())
/// # })
/// # }
/// ```
#[derive(Clone)]
pub struct LocalStore {
    dir: PathBuf,
    keys: KeyManager,
    notices: NoticeHandler,
    options: StoreOptions,
}

impl fmt::Debug for LocalStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalStore")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// What opening does about a pending key file left by a rotation that did not finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    /// [`LocalStore::open_read`] and [`LocalStore::open_write`]: a store only the pending key
    /// opens is refused.
    Refuse,
    /// [`LocalStore::key_status`]: a store only the pending key opens is opened with it, to
    /// report on; nothing is committed.
    Inspect,
    /// [`LocalStore::rotate_key`]: a store only the pending key opens, while the key in use
    /// comes from the key file, has the rotation finished.
    Finish,
}

/// An open store and the key it was opened with.
struct Opened {
    store: PersistentSecretsStore,
    /// The key in use (from the environment or the key file) and where it came from.
    key: ResolvedKey,
    /// With [`Pending::Inspect`]: whether only the pending key opened the store.
    locked_with_pending: bool,
}

impl LocalStore {
    /// The store of the data directory `dir`, with keys from the process environment. Nothing
    /// is read or created until it is opened.
    #[must_use]
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        Self {
            keys: KeyManager::with_base_dir(&dir),
            dir,
            notices: Arc::new(notice::log),
            options: StoreOptions::default(),
        }
    }

    /// The store of [`default_dir`](Self::default_dir).
    pub fn from_env() -> Result<Self> {
        Ok(Self::new(Self::default_dir()?))
    }

    /// The data directory used when none is chosen: `ZLAYER_SECRETS_DIR` if it is set and not
    /// empty, else `zlayer-secrets` in the platform data directory
    /// (`~/.local/share/zlayer-secrets` on Linux). An error if neither is known (no home
    /// directory).
    pub fn default_dir() -> Result<PathBuf> {
        KeyManager::new().base_dir().map(Path::to_path_buf)
    }

    /// Takes the key variables (`ZLAYER_SECRETS_KEY`, `ZLAYER_SECRETS_PASSWORD`) from exactly
    /// these variables instead of the process environment (see
    /// [`KeyManager::with_env_vars`]).
    #[must_use]
    pub fn with_env_vars<K, V>(mut self, vars: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<std::ffi::OsString>,
    {
        self.keys = self.keys.with_env_vars(vars);
        self
    }

    /// Opens the store with `options` (auditing, the actor its operations are recorded as,
    /// retention, durability) instead of the defaults.
    #[must_use]
    pub fn with_options(mut self, options: StoreOptions) -> Self {
        self.options = options;
        self
    }

    /// Sends every [`Notice`] to `handler` (instead of logging it with `tracing`).
    #[must_use]
    pub fn on_notice(mut self, handler: impl Fn(&Notice) + Send + Sync + 'static) -> Self {
        self.notices = Arc::new(handler);
        self
    }

    /// The data directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The database: [`DB_FILE_NAME`] (`secrets.sqlite`) in the data directory.
    #[must_use]
    pub fn database_path(&self) -> PathBuf {
        self.dir.join(DB_FILE_NAME)
    }

    /// The key file: `secrets_default.key` in the data directory.
    #[must_use]
    pub fn key_file_path(&self) -> PathBuf {
        self.keys.key_file_path(KEY_NAME)
    }

    /// The pending key file of an unfinished rotation: `secrets_default.key.new` in the data
    /// directory.
    #[must_use]
    pub fn pending_key_file_path(&self) -> PathBuf {
        self.keys.pending_key_file_path(KEY_NAME)
    }

    /// Whether something is at the database path. A symbolic link counts, even a dangling
    /// one: opening refuses it with an error, instead of treating the directory as empty or
    /// making a new key for it.
    #[must_use]
    pub fn exists(&self) -> bool {
        self.database_path().symlink_metadata().is_ok()
    }

    /// Opens the store for reading: `None` if the data directory has no database yet (read it
    /// as an empty store), in which case nothing is created, not even the directory or a key.
    pub async fn open_read(&self) -> Result<Option<PersistentSecretsStore>> {
        self.check_dir()?;
        if !self.exists() {
            return Ok(None);
        }
        Ok(Some(self.open_with(Pending::Refuse).await?.store))
    }

    /// Opens the store for writing, creating the data directory (0700), the database (0600)
    /// and, if there is no key yet, the key file (0600).
    pub async fn open_write(&self) -> Result<PersistentSecretsStore> {
        self.check_dir()?;
        Ok(self.open_with(Pending::Refuse).await?.store)
    }

    /// Refuses an empty data directory path (it would put the store in the working
    /// directory).
    fn check_dir(&self) -> Result<()> {
        if self.dir.as_os_str().is_empty() {
            return Err(SecretsError::InvalidInput {
                what: "data directory".to_owned(),
                reason: "the path is empty".to_owned(),
            });
        }
        Ok(())
    }

    fn notify(&self, notice: &Notice) {
        (self.notices)(notice);
    }

    /// Opens the database with the key in use, doing about a pending key file what `pending`
    /// says.
    async fn open_with(&self, pending: Pending) -> Result<Opened> {
        let db = self.database_path();
        let resolved = self.key_in_use()?;
        let pending_path = self.pending_key_file_path();
        let pending_exists = pending_path.symlink_metadata().is_ok();
        let why = match PersistentSecretsStore::open_with_options(
            &db,
            resolved.key.clone(),
            self.options.clone(),
        )
        .await
        {
            Ok(store) => {
                if pending_exists && pending == Pending::Refuse {
                    self.notify(&Notice::UnfinishedRotation {
                        pending_key_file: pending_path,
                        key_source: resolved.source.clone(),
                    });
                }
                return Ok(Opened {
                    store,
                    key: resolved,
                    locked_with_pending: false,
                });
            }
            Err(SecretsError::WrongKey { reason, .. }) => reason,
            // Every other error of opening names the database or the file concerned.
            Err(e) => return Err(e),
        };
        if !matches!(resolved.source, KeySource::File(_)) || !pending_exists {
            // A rotation replaces the key file; a key from the environment is not the one it
            // started from, so a pending key is never tried (nor committed) for it.
            let mut reason = why;
            if let WrongKeyReason::Mismatch {
                unfinished_rotation,
                ..
            } = &mut *reason
                && pending_exists
            {
                *unfinished_rotation = Some(pending_path);
            }
            return Err(SecretsError::WrongKey {
                store: Some(db),
                key: Some(resolved.source.to_string()),
                reason,
            });
        }
        self.open_half_done(&db, resolved, pending).await
    }

    /// The key of the store: from the environment or the key file, and for a new store a new
    /// key file. Its warnings are sent as notices.
    fn key_in_use(&self) -> Result<ResolvedKey> {
        let resolved = if self.exists() {
            match self
                .keys
                .find_key(KEY_NAME)
                .map_err(|e| SecretsError::during("read the key of the store", e))?
            {
                Some(found) => found,
                None => {
                    return Err(SecretsError::KeyMissing {
                        store: self.database_path(),
                        key_file: self.key_file_path(),
                        variable: zlayer_secrets_crypto::ENV_KEY,
                    });
                }
            }
        } else {
            self.keys
                .resolve(KEY_NAME)
                .map_err(|e| SecretsError::during("create the key of the store", e))?
        };
        for warning in &resolved.warnings {
            self.notify(&Notice::KeyWarning(warning.clone()));
        }
        Ok(resolved)
    }

    /// A store the key file's key (`resolved`) did not open, with a pending key file beside
    /// it: opened with the pending key, then refused, reported or finished as `pending` says.
    async fn open_half_done(
        &self,
        db: &Path,
        resolved: ResolvedKey,
        pending: Pending,
    ) -> Result<Opened> {
        let rotation = self
            .keys
            .pending_rotation(KEY_NAME)
            .map_err(|e| {
                SecretsError::during("read the pending key of an interrupted rotation", e)
            })?
            .ok_or_else(|| {
                SecretsError::Storage(
                    "the pending key file disappeared while opening the store".to_owned(),
                )
            })?;
        let store = PersistentSecretsStore::open_with_options(
            db,
            rotation.new_key().clone(),
            self.options.clone(),
        )
        .await
        .map_err(|e| {
            SecretsError::during(
                format!(
                    "open the store {} with the key from the {} or with the pending key {}",
                    db.display(),
                    resolved.source,
                    rotation.pending_path().display()
                ),
                e,
            )
        })?;
        match pending {
            Pending::Refuse => Err(SecretsError::WrongKey {
                store: Some(db.to_path_buf()),
                key: Some(resolved.source.to_string()),
                reason: Box::new(WrongKeyReason::UnfinishedRotation {
                    pending: rotation.pending_path().to_path_buf(),
                }),
            }),
            Pending::Inspect => Ok(Opened {
                store,
                key: resolved,
                locked_with_pending: true,
            }),
            Pending::Finish => {
                let key_file = rotation.key_path().to_path_buf();
                let key = rotation
                    .commit()
                    .map_err(|e| SecretsError::during("finish the interrupted key rotation", e))?;
                self.notify(&Notice::FinishedRotation { key_file });
                let resolved = self
                    .keys
                    .find_key(KEY_NAME)
                    .map_err(|e| SecretsError::during("read the key of the store", e))?
                    .filter(|r| r.key.fingerprint() == key.fingerprint())
                    .ok_or_else(|| {
                        SecretsError::Storage(
                            "the key file changed while finishing the rotation".to_owned(),
                        )
                    })?;
                Ok(Opened {
                    store,
                    key: resolved,
                    locked_with_pending: false,
                })
            }
        }
    }
}
