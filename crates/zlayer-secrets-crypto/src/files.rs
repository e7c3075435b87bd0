//! Key and salt files on disk: parsing, permission checks, and exclusive, durable creation.
//!
//! A new file is first written in full to a uniquely named temporary file in the same
//! directory (mode 0600 from creation, fsynced), then hard-linked to its final name. `link`
//! fails if the final name exists, so of several processes creating the same file at once
//! exactly one wins, and the final name only ever holds a complete file: the losers read the
//! winner's file. The directory is fsynced after the link so the new name survives a crash.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;
use zlayer_secrets_core::{FileProblem, Result, SecretsError};

use crate::key::{
    ARGON2_ITERATIONS, ARGON2_MEMORY_KIB, ARGON2_PARALLELISM, EncryptionKey, KEY_SIZE, SALT_LEN,
};
use crate::ownership::{self, io_failure, refused};
use crate::random::fill as fill_random;

/// Files larger than this are not key or salt files; reading stops here.
const MAX_FILE_LEN: u64 = 4096;

/// The salt-file line before the hex salt: the KDF and its parameters, from the one
/// definition in `key.rs` (so a salt file made for other parameters is refused).
fn salt_prefix() -> String {
    format!(
        "argon2id v=19 m={ARGON2_MEMORY_KIB} t={ARGON2_ITERATIONS} p={ARGON2_PARALLELISM} salt="
    )
}

/// What [`read_limited`] found.
pub(crate) enum ReadOutcome {
    /// The file does not exist.
    Missing,
    /// The file's bytes and the warnings its permissions gave rise to.
    Found(Zeroizing<Vec<u8>>, Vec<String>),
}

/// Reads a small key or salt file. Only "no such file" counts as missing; any other failure
/// (a directory in the way, a parent that is a file, no permission) is an error naming the
/// path, so that a key is never regenerated over an unreadable one.
pub(crate) fn read_limited(path: &Path, what: &str) -> Result<ReadOutcome> {
    // A second try only for a file that another process linked into place between our
    // `open` and our look at the name.
    let mut tries = 2;
    let file = loop {
        tries -= 1;
        match File::open(path) {
            Ok(file) => break file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::symlink_metadata(path) {
                // A dangling symbolic link is a key that went missing, not a key to create.
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(refused(what, path, FileProblem::DanglingSymlink));
                }
                Ok(_) if tries > 0 => {}
                _ => return Ok(ReadOutcome::Missing),
            },
            Err(e) => return Err(io_failure(format!("open {what}"), path, e)),
        }
    };
    let metadata = file
        .metadata()
        .map_err(|e| io_failure(format!("inspect {what}"), path, e))?;
    if !metadata.is_file() {
        return Err(refused(what, path, FileProblem::NotAFile));
    }
    let warnings = check_permissions(path, what, &metadata)?;
    let mut bytes = Zeroizing::new(Vec::with_capacity(128));
    file.take(MAX_FILE_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_failure(format!("read {what}"), path, e))?;
    if bytes.len() as u64 > MAX_FILE_LEN {
        return Err(refused(
            what,
            path,
            FileProblem::TooLarge {
                limit: MAX_FILE_LEN,
            },
        ));
    }
    Ok(ReadOutcome::Found(bytes, warnings))
}

/// Refuses files, and directories holding them, that are not owned by the effective user
/// (or root) or that others may write ([`ownership`]: whoever can write the key file or its
/// directory can swap in a key they know); warns about files that others may read.
#[cfg(unix)]
fn check_permissions(path: &Path, what: &str, metadata: &fs::Metadata) -> Result<Vec<String>> {
    use std::os::unix::fs::PermissionsExt;
    ownership::check_dir(
        parent_dir(path),
        &format!("the directory of {what} {}", path.display()),
    )?;
    ownership::check_file(path, metadata, what)?;
    let mode = metadata.permissions().mode() & 0o777;
    let mut warnings = Vec::new();
    if mode & 0o044 != 0 {
        warnings.push(format!(
            "{what} {} has mode {mode:04o}: it is readable by group or others (expected 0600)",
            path.display()
        ));
    }
    for warning in &warnings {
        tracing::warn!("{warning}");
    }
    Ok(warnings)
}

#[cfg(not(unix))]
fn check_permissions(_: &Path, _: &str, _: &fs::Metadata) -> Result<Vec<String>> {
    Ok(Vec::new())
}

/// Parses a key file: 64 hex characters and an optional line ending (the current format), or
/// exactly 32 raw bytes (the original format).
pub(crate) fn parse_key_file(bytes: &[u8], path: &Path) -> Result<EncryptionKey> {
    let bad = |why: String| {
        SecretsError::Encryption(format!(
            "key file {} is not a key: {why}; expected 64 hex characters and a newline (or 32 \
             raw bytes)",
            path.display()
        ))
    };
    if bytes.len() == KEY_SIZE {
        if bytes.iter().all(u8::is_ascii_hexdigit) {
            return Err(bad(
                "it holds 32 hex characters, which is a 16-byte key in hex".to_owned(),
            ));
        }
        return EncryptionKey::from_bytes(bytes);
    }
    let text = strip_line_ending(bytes);
    if text.len() != 2 * KEY_SIZE {
        return Err(bad(format!("it is {} bytes long", bytes.len())));
    }
    decode_hex_key(text).ok_or_else(|| bad("it contains characters that are not hex".to_owned()))
}

/// Decodes 64 hex characters into a key; `None` if any character is not hex.
pub(crate) fn decode_hex_key(text: &[u8]) -> Option<EncryptionKey> {
    let mut raw = Zeroizing::new([0u8; KEY_SIZE]);
    hex::decode_to_slice(text, raw.as_mut()).ok()?;
    EncryptionKey::from_bytes(raw.as_ref()).ok()
}

