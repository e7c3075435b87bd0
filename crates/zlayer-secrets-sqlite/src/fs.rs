//! Where the database file lives, and creating it private from the first byte.

use std::path::{Path, PathBuf};

use zlayer_secrets_core::{Result, SecretsError};

use crate::DB_FILE_NAME;

/// The database file for `path`: an existing directory gets [`DB_FILE_NAME`] inside it, any
/// other path is the file itself.
pub(crate) fn resolve(path: &Path) -> Result<PathBuf> {
    if path.as_os_str().is_empty() {
        return Err(SecretsError::InvalidInput(
            "the secrets store path is empty".to_owned(),
        ));
    }
    Ok(if path.is_dir() {
        path.join(DB_FILE_NAME)
    } else {
        path.to_path_buf()
    })
}

/// Creates the parent directories (mode 0700) and the database file (mode 0600) if they do
/// not exist, before SQLite opens anything.
///
/// SQLite gives the `-wal` and `-shm` files it creates the permission bits of the database
/// file, so they are private too, whatever the process umask. Existing directories and files
/// keep the permissions they have.
pub(crate) fn prepare(db_path: &Path) -> Result<()> {
    if let Some(parent) = db_path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(parent).map_err(|e| {
            SecretsError::Storage(format!(
                "creating the directory {} for the secrets store: {e}",
                parent.display()
            ))
        })?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(db_path).map_err(|e| {
        SecretsError::Storage(format!(
            "creating or opening the secrets store {}: {e}",
            db_path.display()
        ))
    })?;
    Ok(())
}
