//! [`Notice`]: what a [`LocalStore`](crate::LocalStore) tells its user besides results and
//! errors.

use std::fmt;
use std::path::PathBuf;

use zlayer_secrets_crypto::KeySource;

use crate::ReencryptReport;

/// Something a user of a data directory's store should know, sent to the handler of
/// [`LocalStore::on_notice`](crate::LocalStore::on_notice) when it happens. None carries key
/// material or a secret value.
///
/// `Display` is one sentence, as `zlayer-secret` prints it (after `warning: ` for
/// [`is_warning`](Self::is_warning) notices, `note: ` for the rotation notes).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// Something to fix that did not stop the key from loading, such as a key or salt file
    /// that others can read (the text names the file).
    KeyWarning(String),
    /// A key rotation was started and not finished (its pending key file exists), but the
    /// store still opens with the key in use; `key rotate` finishes it.
    UnfinishedRotation {
        /// The pending key file.
        pending_key_file: PathBuf,
        /// Where the key in use came from.
        key_source: KeySource,
    },
    /// [`rotate_key`](crate::LocalStore::rotate_key) found a store locked with the pending key
    /// of an interrupted rotation and finished that rotation: the pending file replaced the
    /// key file.
    FinishedRotation {
        /// The key file, which now holds the key that opens the store.
        key_file: PathBuf,
    },
    /// [`rotate_key`](crate::LocalStore::rotate_key) goes on with the new key of an earlier
    /// rotation that did not finish, instead of a fresh one.
    ResumedRotation {
        /// The pending key file holding that key.
        pending_key_file: PathBuf,
    },
    /// [`rotate_key`](crate::LocalStore::rotate_key) re-encrypted every stored version.
    Reencrypted(ReencryptReport),
    /// [`rotate_key`](crate::LocalStore::rotate_key) replaced the key file with the new key:
    /// the rotation is complete.
    ReplacedKeyFile {
        /// The key file.
        key_file: PathBuf,
    },
}

impl Notice {
    /// Whether this is a warning (something to fix) rather than a note.
    #[must_use]
    pub fn is_warning(&self) -> bool {
        matches!(self, Self::KeyWarning(_))
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::KeyWarning(warning) => f.write_str(warning),
            Self::UnfinishedRotation {
                pending_key_file,
                key_source,
            } => write!(
                f,
                "a key rotation was started and not finished ({} exists); the store still \
                 opens with the {key_source}; run `zlayer-secret key rotate` to finish it",
                pending_key_file.display()
            ),
            Self::FinishedRotation { key_file } => write!(
                f,
                "finished an interrupted key rotation: {} now holds the key that opens the store",
                key_file.display()
            ),
            Self::ResumedRotation { pending_key_file } => write!(
                f,
                "resuming an interrupted rotation with the key in {}",
                pending_key_file.display()
            ),
            Self::Reencrypted(report) => write!(
                f,
                "re-encrypted {} stored versions under data key generation {}",
                report.versions, report.data_key_generation
            ),
            Self::ReplacedKeyFile { key_file } => {
                write!(f, "replaced the key file {}", key_file.display())
            }
        }
    }
}

/// The default handler: warnings and an unfinished rotation are logged as warnings, the rest
/// as information.
pub(super) fn log(notice: &Notice) {
    match notice {
        Notice::KeyWarning(_) | Notice::UnfinishedRotation { .. } => {
            tracing::warn!("{notice}");
        }
        _ => tracing::info!("{notice}"),
    }
}
