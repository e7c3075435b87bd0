//! Where the database file lives, creating it private from the first byte, and refusing
//! locations that others could tamper with.

use std::path::{Path, PathBuf};

use zlayer_secrets_core::{Result, SecretsError};
use zlayer_secrets_crypto::ownership;

use crate::DB_FILE_NAME;

/// The extensions that make a path that does not exist a database file rather than a
/// directory to create (compared ignoring ASCII case).
pub(crate) const DB_FILE_EXTENSIONS: [&str; 3] = ["sqlite", "db", "sqlite3"];

/// The database file for `path`:
///
/// - an existing directory: [`DB_FILE_NAME`] inside it;
/// - anything else that exists (a file, a symbolic link, dangling or not): `path` itself;
/// - nothing, and the name ends in one of [`DB_FILE_EXTENSIONS`]: `path`, a file to create;
/// - nothing, and any other name: [`DB_FILE_NAME`] inside `path`, a directory to create.
///
/// [`prepare`] creates what is missing.
pub(crate) fn resolve(path: &Path) -> Result<PathBuf> {
    if path.as_os_str().is_empty() {
        return Err(SecretsError::InvalidInput {
            what: "secrets store path".to_owned(),
            reason: "it is empty".to_owned(),
        });
    }
    let names_a_file = || {
        path.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| DB_FILE_EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x)))
    };
    let missing =
        matches!(path.symlink_metadata(), Err(e) if e.kind() == std::io::ErrorKind::NotFound);
    Ok(if path.is_dir() || (missing && !names_a_file()) {
        path.join(DB_FILE_NAME)
    } else {
        path.to_path_buf()
    })
}

/// Creates the parent directories (mode 0700) and the database file (mode 0600) if they do
/// not exist, before SQLite opens anything, and refuses a location others could tamper with.
///
/// SQLite gives the `-wal` and `-shm` files it creates the permission bits of the database
/// file, so they are private too, whatever the process umask. Existing directories and files
/// keep the permissions they have, but the directory holding the database and the database
/// itself must be owned by the effective user (or root) and not writable by group or others,
/// and the database path (and its `-wal` and `-shm` files) must not be a symbolic link,
/// dangling or not ([`ownership`]): each is refused with an error naming the path, its owner
/// and its mode.
pub(crate) fn prepare(db_path: &Path) -> Result<()> {
    let parent = db_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    ownership::create_private_dir(parent, "the directory of the secrets store")?;
    for suffix in ["-wal", "-shm"] {
        let mut side = db_path.as_os_str().to_owned();
        side.push(suffix);
        ownership::check_existing_file(Path::new(&side), "the secrets store's file")?;
    }
    let file = ownership::open_private_file(db_path, "the secrets store", true)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file
            .metadata()
            .map_or(0o600, |m| m.permissions().mode() & 0o777);
        if mode & 0o044 != 0 {
            tracing::warn!(
                "the secrets store {} has mode {mode:04o}: group or others can read it \
                 (expected 0600)",
                db_path.display()
            );
        }
    }
    drop(file);
    Ok(())
}