/// The contents of a new key file: 64 lowercase hex characters and a newline.
pub(crate) fn key_file_contents(key: &EncryptionKey) -> Zeroizing<Vec<u8>> {
    let mut text = Zeroizing::new(Vec::with_capacity(2 * KEY_SIZE + 1));
    text.extend_from_slice(key.to_hex().as_bytes());
    text.push(b'\n');
    text
}

/// Parses a salt file (see [`salt_file_contents`]).
pub(crate) fn parse_salt_file(bytes: &[u8], path: &Path) -> Result<[u8; SALT_LEN]> {
    let prefix = salt_prefix();
    let bad = |why: &str| {
        SecretsError::Encryption(format!(
            "salt file {} is not valid: {why}; expected one line `{prefix}<32 hex \
             characters>`",
            path.display()
        ))
    };
    let text = strip_line_ending(bytes);
    let Some(hex_salt) = text.strip_prefix(prefix.as_bytes()) else {
        if text.starts_with(b"argon2id ") {
            return Err(bad(&format!(
                "it names Argon2id parameters this version does not use (m={ARGON2_MEMORY_KIB} \
                 t={ARGON2_ITERATIONS} p={ARGON2_PARALLELISM})"
            )));
        }
        return Err(bad("it does not start with the expected header"));
    };
    let mut salt = [0u8; SALT_LEN];
    if hex_salt.len() != 2 * SALT_LEN || hex::decode_to_slice(hex_salt, &mut salt).is_err() {
        return Err(bad("the salt is not 32 hex characters"));
    }
    Ok(salt)
}

/// The contents of a new salt file: one line naming the KDF, its parameters and the salt.
pub(crate) fn salt_file_contents(salt: &[u8; SALT_LEN]) -> Vec<u8> {
    format!("{}{}\n", salt_prefix(), hex::encode(salt)).into_bytes()
}

fn strip_line_ending(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    bytes.strip_suffix(b"\r").unwrap_or(bytes)
}

/// Creates `dir` (and its parents) with mode 0700 if it does not exist, and checks that it
/// is ours alone ([`ownership::create_private_dir`]).
pub(crate) fn ensure_dir(dir: &Path) -> Result<()> {
    ownership::create_private_dir(dir, "the key directory")
}

/// Places a file holding `contents` at `path` unless one exists already.
///
/// Returns `true` if this call created it, `false` if another file was there first (which is
/// left untouched). The final name never holds a partial file.
pub(crate) fn create_exclusive(path: &Path, contents: &[u8], what: &str) -> Result<bool> {
    let dir = parent_dir(path);
    ensure_dir(dir)?;
    let temp = TempFile::write(path, contents, what)?;
    let placed = match fs::hard_link(&temp.path, path) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
        Err(e) => {
            return Err(io_failure(
                format!("put the new {what} in place at"),
                path,
                e,
            ));
        }
    };
    drop(temp);
    sync_dir(dir)?;
    Ok(placed)
}

/// Renames `from` to `to`, replacing any file there, atomically (a reader sees either the old
/// file or the new one), and makes the rename durable.
pub(crate) fn replace_atomically(from: &Path, to: &Path, what: &str) -> Result<()> {
    fs::rename(from, to)
        .map_err(|e| io_failure(format!("move the {what} {} to", from.display()), to, e))?;
    sync_dir(parent_dir(to))
}

/// Writes `contents` to `path`, replacing any file there, atomically: a temporary file
/// beside it (mode 0600 from creation, fsynced) is renamed over it, so `path` only ever
/// holds the old file or the whole new one, never a partial one.
pub(crate) fn write_replacing(path: &Path, contents: &[u8], what: &str) -> Result<()> {
    let temp = TempFile::write(path, contents, what)?;
    fs::rename(&temp.path, path)
        .map_err(|e| io_failure(format!("put the new {what} in place at"), path, e))?;
    // Renamed: nothing is left to remove.
    temp.placed();
    sync_dir(parent_dir(path))
}

/// Removes a file and makes the removal durable. A file that is already gone is fine.
pub(crate) fn remove_durably(path: &Path, what: &str) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => sync_dir(parent_dir(path)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_failure(format!("remove the {what}"), path, e)),
    }
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// A fully written, fsynced temporary file beside its final name, removed on drop.
struct TempFile {
    path: PathBuf,
}

impl TempFile {
    fn write(final_path: &Path, contents: &[u8], what: &str) -> Result<Self> {
        let file_name = final_path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut suffix = [0u8; 8];
        fill_random(&mut suffix)?;
        let path = parent_dir(final_path).join(format!(".{file_name}.tmp-{}", hex::encode(suffix)));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options
            .open(&path)
            .map_err(|e| io_failure(format!("create a temporary {what}"), &path, e))?;
        // From here on the temporary file is ours to remove, whatever happens.
        let temp = Self { path };
        file.write_all(contents)
            .and_then(|()| file.sync_all())
            .map_err(|e| io_failure(format!("write the temporary {what}"), &temp.path, e))?;
        Ok(temp)
    }
}

impl TempFile {
    /// The file was renamed to its final name: there is nothing to remove.
    fn placed(mut self) {
        self.path = PathBuf::new();
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.path.as_os_str().is_empty() {
            return;
        }
        if let Err(e) = fs::remove_file(&self.path) {
            tracing::warn!(
                "cannot remove the temporary file {}: {e}",
                self.path.display()
            );
        }
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_failure("sync the directory".to_owned(), dir, e))
}

#[cfg(not(unix))]
fn sync_dir(_: &Path) -> Result<()> {
    // Directories cannot be opened for syncing on this platform; renames are journaled.
    Ok(())
}

#[cfg(test)]
mod tests;
