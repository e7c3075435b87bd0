//! The parts of some [`SecretsError`](super::SecretsError) variants: why a key is wrong,
//! which record was tampered with, what is wrong with a file or a database.

use std::fmt;
use std::path::PathBuf;

/// Why a key does not open a store ([`SecretsError::WrongKey`](super::SecretsError::WrongKey)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WrongKeyReason {
    /// The store is locked with another key.
    Mismatch {
        /// The fingerprint of the key given (safe to show).
        offered: String,
        /// The fingerprint of the key that locks the store.
        locked_with: String,
        /// A pending key file of an unfinished rotation beside the store, which only a
        /// rotation with the key from the key file finishes.
        unfinished_rotation: Option<PathBuf>,
    },
    /// Another process re-encrypted the store under a key this handle does not hold.
    Replaced,
    /// The store is locked with the new key of an unfinished key rotation, kept in
    /// `pending`.
    UnfinishedRotation {
        /// The pending key file.
        pending: PathBuf,
    },
}

impl fmt::Display for WrongKeyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Mismatch {
                offered,
                locked_with,
                unfinished_rotation,
            } => {
                write!(
                    f,
                    "the key given has fingerprint {offered}, the store is locked with the key \
                     of fingerprint {locked_with}"
                )?;
                if let Some(pending) = unfinished_rotation {
                    write!(
                        f,
                        "; a rotation of the key file is unfinished ({}), which only \
                         `zlayer-secret key rotate` with the key from the key file finishes",
                        pending.display()
                    )?;
                }
                Ok(())
            }
            Self::Replaced => f.write_str(
                "the store was re-encrypted by another process under a key this handle does \
                 not hold; open the store again with the new key",
            ),
            Self::UnfinishedRotation { pending } => write!(
                f,
                "it is locked with the new key of an unfinished key rotation ({}): run \
                 `zlayer-secret key rotate` to finish the rotation",
                pending.display()
            ),
        }
    }
}

/// Which record of a secret fails its authentication
/// ([`SecretsError::Tampered`](super::SecretsError::Tampered)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TamperedRecord {
    /// The record of which version is current says `version`, but does not authenticate.
    CurrentVersion {
        /// The version it names.
        version: u32,
    },
    /// The value of the current version, `version`, is missing.
    MissingValue {
        /// The current version.
        version: u32,
    },
}

impl TamperedRecord {
    /// The message about this record of `scope`/`name`.
    pub(super) fn describe(
        self,
        f: &mut fmt::Formatter<'_>,
        scope: &str,
        name: &str,
    ) -> fmt::Result {
        match self {
            Self::CurrentVersion { version } => write!(
                f,
                "the current version of {scope}/{name} is recorded as {version}, but that \
                 record does not authenticate: the database was changed outside zlayer-secrets \
                 (a version number rolled back or altered); the secret is not read or written \
                 until the database is restored from a backup (or the secret deleted and set \
                 again)"
            ),
            Self::MissingValue { version } => write!(
                f,
                "version {version}, the current version of {scope}/{name}, is missing from the \
                 database: it was changed outside zlayer-secrets"
            ),
        }
    }
}

/// What is wrong with a file or directory
/// ([`SecretsError::FileRefused`](super::SecretsError::FileRefused)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileProblem {
    /// It is a symbolic link, which is not followed.
    Symlink {
        /// Where it points, if that could be read.
        target: Option<PathBuf>,
    },
    /// It is a symbolic link to nothing: a file that went missing.
    DanglingSymlink,
    /// It became a symbolic link between the check and the open.
    BecameSymlink,
    /// It is not a regular file.
    NotAFile,
    /// It is not a directory.
    NotADirectory,
    /// It is larger than any file of its kind.
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// Someone other than this user or root owns it, and could replace what it holds.
    ForeignOwner {
        /// Its owner's user id.
        owner: u32,
        /// This process's effective user id.
        user: u32,
        /// Its permission bits.
        mode: u32,
        /// Whether it is a directory.
        is_dir: bool,
    },
    /// Group or others can write to it.
    Writable {
        /// Its owner's user id.
        owner: u32,
        /// This process's effective user id.
        user: u32,
        /// Its permission bits.
        mode: u32,
        /// Whether it is a directory.
        is_dir: bool,
    },
}

