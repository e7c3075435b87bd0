//! Opening the store a command works on.
//!
//! **One store per data directory.** The data directory (`--data-dir`, else
//! `ZLAYER_SECRETS_DIR`, else `zlayer-secrets` in the platform data directory, e.g.
//! `~/.local/share/zlayer-secrets`) holds one SQLite database, `secrets.sqlite`, with every
//! deployment, service and environment scope, and the grants. Its [`LocalStore`] owns the
//! layout, the key (`ZLAYER_SECRETS_KEY`, else `ZLAYER_SECRETS_PASSWORD`, else the key file
//! `secrets_default.key` beside the database, generated on the first write) and the rules for
//! opening it; this module prints its notices and reports its errors.
//!
//! Commands reach the store only through the trait objects in [`Backend`]. With
//! `--backend vault` they are filled by a [`VaultSecretsProvider`] configured from
//! `VAULT_ADDR`, `VAULT_TOKEN`, `VAULT_MOUNT`, `VAULT_NAMESPACE` and `VAULT_CACERT`; there is
//! no local key then (Vault manages its own), and batches are not atomic.
//!
//! **Auditing.** Every local store this process opens records its operations in the store's
//! audit log, as done by the actor of the running task's audit scope (the user and the verb,
//! which `entry.rs` and the docker helper set); after `--no-audit` ([`disable_audit`]) they
//! are opened with auditing off, which the store records once.
//!
//! With `--server URL` ([`Remote`]) they are filled by a [`RemoteStore`] speaking to a
//! `zlayer-secret serve` with the API key of `ZLAYER_SECRETS_API_KEY` and
//! `ZLAYER_SECRETS_API_SECRET`; [`Backend::remote`] then also gives the verbs that the
//! server does in one request (`run`) or by its own routes (the grants) the store itself.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context as _, bail};
use zlayer_secrets::audit::{self, Actor};
use zlayer_secrets::sqlite::{Notice, StoreOptions};
use zlayer_secrets::{
    BatchSecretsStore, LocalEnvScopes, LocalStore, MemoryStore, PersistentSecretsStore,
    SecretsError, SecretsProvider, SecretsResolver, SecretsStore, VaultSecretsProvider,
    VersionedSecretsStore,
};
use zlayer_secrets_client::{RemoteConfig, RemoteStore};

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

/// A secrets server to work against instead of a local store: `--server URL` (or
/// `ZLAYER_SECRETS_SERVER`) with `--server-ca PEM` (or `ZLAYER_SECRETS_SERVER_CA`), and the
/// API key of `ZLAYER_SECRETS_API_KEY` and `ZLAYER_SECRETS_API_SECRET`.
///
/// It stands beside a [`Location`]: when it is given, the store verbs use it and the verbs
/// that only a local store has ([`Remote::refuse`]) are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Remote {
    /// The server's URL as given.
    url: String,
    /// The PEM file of CA certificates to trust.
    ca: Option<PathBuf>,
}

impl Remote {
    /// The server of `--server` and `--server-ca`; `None` without a server (an empty URL
    /// counts as none, as an empty variable does; the CA alone means nothing).
    pub(crate) fn from_args(url: Option<&str>, ca: Option<&Path>) -> Option<Self> {
        let url = url.map(str::trim).filter(|u| !u.is_empty())?;
        Some(Self {
            url: url.to_owned(),
            ca: ca
                .filter(|p| !p.as_os_str().is_empty())
                .map(Path::to_path_buf),
        })
    }

    /// Connects: the key pair from the environment, the CA file, one `GET /health`.
    pub(crate) async fn connect(&self) -> anyhow::Result<RemoteStore> {
        let mut config = RemoteConfig::key_from_env(&self.url)?;
        if let Some(ca) = &self.ca {
            config = config.with_ca_file(ca)?;
        }
        Ok(RemoteStore::connect(config).await?)
    }

    /// The error of `verb`, which works on a local store only, when a server is given;
    /// `why` says where to run it instead.
    pub(crate) fn refuse(&self, verb: &str, why: &str) -> anyhow::Error {
        anyhow::anyhow!(
            "`{verb}` does not work against a secrets server (--server {}, or \
             ZLAYER_SECRETS_SERVER): {why}",
            self.url
        )
    }
}

/// The Vault provider configured from the environment.
pub(crate) fn vault_provider() -> anyhow::Result<VaultSecretsProvider> {
    VaultSecretsProvider::from_env().context("cannot use the Vault backend")
}

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
    /// The secrets server, when the store is one: for what it does in one request
    /// (resolving an environment) or by routes of its own (grants).
    pub(crate) remote: Option<Arc<RemoteStore>>,
}

impl Backend {
    /// Opens the store at `location`.
    pub(crate) async fn open_at(location: &Location, access: Access) -> anyhow::Result<Self> {
        match location {
            Location::Local(dir) => Self::open(dir.clone(), access).await,
            Location::Vault => Self::open_vault(),
        }
    }

    /// Opens the store of the server `remote` if one is given, else the one at `location`.
    pub(crate) async fn open_for(
        location: &Location,
        remote: Option<&Remote>,
        access: Access,
    ) -> anyhow::Result<Self> {
        match remote {
            Some(remote) => Self::open_remote(remote).await,
            None => Self::open_at(location, access).await,
        }
    }

