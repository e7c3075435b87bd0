//! Opening the store a command works on.
//!
//! **One store per data directory.** The data directory (`--data-dir`, else
//! `ZLAYER_SECRETS_DIR`, else `zlayer-secrets` in the platform data directory, e.g.
//! `~/.local/share/zlayer-secrets`) holds one SQLite database, `secrets.sqlite`, with every
//! deployment, service and environment scope, and the grants. One key locks it: the
//! [`KeyManager`] key named [`KEY_NAME`] under the data directory, i.e. `ZLAYER_SECRETS_KEY`,
//! else `ZLAYER_SECRETS_PASSWORD`, else the key file `secrets_default.key` beside the
//! database, generated on the first write.
//!
//! Commands reach the store only through the trait objects in [`Backend`]. With
//! `--backend vault` they are filled by a [`VaultSecretsProvider`] configured from
//! `VAULT_ADDR`, `VAULT_TOKEN`, `VAULT_MOUNT`, `VAULT_NAMESPACE` and `VAULT_CACERT`; there is
//! no local key then (Vault manages its own), and batches are not atomic.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use zlayer_secrets::crypto::{KeySource, ResolvedKey};
use zlayer_secrets::{
    BatchSecretsStore, KeyManager, MemoryStore, PersistentSecretsStore, SecretsError,
    SecretsProvider, SecretsStore, VaultSecretsProvider, VersionedSecretsStore,
};

use crate::cli::BackendKind;
use crate::output::note;

/// Where a command finds the secrets: a data directory's local store, or Vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// The local store of this data directory.
    Local(PathBuf),
    /// The Vault or OpenBao server named by `VAULT_ADDR`.
    Vault,
}

impl Location {
    /// The location for `--backend` and `--data-dir` (the data directory matters only
    /// locally).
    pub(crate) fn new(kind: BackendKind, data_dir_arg: Option<&Path>) -> anyhow::Result<Self> {
        Ok(match kind {
            BackendKind::Local => Self::Local(data_dir(data_dir_arg)?),
            BackendKind::Vault => Self::Vault,
        })
    }

    /// The location of a credential helper started without our command line: the backend
    /// from `ZLAYER_SECRETS_BACKEND` (default local), the data directory from
    /// `ZLAYER_SECRETS_DIR`.
    pub(crate) fn from_env() -> anyhow::Result<Self> {
        use clap::ValueEnum as _;
        let kind = match std::env::var("ZLAYER_SECRETS_BACKEND") {
            Err(std::env::VarError::NotPresent) => BackendKind::Local,
            Err(std::env::VarError::NotUnicode(_)) => {
                bail!("ZLAYER_SECRETS_BACKEND is not valid UTF-8 (expected local or vault)")
            }
            Ok(v) if v.trim().is_empty() => BackendKind::Local,
            Ok(v) => BackendKind::from_str(v.trim(), true).map_err(|_| {
                anyhow::anyhow!(
                    "ZLAYER_SECRETS_BACKEND is {:?}; expected local or vault",
                    v.trim()
                )
            })?,
        };
        let env_dir = std::env::var_os("ZLAYER_SECRETS_DIR").map(PathBuf::from);
        Self::new(kind, env_dir.as_deref())
    }

    /// The data directory, for a verb that only the local store has; an error on Vault.
    pub(crate) fn local_only(&self, verb: &str) -> anyhow::Result<&Path> {
        match self {
            Self::Local(dir) => Ok(dir),
            Self::Vault => bail!(
                "`{verb}` does not apply to the Vault backend: keys are managed by Vault \
                 (use Vault's own key rotation, e.g. `vault operator rotate`)"
            ),
        }
    }
}

/// The Vault provider configured from the environment.
pub(crate) fn vault_provider() -> anyhow::Result<VaultSecretsProvider> {
    VaultSecretsProvider::from_env().context("cannot use the Vault backend")
}

/// The [`KeyManager`] key (the "deployment" of `get_or_create_key`) that locks a data
/// directory's store.
pub(crate) const KEY_NAME: &str = "default";

/// What a command needs from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Reads only: a data directory without a store reads as empty, and nothing is created.
    Read,
    /// Writes: the store (and its key file) are created if missing.
    Write,
}

/// The store behind a command, as trait objects.
pub(crate) struct Backend {
    /// Reads, writes and history.
    pub(crate) store: Arc<dyn VersionedSecretsStore>,
    /// Multi-secret writes (import, multi-name `rm`).
    pub(crate) batch: Arc<dyn BatchSecretsStore>,
}

