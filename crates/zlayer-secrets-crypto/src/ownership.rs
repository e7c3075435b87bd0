//! Who may change the directories and files that hold keys and secrets.
//!
//! Whoever can write a key file, a salt file, a pending key file or the database, or the
//! directory holding them, can put in a key they know (every secret stored afterwards is
//! theirs to read) or a database of their own. So every such directory and file must be
//! **owned by the effective user or by root**, and **not writable by group or others** —
//! for directories whatever the sticky bit, since in a sticky directory such as `/tmp` others
//! can still create the names we have not created yet (a planted `secrets_default.key.new`
//! is "resumed" by the next rotation). Anything else is refused with an error naming the
//! path, its owner and its mode; nothing is ever chmod'ed or chown'ed behind the user's back.
//!
//! The checks are made on the metadata of what was actually opened (`fstat`) where a file
//! is opened, so a file swapped in after the check is not used. The key-file code
//! ([`KeyManager`](crate::KeyManager)), the SQLite store and the secret files handed to a
//! process (`zlayer-secrets-inject`) use these functions; on platforms without Unix
//! permissions they accept everything.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io;
use std::path::Path;

use zlayer_secrets_core::{FileProblem, Result, SecretsError};

/// An I/O failure while doing `operation` (read after "cannot") to `path`.
pub(crate) fn io_failure(operation: String, path: &Path, source: io::Error) -> SecretsError {
    SecretsError::File {
        operation,
        path: path.to_path_buf(),
        source,
    }
}

/// `what` at `path` is refused because of `problem`.
pub(crate) fn refused(what: &str, path: &Path, problem: FileProblem) -> SecretsError {
    SecretsError::FileRefused {
        what: what.to_owned(),
        path: path.to_path_buf(),
        problem,
    }
}

/// Checks that `dir` is a directory owned by the effective user or root that group and
/// others cannot write to (the sticky bit does not help). `what` names it in the error,
/// e.g. "the key directory".
///
/// Symbolic links to the directory are followed: the directory itself is checked.
pub fn check_dir(dir: &Path, what: &str) -> Result<()> {
    let metadata = fs::metadata(dir).map_err(|e| io_failure(format!("inspect {what}"), dir, e))?;
    if !metadata.is_dir() {
        return Err(refused(what, dir, FileProblem::NotADirectory));
    }
    check_metadata(dir, &metadata, what, true)
}

/// Checks the metadata of an opened file (from `File::metadata`, i.e. `fstat`): it must be
/// owned by the effective user or root and not writable by group or others. `what` names it
/// in the error, e.g. "key file".
pub fn check_file(path: &Path, metadata: &Metadata, what: &str) -> Result<()> {
    check_metadata(path, metadata, what, false)
}

/// Creates `dir` (and its parents) with mode 0700 if it does not exist, then checks it as
/// [`check_dir`] does: an existing directory keeps its permissions, and must pass. `what`
/// names it in the errors, e.g. "the key directory".
pub fn create_private_dir(dir: &Path, what: &str) -> Result<()> {
    let mut builder = private_dir_builder();
    builder.recursive(true);
    builder
        .create(dir)
        .map_err(|e| io_failure(format!("create {what}"), dir, e))?;
    check_dir(dir, what)
}

/// Creates the directory `dir` itself (not its parents) with mode 0700 whatever the umask,
/// and checks it as [`check_dir`] does; on failure it is removed again. Returns `Ok(false)`,
/// changing nothing, when something already exists at `dir` (what is there is for the
/// caller to judge). `what` names it in the errors, e.g. "the secrets directory".
pub fn create_new_private_dir(dir: &Path, what: &str) -> Result<bool> {
    match private_dir_builder().create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(io_failure(format!("create {what}"), dir, e)),
    }
    let made_private = set_private_dir_mode(dir, what).and_then(|()| check_dir(dir, what));
    if made_private.is_err() {
        let _ = fs::remove_dir(dir);
    }
    made_private.map(|()| true)
}

/// A directory builder whose directories get mode 0700 (less what the umask takes away).
fn private_dir_builder() -> fs::DirBuilder {
    #[allow(unused_mut)] // only Unix sets a mode
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
}

