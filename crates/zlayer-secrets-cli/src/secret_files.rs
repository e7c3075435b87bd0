//! `run --mount-dir DIR`: resolved secrets handed to the program as files instead of
//! variables (the Docker secrets convention).
//!
//! Each resolved variable `NAME` is written to `DIR/NAME` (mode 0400) and the program gets
//! `NAME_FILE=DIR/NAME` instead of `NAME`. `DIR` is created with mode 0700; if it exists it
//! must be an empty directory owned by this user (it is then made 0700 and kept). The files,
//! and the directory if it was created here, are removed when [`SecretFiles`] is dropped:
//! after the program ends, on an error, and after a forwarded signal ended the program
//! (`run` catches every signal that would otherwise end it before the files exist).
//! Nothing can remove them if this process is killed with SIGKILL: put `DIR` on a tmpfs
//! (`/dev/shm`, `$XDG_RUNTIME_DIR`) so they never reach a disk and vanish at reboot.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use zeroize::Zeroizing;

use crate::output::note;

/// The secret files of one `run`, removed on drop.
#[derive(Debug)]
pub(crate) struct SecretFiles {
    dir: PathBuf,
    created_dir: bool,
    files: Vec<(String, PathBuf)>,
}

impl SecretFiles {
    /// Writes each `(NAME, value)` to `dir/NAME`. On failure nothing is left behind.
    pub(crate) fn write(
        dir: &Path,
        secrets: &[(String, Zeroizing<String>)],
    ) -> anyhow::Result<Self> {
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
            write_file(&path, value)
                .with_context(|| format!("cannot write the secret file {}", path.display()))?;
        }
        Ok(files)
    }

    /// `(NAME_FILE, path)` for each file, to put in the program's environment.
    pub(crate) fn variables(&self) -> impl Iterator<Item = (String, &Path)> {
        self.files
            .iter()
            .map(|(name, path)| (format!("{name}_FILE"), path.as_path()))
    }
}

impl Drop for SecretFiles {
    fn drop(&mut self) {
        for (_, path) in &self.files {
            if let Err(e) = std::fs::remove_file(path)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                note!(
                    "warning: cannot remove the secret file {}: {e}",
                    path.display()
                );
            }
        }
        if self.created_dir
            && let Err(e) = std::fs::remove_dir(&self.dir)
        {
            note!(
                "warning: cannot remove the secrets directory {}: {e}",
                self.dir.display()
            );
        }
    }
}

/// A variable name usable as a file name in the directory.
fn check_file_name(name: &str) -> anyhow::Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        bail!(
            "the variable {name:?} cannot be written with --mount-dir: its name is not a file name"
        );
    }
    Ok(())
}

/// Creates `dir` (0700), or checks that the existing one is an empty directory of ours.
/// Returns whether it was created.
#[cfg(unix)]
fn prepare_dir(dir: &Path) -> anyhow::Result<bool> {
    use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, PermissionsExt as _};

    let shown = dir.display();
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .with_context(|| format!("cannot make {shown} private (mode 0700)"))?;
            return Ok(true);
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("cannot create the directory {shown}")),
    }
    let meta = std::fs::symlink_metadata(dir).with_context(|| format!("cannot inspect {shown}"))?;
    if !meta.is_dir() {
        bail!("--mount-dir {shown} exists and is not a directory");
    }
    if meta.uid() != nix::unistd::geteuid().as_raw() {
        bail!("--mount-dir {shown} belongs to another user");
    }
    let mut entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read the directory {shown}"))?;
    if entries.next().is_some() {
        bail!("--mount-dir {shown} is not empty; give a new or empty directory");
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot make {shown} private (mode 0700)"))?;
    Ok(false)
}

#[cfg(not(unix))]
fn prepare_dir(_dir: &Path) -> anyhow::Result<bool> {
    bail!("--mount-dir is available on Unix only")
}

/// Writes one file: a new file (never through an existing file or link), mode 0400.
#[cfg(unix)]
fn write_file(path: &Path, value: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};

    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o400)
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o400))?;
    file.write_all(value.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_file(_path: &Path, _value: &str) -> std::io::Result<()> {
    Err(std::io::Error::other(
        "--mount-dir is available on Unix only",
    ))
}

#[cfg(test)]
mod tests {
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
            format!("{err:#}").contains("cannot write the secret file"),
            "{err:#}"
        );
        assert!(!dir.exists());
    }
}