impl Backend {
    /// Opens the store at `location`.
    pub(crate) async fn open_at(location: &Location, access: Access) -> anyhow::Result<Self> {
        match location {
            Location::Local(dir) => Self::open(dir.clone(), access).await,
            Location::Vault => Self::open_vault(),
        }
    }

    /// The Vault or OpenBao server of `VAULT_ADDR` (with `VAULT_TOKEN`, `VAULT_MOUNT`,
    /// `VAULT_NAMESPACE`, `VAULT_CACERT`). Nothing is contacted until the first request.
    pub(crate) fn open_vault() -> anyhow::Result<Self> {
        let vault = Arc::new(vault_provider()?);
        Ok(Self {
            store: vault.clone(),
            batch: vault,
        })
    }

    /// Opens the local store of `data_dir`.
    pub(crate) async fn open(data_dir: PathBuf, access: Access) -> anyhow::Result<Self> {
        let db = database_path(&data_dir);
        if access == Access::Read && !store_exists(&db) {
            note!(
                "note: there is no store in {} yet; nothing is stored",
                data_dir.display()
            );
            let empty = Arc::new(MemoryStore::new());
            return Ok(Self {
                store: empty.clone(),
                batch: empty,
            });
        }
        let store = Arc::new(open_local(&data_dir).await?);
        Ok(Self {
            store: store.clone(),
            batch: store,
        })
    }

    /// The store as a read-only provider (for the resolver).
    pub(crate) fn provider(&self) -> Arc<dyn SecretsProvider> {
        self.store.clone()
    }

    /// The store as a plain read-write store (for the typed stores).
    pub(crate) fn plain_store(&self) -> Arc<dyn SecretsStore> {
        self.store.clone()
    }
}

/// The database file of a data directory.
pub(crate) fn database_path(data_dir: &Path) -> PathBuf {
    data_dir.join(zlayer_secrets::sqlite::DB_FILE_NAME)
}

/// Whether something is at the database path. A symbolic link counts, even a dangling one:
/// the store refuses it with an error, instead of the command treating the directory as
/// empty or making a new key for it.
pub(crate) fn store_exists(db: &Path) -> bool {
    db.symlink_metadata().is_ok()
}

/// Opens (creating if needed) the SQLite store of `data_dir` with its key.
pub(crate) async fn open_local(data_dir: &Path) -> anyhow::Result<PersistentSecretsStore> {
    Ok(open_local_with_key(data_dir, Pending::Refuse).await?.store)
}

/// What opening the store does about an unfinished key rotation: a pending key file
/// (`secrets_default.key.new`) left by a `key rotate` that did not finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pending {
    /// Every verb but `key status` and `key rotate`: a store that still opens with the key
    /// in use opens (with a note); one that only the pending key opens is refused, telling
    /// the user to run `key rotate`. Nothing is committed.
    Refuse,
    /// `key status`: a store that only the pending key opens is opened with it, to report
    /// on; nothing is committed.
    Inspect,
    /// `key rotate`: a store that only the pending key opens, while the key in use comes
    /// from the key file the rotation started from, has the rotation finished (the pending
    /// file replaces the key file).
    Finish,
}

/// An open local store and the key it was opened with.
pub(crate) struct Opened {
    /// The store.
    pub(crate) store: PersistentSecretsStore,
    /// The key in use (from the environment or the key file) and where it came from.
    pub(crate) key: ResolvedKey,
    /// With [`Pending::Inspect`]: the pending key file whose key opened the store, when the
    /// key in use no longer does (a rotation that re-keyed the store but did not finish).
    pub(crate) locked_with_pending: Option<PathBuf>,
}