/// Sets mode 0700 on `dir`, which a umask such as 0277 may have narrowed at creation.
fn set_private_dir_mode(dir: &Path, what: &str) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| io_failure(format!("make private (mode 0700) {what}"), dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = (dir, what);
    Ok(())
}

/// Checks a file that may exist at `path` without opening it: nothing there passes; a
/// symbolic link (dangling or not) is refused, and a file must pass [`check_file`].
pub fn check_existing_file(path: &Path, what: &str) -> Result<()> {
    match refuse_symlink(path, what)? {
        Some(metadata) => check_file(path, &metadata, what),
        None => Ok(()),
    }
}

/// The metadata of what is at `path` itself (`None` if nothing is), refusing a symbolic
/// link there, dangling or not, with an error saying where it points.
fn refuse_symlink(path: &Path, what: &str) -> Result<Option<Metadata>> {
    let Ok(metadata) = fs::symlink_metadata(path) else {
        return Ok(None);
    };
    if metadata.file_type().is_symlink() {
        let target = fs::read_link(path).ok();
        return Err(refused(what, path, FileProblem::Symlink { target }));
    }
    Ok(Some(metadata))
}

/// Opens (with `create`, creating with mode 0600 if missing) a file that holds secrets,
/// for reading and writing, **without following a symbolic link** at `path`: a link,
/// dangling or not, is refused with an error saying so. The opened file must be a regular
/// file that passes [`check_file`].
pub fn open_private_file(path: &Path, what: &str, create: bool) -> Result<File> {
    refuse_symlink(path, what)?;
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(create);
    open_checked(path, what, &mut options)
}

/// Creates a new file at `path` with mode 0600, for writing: anything already at `path`
/// (a file, or a symbolic link, dangling or not) is an error, so nothing is ever written
/// through a link or into a file someone else prepared. The created file must pass
/// [`check_file`]. `what` names it in the errors, e.g. "secret file".
pub fn create_private_file(path: &Path, what: &str) -> Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    open_checked(path, what, &mut options)
}

/// Writes `contents` to the file `path`, created with mode 0600 and replaced atomically: the
/// whole contents go to a temporary file beside it (0600 from its first byte, fsynced),
/// which is then renamed over `path`. A reader, or a crash, sees the old file or the new
/// one, never part of one; a symbolic link at `path` is replaced, never followed. `what`
/// names it in the errors, e.g. "output file".
pub fn write_private_file(path: &Path, contents: &[u8], what: &str) -> Result<()> {
    crate::files::write_replacing(path, contents, what)
}

/// Opens `path` with `options` (plus mode 0600 for a file it creates, and never following
/// a symbolic link at `path`), then checks what was opened: a regular file that passes
/// [`check_file`].
fn open_checked(path: &Path, what: &str, options: &mut OpenOptions) -> Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(nix::libc::O_NOFOLLOW);
    }
    let file = options.open(path).map_err(|e| {
        if is_symlink_refusal(&e) {
            refused(what, path, FileProblem::BecameSymlink)
        } else {
            io_failure(format!("create or open {what}"), path, e)
        }
    })?;
    let metadata = file
        .metadata()
        .map_err(|e| io_failure(format!("inspect {what}"), path, e))?;
    if !metadata.is_file() {
        return Err(refused(what, path, FileProblem::NotAFile));
    }
    check_file(path, &metadata, what)?;
    Ok(file)
}