    /// Connects to the secrets server `remote` (one health check; the token is asked for
    /// with the first request).
    pub(crate) async fn open_remote(remote: &Remote) -> anyhow::Result<Self> {
        let store = Arc::new(remote.connect().await?);
        Ok(Self {
            store: store.clone(),
            batch: store.clone(),
            remote: Some(store),
        })
    }

    /// The Vault or OpenBao server of `VAULT_ADDR` (with `VAULT_TOKEN`, `VAULT_MOUNT`,
    /// `VAULT_NAMESPACE`, `VAULT_CACERT`). Nothing is contacted until the first request.
    pub(crate) fn open_vault() -> anyhow::Result<Self> {
        let vault = Arc::new(vault_provider()?);
        Ok(Self {
            store: vault.clone(),
            batch: vault,
            remote: None,
        })
    }

    /// Opens the local store of `data_dir`.
    pub(crate) async fn open(data_dir: PathBuf, access: Access) -> anyhow::Result<Self> {
        let local = local_store(&data_dir);
        let store = match access {
            Access::Read => local.open_read().await.map_err(local_error)?,
            Access::Write => Some(local.open_write().await.map_err(local_error)?),
        };
        let Some(store) = store else {
            note!(
                "note: there is no store in {} yet; nothing is stored",
                data_dir.display()
            );
            let empty = Arc::new(MemoryStore::new());
            return Ok(Self {
                store: empty.clone(),
                batch: empty,
                remote: None,
            });
        };
        let store = Arc::new(store);
        Ok(Self {
            store: store.clone(),
            batch: store,
            remote: None,
        })
    }

    /// The store as a read-only provider (for the resolver).
    pub(crate) fn provider(&self) -> Arc<dyn SecretsProvider> {
        self.store.clone()
    }

    /// A resolver over this store with `scope` as the deployment scope, environments
    /// mapped as everywhere (`env:E`, `project:P:env:E`; [`LocalEnvScopes`]).
    pub(crate) fn resolver(&self, scope: &str) -> SecretsResolver<Arc<dyn SecretsProvider>> {
        SecretsResolver::new(self.provider(), scope).with_env_resolver(Arc::new(LocalEnvScopes))
    }

    /// The store as a plain read-write store (for the typed stores).
    pub(crate) fn plain_store(&self) -> Arc<dyn SecretsStore> {
        self.store.clone()
    }
}

/// Whether `--no-audit` (or `ZLAYER_SECRETS_NO_AUDIT`) turned the audit log off for this
/// process, which runs one verb.
static NO_AUDIT: AtomicBool = AtomicBool::new(false);

/// Opens every local store of this process with auditing off (`--no-audit`); opening one
/// records that, as an `audit-disable` entry of the user and verb.
pub(crate) fn disable_audit() {
    NO_AUDIT.store(true, Ordering::Relaxed);
}

/// The options every local store of this process is opened with: auditing on unless
/// [`disable_audit`] was called, and as the actor outside an audit scope the one of the
/// running task's scope (the user and the verb).
fn store_options() -> StoreOptions {
    StoreOptions {
        audit: !NO_AUDIT.load(Ordering::Relaxed),
        actor: audit::current().map_or_else(Actor::default, |context| context.actor),
        ..StoreOptions::default()
    }
}

/// The [`LocalStore`] of `data_dir`, printing its notices as `note!` lines, opened with the
/// audit setting of this process.
pub(crate) fn local_store(data_dir: &Path) -> LocalStore {
    LocalStore::new(data_dir)
        .on_notice(print_notice)
        .with_options(store_options())
}

/// Prints a notice of the local store on stderr, as a warning or a note.
pub(crate) fn print_notice(notice: &Notice) {
    match notice {
        Notice::KeyWarning(_) => note!("warning: {notice}"),
        Notice::Reencrypted(_) | Notice::ReplacedKeyFile { .. } => note!("{notice}"),
        _ => note!("note: {notice}"),
    }
}

/// An error of the local store as the command reports it. Its structured errors name the
/// file concerned already; of the few that are plain text of the original kinds, the text
/// alone (the kind prefix of [`SecretsError`]'s `Display` would only repeat it).
pub(crate) fn local_error(err: SecretsError) -> anyhow::Error {
    match err {
        SecretsError::Storage(text)
        | SecretsError::Encryption(text)
        | SecretsError::Decryption(text) => anyhow::Error::msg(text),
        other => other.into(),
    }
}

/// The database file of a data directory.
pub(crate) fn database_path(data_dir: &Path) -> PathBuf {
    local_store(data_dir).database_path()
}

/// Opens (creating if needed) the SQLite store of `data_dir` with its key.
pub(crate) async fn open_local(data_dir: &Path) -> anyhow::Result<PersistentSecretsStore> {
    local_store(data_dir)
        .open_write()
        .await
        .map_err(local_error)
}

/// The data directory: the option (or `ZLAYER_SECRETS_DIR`), else the platform default.
pub(crate) fn data_dir(arg: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = arg {
        if dir.as_os_str().is_empty() {
            bail!("the data directory is empty (check --data-dir or ZLAYER_SECRETS_DIR)");
        }
        if std::fs::metadata(dir).is_ok_and(|m| !m.is_dir()) {
            bail!(
                "the data directory {} is not a directory (check --data-dir or ZLAYER_SECRETS_DIR)",
                dir.display()
            );
        }
        return Ok(dir.to_path_buf());
    }
    LocalStore::default_dir().map_err(|_| {
        anyhow::anyhow!(
            "cannot find the platform data directory (no home directory?); use --data-dir"
        )
    })
}
