//! [`LocalStore::rotate_key`]: a new key file, and the store re-protected by it.

use std::path::PathBuf;

use zlayer_secrets_core::{Result, SecretsError};

use super::{KEY_NAME, LocalStore, Notice, Pending};
use crate::ReencryptReport;

/// What [`LocalStore::rotate_key`] did (fingerprints only, no key material).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyRotated {
    /// The fingerprint of the key that locked the store before (after finishing an
    /// interrupted rotation, if there was one).
    pub old_fingerprint: String,
    /// The fingerprint of the key that locks it now.
    pub new_fingerprint: String,
    /// The key file, which now holds the new key.
    pub key_file: PathBuf,
    /// Whether the new key came from an earlier rotation that did not finish.
    pub resumed: bool,
    /// With re-encryption: what was re-encrypted.
    pub reencrypted: Option<ReencryptReport>,
}

impl LocalStore {
    /// Replaces the key file with a new random key and locks the store with it: only the
    /// wrapped data key is rewritten, or with `reencrypt` every stored version is re-encrypted
    /// under a new data key too (see [`PersistentSecretsStore::rekey`] and
    /// [`PersistentSecretsStore::reencrypt_all`]).
    ///
    /// Order (see [`KeyManager::begin_rotation`]): the new key is written to the pending key
    /// file, the store is re-protected in one transaction, then the pending file replaces the
    /// key file. A crash at any point leaves a store that opens with the key file or with the
    /// pending key, and the next call finishes the work: a store the key file still opens is
    /// re-protected with the pending key (the rotation resumes,
    /// [`Notice::ResumedRotation`]); one only the pending key opens has the pending file
    /// committed first ([`Notice::FinishedRotation`]), then is rotated again.
    ///
    /// Refused when there is no store yet, and when the key comes from `ZLAYER_SECRETS_KEY` or
    /// `ZLAYER_SECRETS_PASSWORD` (there is no key file to replace).
    ///
    /// [`PersistentSecretsStore::rekey`]: crate::PersistentSecretsStore::rekey
    /// [`PersistentSecretsStore::reencrypt_all`]: crate::PersistentSecretsStore::reencrypt_all
    /// [`KeyManager::begin_rotation`]: zlayer_secrets_crypto::KeyManager::begin_rotation
    pub async fn rotate_key(&self, reencrypt: bool) -> Result<KeyRotated> {
        self.rotate_key_with_progress(reencrypt, |_, _| {}).await
    }

    /// [`rotate_key`](Self::rotate_key), calling `progress(done, total)` (counted in stored
    /// versions) while re-encrypting.
    pub async fn rotate_key_with_progress<P>(
        &self,
        reencrypt: bool,
        progress: P,
    ) -> Result<KeyRotated>
    where
        P: FnMut(u64, u64) + Send + 'static,
    {
        self.check_dir()?;
        if !self.exists() {
            return Err(SecretsError::NothingToRotate {
                dir: self.dir.clone(),
            });
        }
        let opened = self.open_with(Pending::Finish).await?;
        let (store, old) = (opened.store, opened.key);
        let rotation = self
            .keys
            .begin_rotation(KEY_NAME)
            .map_err(|e| SecretsError::during("start the key rotation", e))?;
        let resumed = rotation.resumed();
        if resumed {
            self.notify(&Notice::ResumedRotation {
                pending_key_file: rotation.pending_path().to_path_buf(),
            });
        }
        let new_key = rotation.new_key().clone();
        let reencrypted = if reencrypt {
            let report = store
                .reencrypt_all_with_progress(new_key, progress)
                .await
                .map_err(|e| {
                    SecretsError::during("re-encrypt the store (the old key still opens it)", e)
                })?;
            self.notify(&Notice::Reencrypted(report));
            Some(report)
        } else {
            store.rekey(new_key).await.map_err(|e| {
                SecretsError::during("re-key the store (the old key still opens it)", e)
            })?;
            None
        };
        let key_file = rotation.key_path().to_path_buf();
        let new_key = rotation.commit().map_err(|e| {
            SecretsError::during(
                "replace the key file, while the store is locked with the new key (run \
                 `zlayer-secret key rotate` again to finish this)",
                e,
            )
        })?;
        self.notify(&Notice::ReplacedKeyFile {
            key_file: key_file.clone(),
        });
        Ok(KeyRotated {
            old_fingerprint: old.fingerprint(),
            new_fingerprint: new_key.fingerprint(),
            key_file,
            resumed,
            reencrypted,
        })
    }
}