/// Opens the SQLite store of `data_dir` and says which key opened it.
///
/// A store that exists is never given a freshly generated key (that would only lock it out):
/// its key must come from the environment or its key file. Only `key rotate`
/// ([`Pending::Finish`]) finishes an interrupted rotation, and only when the key in use
/// comes from the key file and the pending key demonstrably opens the store; a key from
/// `ZLAYER_SECRETS_KEY` or `ZLAYER_SECRETS_PASSWORD` that does not open the store is an
/// error, whatever pending file lies beside it.
pub(crate) async fn open_local_with_key(
    data_dir: &Path,
    pending: Pending,
) -> anyhow::Result<Opened> {
    let manager = KeyManager::with_base_dir(data_dir);
    let db = database_path(data_dir);
    let resolved = key_in_use(&manager, &db)?;
    let pending_path = manager.pending_key_file_path(KEY_NAME);
    let pending_exists = pending_path.symlink_metadata().is_ok();
    let why = match PersistentSecretsStore::open(&db, resolved.key.clone()).await {
        Ok(store) => {
            if pending_exists && pending == Pending::Refuse {
                note!(
                    "note: a key rotation was started and not finished ({} exists); the store \
                     still opens with the {}; run `zlayer-secret key rotate` to finish it",
                    pending_path.display(),
                    resolved.source
                );
            }
            return Ok(Opened {
                store,
                key: resolved,
                locked_with_pending: None,
            });
        }
        Err(SecretsError::WrongKey(why)) => why,
        Err(e) => {
            return Err(e).with_context(|| format!("cannot open the store {}", db.display()));
        }
    };
    let from_key_file = matches!(resolved.source, KeySource::File(_));
    if !from_key_file || !pending_exists {
        // A rotation replaces the key file; a key from the environment is not the one it
        // started from, so a pending key is never tried (nor committed) for it.
        let hint = if pending_exists {
            format!(
                "; a rotation of the key file is unfinished ({}), which only `zlayer-secret \
                 key rotate` with the key from the key file finishes",
                pending_path.display()
            )
        } else {
            String::new()
        };
        bail!(
            "the key from the {} does not open the store {}: {why}{hint}",
            resolved.source,
            db.display()
        );
    }
    open_half_done(&manager, &db, resolved, pending).await
}

/// The key of the store: from the environment or the key file, and for a new store a new key
/// file. Its warnings are printed.
fn key_in_use(manager: &KeyManager, db: &Path) -> anyhow::Result<ResolvedKey> {
    let resolved = if store_exists(db) {
        match manager
            .find_key(KEY_NAME)
            .context("cannot read the key of the store")?
        {
            Some(found) => found,
            None => bail!(
                "the store {} exists but there is no key for it: restore the key file {} or \
                 set ZLAYER_SECRETS_KEY (a new key would not open the store)",
                db.display(),
                manager.key_file_path(KEY_NAME).display()
            ),
        }
    } else {
        manager
            .resolve(KEY_NAME)
            .context("cannot create the key of the store")?
    };
    for warning in &resolved.warnings {
        note!("warning: {warning}");
    }
    Ok(resolved)
}

/// A store the key file's key (`resolved`) did not open, with a pending key file beside it:
/// opened with the pending key, then refused, reported or finished as `pending` says.
async fn open_half_done(
    manager: &KeyManager,
    db: &Path,
    resolved: ResolvedKey,
    pending: Pending,
) -> anyhow::Result<Opened> {
    let rotation = manager
        .pending_rotation(KEY_NAME)
        .context("cannot read the pending key of an interrupted rotation")?
        .context("the pending key file disappeared while opening the store")?;
    let store = PersistentSecretsStore::open(db, rotation.new_key().clone())
        .await
        .with_context(|| {
            format!(
                "neither the key from the {} nor the pending key {} opens the store {}",
                resolved.source,
                rotation.pending_path().display(),
                db.display()
            )
        })?;
    match pending {
        Pending::Refuse => bail!(
            "the store {} is locked with the new key of an unfinished key rotation ({}), not \
             with the {}: run `zlayer-secret key rotate` to finish the rotation",
            db.display(),
            rotation.pending_path().display(),
            resolved.source
        ),
        Pending::Inspect => Ok(Opened {
            store,
            key: resolved,
            locked_with_pending: Some(rotation.pending_path().to_path_buf()),
        }),
        Pending::Finish => {
            let key_path = rotation.key_path().to_path_buf();
            let key = rotation
                .commit()
                .context("cannot finish the interrupted key rotation")?;
            note!(
                "note: finished an interrupted key rotation: {} now holds the key that opens the store",
                key_path.display()
            );
            let resolved = manager
                .find_key(KEY_NAME)
                .context("cannot read the key of the store")?
                .filter(|r| r.key.fingerprint() == key.fingerprint())
                .context("the key file changed while finishing the rotation")?;
            Ok(Opened {
                store,
                key: resolved,
                locked_with_pending: None,
            })
        }
    }
}

/// The data directory: the option (or `ZLAYER_SECRETS_DIR`), else the platform default.
pub(crate) fn data_dir(arg: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = arg {
        if dir.as_os_str().is_empty() {
            bail!("the data directory is empty (check --data-dir or ZLAYER_SECRETS_DIR)");
        }
        return Ok(dir.to_path_buf());
    }
    let base = directories::BaseDirs::new()
        .context("cannot find the platform data directory (no home directory?); use --data-dir")?;
    Ok(base.data_dir().join("zlayer-secrets"))
}