/// `open` refused a symbolic link because of `O_NOFOLLOW` (`ELOOP`).
fn is_symlink_refusal(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(nix::libc::ELOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

#[cfg(unix)]
fn check_metadata(path: &Path, metadata: &Metadata, what: &str, is_dir: bool) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let owner = metadata.uid();
    let mode = metadata.mode() & 0o7777;
    let user = nix::unistd::geteuid().as_raw();
    let problem = if owner != user && owner != 0 {
        FileProblem::ForeignOwner {
            owner,
            user,
            mode,
            is_dir,
        }
    } else if mode & 0o022 != 0 {
        FileProblem::Writable {
            owner,
            user,
            mode,
            is_dir,
        }
    } else {
        return Ok(());
    };
    Err(refused(what, path, problem))
}

#[cfg(not(unix))]
fn check_metadata(_: &Path, _: &Metadata, _: &str, _: bool) -> Result<()> {
    Ok(())
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn set_mode(path: &Path, mode: u32) {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn private_directories_pass_and_writable_ones_are_refused_whatever_the_sticky_bit() {
        let dir = tempfile::tempdir().unwrap();
        for mode in [0o700, 0o755, 0o750, 0o500] {
            set_mode(dir.path(), mode);
            check_dir(dir.path(), "the data directory").unwrap();
        }
        for mode in [0o770, 0o707, 0o777, 0o1777, 0o1770, 0o720] {
            set_mode(dir.path(), mode);
            let message = check_dir(dir.path(), "the data directory")
                .unwrap_err()
                .to_string();
            assert!(
                message.contains(&dir.path().display().to_string()),
                "{message}"
            );
            assert!(message.contains(&format!("mode {mode:04o}")), "{message}");
            assert!(message.contains("owner uid"), "{message}");
            assert!(message.contains("group or others can write"), "{message}");
        }
        set_mode(dir.path(), 0o700);
    }

    #[test]
    fn a_file_is_checked_on_what_was_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, b"x").unwrap();
        for (mode, ok) in [
            (0o600, true),
            (0o644, true),
            (0o400, true),
            (0o620, false),
            (0o606, false),
        ] {
            set_mode(&path, mode);
            let metadata = File::open(&path).unwrap().metadata().unwrap();
            match check_file(&path, &metadata, "key file") {
                Ok(()) => assert!(ok, "{mode:o} passed"),
                Err(SecretsError::FileRefused {
                    what,
                    path: refused,
                    problem:
                        FileProblem::Writable {
                            mode: shown,
                            is_dir: false,
                            ..
                        },
                }) => {
                    assert!(!ok, "{mode:o} refused");
                    assert_eq!(
                        (what.as_str(), refused.as_path(), shown),
                        ("key file", path.as_path(), mode)
                    );
                }
                Err(other) => panic!("{mode:o}: expected a refused file, got {other}"),
            }
        }
    }

    #[test]
    fn open_private_file_creates_0600_and_never_follows_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        open_private_file(&path, "secrets store", true).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        let err = open_private_file(&link, "secrets store", true).unwrap_err();
        assert!(
            matches!(&err, SecretsError::FileRefused { problem: FileProblem::Symlink { target: Some(t) }, .. } if *t == path),
            "{err}"
        );
        assert!(err.is_storage(), "{err}");
        let message = err.to_string();
        assert!(message.contains("symbolic link"), "{message}");
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        let message = open_private_file(&dangling, "secrets store", true)
            .unwrap_err()
            .to_string();
        assert!(message.contains("symbolic link"), "{message}");
        assert!(
            !dir.path().join("nowhere").exists(),
            "nothing created at the target"
        );
    }
    #[test]
    fn a_new_private_dir_is_0700_and_an_existing_one_is_left_alone() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("d");
        assert!(create_new_private_dir(&dir, "the secrets directory").unwrap());
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o7777,
            0o700
        );
        set_mode(&dir, 0o755);
        assert!(!create_new_private_dir(&dir, "the secrets directory").unwrap());
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o7777,
            0o755
        );
        // Parents are not created.
        let deep = root.path().join("no/such");
        let err = create_new_private_dir(&deep, "the secrets directory").unwrap_err();
        assert!(
            matches!(&err, SecretsError::File { path, source, .. }
                if *path == deep && source.kind() == io::ErrorKind::NotFound),
            "{err}"
        );
        let message = err.to_string();
        assert!(
            message.contains("cannot create the secrets directory"),
            "{message}"
        );
        assert!(!root.path().join("no").exists());
    }

    #[test]
    fn a_private_file_is_new_0600_and_never_written_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        create_private_file(&path, "secret file").unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(
            create_private_file(&path, "secret file").is_err(),
            "not over a file"
        );
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        assert!(create_private_file(&dangling, "secret file").is_err());
        assert!(
            !dir.path().join("nowhere").exists(),
            "nothing created at the target"
        );
    }
}
