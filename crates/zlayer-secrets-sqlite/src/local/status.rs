//! [`LocalStore::key_status`]: where the key comes from and what the store records.

use std::path::PathBuf;

use zlayer_secrets_core::{Result, SecretsError};
use zlayer_secrets_crypto::{KeySource, ResolvedKey};

use super::{KEY_NAME, LocalStore, Pending};
use crate::KeyInfo;

/// The key of a data directory's store, without the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyInUse {
    /// Where the key comes from.
    pub source: KeySource,
    /// Its fingerprint (safe to print).
    pub fingerprint: String,
    /// Things to fix that did not stop it from loading (a key or salt file others can read).
    pub warnings: Vec<String>,
}

impl From<ResolvedKey> for KeyInUse {
    fn from(resolved: ResolvedKey) -> Self {
        Self {
            fingerprint: resolved.fingerprint(),
            source: resolved.source,
            warnings: resolved.warnings,
        }
    }
}

/// What [`LocalStore::key_status`] found (no key material).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyStatus {
    /// The data directory.
    pub data_dir: PathBuf,
    /// The database, which may not exist yet.
    pub database: PathBuf,
    /// The key in use; `None` if there is none yet (no variable set and no key file, or a
    /// password set but no salt file yet).
    pub key: Option<KeyInUse>,
    /// The pending key file of an unfinished rotation, if there is one.
    pub pending_rotation: Option<PathBuf>,
    /// Whether the store opens only with the pending key, not with [`key`](Self::key): a
    /// rotation re-keyed it and did not finish (`key rotate` finishes it).
    pub locked_with_pending_key: bool,
    /// What the store records about its keys; `None` if there is no database yet.
    pub store: Option<KeyInfo>,
}

impl LocalStore {
    /// Where the key comes from and what the store records, for `zlayer-secret key status`.
    ///
    /// Creates nothing and changes nothing: a data directory without a database is reported
    /// as such (with the key that would be used, if one exists), and a store that only the
    /// pending key of an unfinished rotation opens is reported, not finished.
    pub async fn key_status(&self) -> Result<KeyStatus> {
        self.check_dir()?;
        let database = self.database_path();
        let pending_rotation = self
            .keys
            .pending_rotation(KEY_NAME)
            .map_err(|e| SecretsError::during("read the pending key file", e))?
            .map(|r| r.pending_path().to_path_buf());
        let (key, store, locked_with_pending_key) = if self.exists() {
            let opened = self.open_with(Pending::Inspect).await?;
            let info = opened
                .store
                .key_info()
                .await
                .map_err(|e| SecretsError::during("read the key records of the store", e))?;
            (Some(opened.key), Some(info), opened.locked_with_pending)
        } else {
            let key = self
                .keys
                .find_key(KEY_NAME)
                .map_err(|e| SecretsError::during("read the key of the store", e))?;
            (key, None, false)
        };
        Ok(KeyStatus {
            data_dir: self.dir.clone(),
            database,
            key: key.map(KeyInUse::from),
            pending_rotation,
            locked_with_pending_key,
            store,
        })
    }
}