impl FileProblem {
    /// The message, after `{what} {path} `.
    pub(super) fn describe(&self, f: &mut fmt::Formatter<'_>, what: &str) -> fmt::Result {
        match self {
            Self::Symlink { target } => {
                f.write_str("is a symbolic link")?;
                if let Some(target) = target {
                    write!(f, " (to {})", target.display())?;
                }
                f.write_str("; refusing to follow it (use the real path)")
            }
            Self::DanglingSymlink => {
                f.write_str("is a symbolic link to a file that does not exist")
            }
            Self::BecameSymlink => {
                f.write_str("became a symbolic link while it was opened; refusing to follow it")
            }
            Self::NotAFile => f.write_str("is not a regular file"),
            Self::NotADirectory => f.write_str("is not a directory"),
            Self::TooLarge { limit } => write!(f, "is larger than {limit} bytes: not a {what}"),
            Self::ForeignOwner {
                owner,
                user,
                mode,
                is_dir,
            } => unsafe_file(f, *owner, *user, *mode, *is_dir, |f| {
                write!(
                    f,
                    "it is owned by uid {owner}, not by this user (uid {user}) or root, so its \
                     owner could replace {}",
                    if *is_dir {
                        "the files in it"
                    } else {
                        "what it holds"
                    }
                )
            }),
            Self::Writable {
                owner,
                user,
                mode,
                is_dir,
            } => unsafe_file(f, *owner, *user, *mode, *is_dir, |f| {
                if !is_dir {
                    return f.write_str(
                        "group or others can write to it, so they could replace what it holds",
                    );
                }
                f.write_str("group or others can write to it")?;
                if mode & 0o1000 != 0 {
                    f.write_str(
                        " (the sticky bit does not stop them creating names that do not exist \
                         yet)",
                    )?;
                }
                f.write_str(", so they could put files of their own in it (a key they know)")
            }),
        }
    }
}

/// The message of a file others could change, with `why` in the middle.
fn unsafe_file(
    f: &mut fmt::Formatter<'_>,
    owner: u32,
    user: u32,
    mode: u32,
    is_dir: bool,
    why: impl FnOnce(&mut fmt::Formatter<'_>) -> fmt::Result,
) -> fmt::Result {
    write!(f, "(owner uid {owner}, mode {mode:04o}) is not safe: ")?;
    why(f)?;
    write!(
        f,
        "; refusing to use it (it must be owned by uid {user} or root and not writable by group \
         or others: check it, then `chown`/`chmod go-w` it, or use another {})",
        if is_dir { "directory" } else { "file" }
    )
}

/// What is wrong with a store's database ([`SecretsError::Store`](super::SecretsError::Store)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreProblem {
    /// The file is a database of another program: it has tables but no schema version.
    NotAStore,
    /// Its schema is newer than this program understands.
    SchemaTooNew {
        /// Its schema version.
        found: u32,
        /// The newest this program understands.
        supported: u32,
    },
    /// Its schema version is not one any version of the store writes.
    InvalidSchemaVersion {
        /// What it records.
        found: i64,
    },
    /// No step upgrades its schema version.
    NoUpgrade {
        /// Its schema version.
        from: u32,
    },
    /// An upgrade step needs the store's key, which was not given (an internal error).
    UpgradeNeedsKey {
        /// The version the step upgrades to.
        to: u32,
    },
    /// The database refused write-ahead logging.
    NoWal {
        /// The journal mode it is in instead.
        mode: String,
    },
    /// The record of the store's data key is missing.
    KeyRecordMissing {
        /// How many encrypted values the store holds, which no new key could decrypt.
        values: u64,
    },
    /// The data key has been replaced as often as its generation counter can count.
    GenerationLimit,
}

impl fmt::Display for StoreProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAStore => f.write_str(
                "is a SQLite database that is not a secrets store (it has tables but no schema \
                 version); refusing to touch it",
            ),
            Self::SchemaTooNew { found, supported } => write!(
                f,
                "has schema version {found}, newer than the {supported} this program \
                 understands; use a newer zlayer-secrets"
            ),
            Self::InvalidSchemaVersion { found } => write!(
                f,
                "has an invalid schema version {found}; is it a secrets store?"
            ),
            Self::NoUpgrade { from } => {
                write!(f, "has schema version {from}, which no step upgrades")
            }
            Self::UpgradeNeedsKey { to } => write!(
                f,
                "cannot be upgraded to schema version {to} without its key (internal error)"
            ),
            Self::NoWal { mode } => write!(
                f,
                "refused WAL journal mode (it is in `{mode}` mode); is it on a file system \
                 without shared-memory support?"
            ),
            Self::KeyRecordMissing { values: 0 } => f.write_str(
                "has lost its key record: the database was altered outside zlayer-secrets",
            ),
            Self::KeyRecordMissing { values } => write!(
                f,
                "has lost its key record but holds {values} encrypted values; refusing to \
                 create a new key that could never decrypt them (restore the database from a \
                 backup)"
            ),
            Self::GenerationLimit => {
                f.write_str("cannot replace its data key again: generation limit")
            }
        }
    }
}
