//! Resolved secrets handed to a program as files instead of variables (the Docker secrets
//! convention, `zlayer-secret run --mount-dir`).
//!
//! Each resolved variable `NAME` is written to `DIR/NAME` (mode 0400) and the program gets
//! `NAME_FILE=DIR/NAME` instead of `NAME`. `DIR` is created with mode 0700; if it exists it
//! must be an empty directory owned by this user (it is then made 0700 and kept). Both are
//! created through `zlayer_secrets_crypto::ownership`, the one rule for files that hold
//! secrets: a new directory of mode 0700, new files of mode 0600 (made 0400 once written),
//! never through a symbolic link. The files, and the directory if it was created here, are
//! removed by [`SecretFiles::remove`], or when [`SecretFiles`] is dropped: after the
//! program ends, on an error. Nothing can remove them if the process is killed with
//! SIGKILL: put `DIR` on a tmpfs (`/dev/shm`, `$XDG_RUNTIME_DIR`) so they never reach a
//! disk and vanish at reboot.

use std::io;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;
use zlayer_secrets_core::SecretsError;

/// What names the directory in the errors of the ownership rules.
const DIR_WHAT: &str = "the secrets directory";
/// What names a file in the errors of the ownership rules.
const FILE_WHAT: &str = "secret file";

/// Why secret files cannot be written or removed. Names the file, the directory or the
/// variable concerned, never a value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretFilesError {
    /// A variable whose name cannot be a file name in the directory (empty, `.`, `..`, or
    /// holding `/` or NUL).
    #[error(
        "the variable {name:?} cannot be written as a secret file: its name is not a file name"
    )]
    NotAFileName {
        /// The variable.
        name: String,
    },
    /// Something that is not a directory is at the path.
    #[error("{} exists and is not a directory", path.display())]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// The existing directory belongs to another user.
    #[error("{} belongs to another user", path.display())]
    OtherOwner {
        /// The directory.
        path: PathBuf,
    },
    /// The existing directory holds files.
    #[error("{} is not empty; give a new or empty directory", path.display())]
    NotEmpty {
        /// The directory.
        path: PathBuf,
    },
    /// The directory cannot be created, or is not private once created.
    #[error(transparent)]
    CreateDir(SecretsError),
    /// What is at the path cannot be inspected.
    #[error("cannot inspect {}", path.display())]
    Inspect {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The existing directory cannot be listed.
    #[error("cannot read the directory {}", path.display())]
    ReadDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The existing directory cannot be given mode 0700.
    #[error("cannot make {} private (mode 0700)", path.display())]
    MakePrivate {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A file cannot be created (something is at its path already, or it would not be
    /// private).
    #[error("cannot write the secret file {}", path.display())]
    CreateFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: SecretsError,
    },
    /// A created file cannot be written.
    #[error("cannot write the secret file {}", path.display())]
    WriteFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A file cannot be removed.
    #[error("cannot remove the secret file {}", path.display())]
    RemoveFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The directory created for the files cannot be removed.
    #[error("cannot remove the secrets directory {}", path.display())]
    RemoveDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// Secret files need Unix permissions.
    #[error("secret files are available on Unix only")]
    Unsupported,
}

/// The secret files of one program, removed by [`remove`](Self::remove) or on drop.
#[derive(Debug)]
pub struct SecretFiles {
    dir: PathBuf,
    created_dir: bool,
    files: Vec<(String, PathBuf)>,
}

impl SecretFiles {
    /// Writes each `(NAME, value)` to `dir/NAME`. On failure nothing is left behind.
    pub fn write(
        dir: &Path,
        secrets: &[(String, Zeroizing<String>)],
    ) -> Result<Self, SecretFilesError> {
        for (name, _) in secrets {
            check_file_name(name)?;
        }
        let created_dir = prepare_dir(dir)?;
        let mut files = Self {
            dir: dir.to_path_buf(),
            created_dir,
            files: Vec::with_capacity(secrets.len()),
        };
        for (name, value) in secrets {
            let path = dir.join(name);
            // Listed first, so that a file left half-written is removed too.
            files.files.push((name.clone(), path.clone()));
            write_file(&path, value)?;
        }
        Ok(files)
    }

    /// `(NAME_FILE, path)` for each file, to put in the program's environment.
    pub fn variables(&self) -> impl Iterator<Item = (String, &Path)> {
        self.files
            .iter()
            .map(|(name, path)| (format!("{name}_FILE"), path.as_path()))
    }

    /// Removes the files, and the directory if it was created for them; returns what could
    /// not be removed (a file already gone is fine).
    #[must_use = "what could not be removed is worth a warning"]
    pub fn remove(mut self) -> Vec<SecretFilesError> {
        self.remove_all()
    }

    fn remove_all(&mut self) -> Vec<SecretFilesError> {
        let mut problems = Vec::new();
        for (_, path) in std::mem::take(&mut self.files) {
            if let Err(source) = std::fs::remove_file(&path)
                && source.kind() != io::ErrorKind::NotFound
            {
                problems.push(SecretFilesError::RemoveFile { path, source });
            }
        }
        if std::mem::take(&mut self.created_dir)
            && let Err(source) = std::fs::remove_dir(&self.dir)
        {
            problems.push(SecretFilesError::RemoveDir {
                path: self.dir.clone(),
                source,
            });
        }
        problems
    }
}

impl Drop for SecretFiles {
    fn drop(&mut self) {
        for problem in self.remove_all() {
            tracing::warn!(error = %problem, "secret files left behind");
        }
    }
}

/// A variable name usable as a file name in the directory.
fn check_file_name(name: &str) -> Result<(), SecretFilesError> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Err(SecretFilesError::NotAFileName {
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// Creates `dir` (0700), or checks that the existing one is an empty directory of ours
/// and makes it 0700. Returns whether it was created.
#[cfg(unix)]
fn prepare_dir(dir: &Path) -> Result<bool, SecretFilesError> {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};

    use zlayer_secrets_crypto::ownership::create_new_private_dir;

    if create_new_private_dir(dir, DIR_WHAT).map_err(SecretFilesError::CreateDir)? {
        return Ok(true);
    }
    let path = || dir.to_path_buf();
    let meta = std::fs::symlink_metadata(dir).map_err(|source| SecretFilesError::Inspect {
        path: path(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(SecretFilesError::NotADirectory { path: path() });
    }
    if meta.uid() != nix::unistd::geteuid().as_raw() {
        return Err(SecretFilesError::OtherOwner { path: path() });
    }
    let mut entries = std::fs::read_dir(dir).map_err(|source| SecretFilesError::ReadDir {
        path: path(),
        source,
    })?;
    if entries.next().is_some() {
        return Err(SecretFilesError::NotEmpty { path: path() });
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|source| {
        SecretFilesError::MakePrivate {
            path: path(),
            source,
        }
    })?;
    Ok(false)
}

#[cfg(not(unix))]
fn prepare_dir(_dir: &Path) -> Result<bool, SecretFilesError> {
    Err(SecretFilesError::Unsupported)
}

/// Writes one file: a new private file (never through an existing file or link), made
/// read-only (0400) once written.
#[cfg(unix)]
fn write_file(path: &Path, value: &str) -> Result<(), SecretFilesError> {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt as _;

    use zlayer_secrets_crypto::ownership::create_private_file;

    let mut file =
        create_private_file(path, FILE_WHAT).map_err(|source| SecretFilesError::CreateFile {
            path: path.to_path_buf(),
            source,
        })?;
    file.write_all(value.as_bytes())
        .and_then(|()| file.set_permissions(std::fs::Permissions::from_mode(0o400)))
        .and_then(|()| file.sync_all())
        .map_err(|source| SecretFilesError::WriteFile {
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(not(unix))]
fn write_file(_path: &Path, _value: &str) -> Result<(), SecretFilesError> {
    Err(SecretFilesError::Unsupported)
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn only_plain_file_names_are_accepted() {
        for bad in ["", ".", "..", "a/b", "/etc/passwd", "x\0y"] {
            assert!(check_file_name(bad).is_err(), "{bad:?}");
        }
        for good in ["DB_PASSWORD", "db.password", "x-y", "..hidden"] {
            assert!(check_file_name(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn files_are_read_only_in_a_private_directory_and_removed() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("s");
        let secrets = vec![("DB".to_owned(), Zeroizing::new("hunter2".to_owned()))];
        let files = SecretFiles::write(&dir, &secrets).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("DB")), 0o400);
        assert_eq!(std::fs::read_to_string(dir.join("DB")).unwrap(), "hunter2");
        let vars: Vec<(String, PathBuf)> = files
            .variables()
            .map(|(k, p)| (k, p.to_path_buf()))
            .collect();
        assert_eq!(vars, [("DB_FILE".to_owned(), dir.join("DB"))]);
        assert!(files.remove().is_empty());
        assert!(!dir.exists());
    }

    #[test]
    fn nothing_is_left_when_a_write_fails() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("s");
        let secrets = vec![
            ("A".to_owned(), Zeroizing::new("a".to_owned())),
            // The same name twice: the second file cannot be created.
            ("A".to_owned(), Zeroizing::new("b".to_owned())),
        ];
        let err = SecretFiles::write(&dir, &secrets).unwrap_err();
        assert!(
            err.to_string().contains("cannot write the secret file"),
            "{err}"
        );
        assert!(!dir.exists());
    }

    #[test]
    fn an_existing_directory_must_be_ours_and_empty() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("keep"), "mine").unwrap();
        let secrets = vec![("A".to_owned(), Zeroizing::new("a".to_owned()))];
        let err = SecretFiles::write(root.path(), &secrets).unwrap_err();
        assert!(matches!(err, SecretFilesError::NotEmpty { .. }), "{err}");
        let err = SecretFiles::write(&root.path().join("keep"), &secrets).unwrap_err();
        assert!(
            matches!(err, SecretFilesError::NotADirectory { .. }),
            "{err}"
        );
        let empty = root.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        std::fs::set_permissions(&empty, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(
            SecretFiles::write(&empty, &secrets)
                .unwrap()
                .remove()
                .is_empty()
        );
        assert!(empty.is_dir(), "a directory it did not create is kept");
        assert_eq!(
            std::fs::metadata(&empty).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }
}
