//! Arbitrary bytes as a key file (or as ZLAYER_SECRETS_KEY): loading gives the documented key or a clear error, never panics, never changes the file and never echoes its contents.
#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use zlayer_secrets_crypto::{ENV_KEY, EncryptionKey, KEY_SIZE, KeyManager, KeySource};

const DEPLOYMENT: &str = "fuzz";

/// One scratch directory for the whole run (a directory per input would be slow).
fn base_dir() -> &'static PathBuf {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a scratch directory");
        let path = dir.path().to_path_buf();
        (dir, path)
    })
    .1
}

/// The documented key-file format: 32 raw bytes that are not all hex digits, or 64 hex
/// characters with an optional `\n` or `\r\n`.
fn expected_from_file(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.len() == KEY_SIZE {
        return (!bytes.iter().all(u8::is_ascii_hexdigit)).then(|| bytes.to_vec());
    }
    let text = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    hex_key(text)
}

/// The documented variable format: 64 hex characters, surrounding whitespace ignored.
fn expected_from_env(bytes: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(bytes).ok()?;
    hex_key(text.trim().as_bytes())
}

fn hex_key(text: &[u8]) -> Option<Vec<u8>> {
    if text.len() != 2 * KEY_SIZE || !text.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let digit = |c: u8| char::from(c).to_digit(16).expect("checked hex digit") as u8;
    Some(
        text.chunks(2)
            .map(|p| digit(p[0]) << 4 | digit(p[1]))
            .collect(),
    )
}

/// An error message must not carry the input, unless the input is part of the path anyway.
fn assert_no_echo(message: &str, input: &[u8], path: &str) {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let text = text.trim();
    if text.len() >= 8 && !path.contains(text) {
        assert!(
            !message.contains(text),
            "an error repeats the key material: {message}"
        );
    }
}

fn check_file(content: &[u8]) {
    let manager =
        KeyManager::with_base_dir(base_dir()).with_env_vars(Vec::<(String, String)>::new());
    let path = manager.key_file_path(DEPLOYMENT);
    {
        use std::io::Write as _;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .expect("writing the key file");
        file.write_all(content).expect("writing the key file");
    }
    let found = manager.find_key(DEPLOYMENT);
    let resolved = manager.resolve(DEPLOYMENT);
    let after = std::fs::read(&path).expect("the key file is still there");
    assert_eq!(after, content, "loading changed the key file");

    let path_text = path.display().to_string();
    match (expected_from_file(content), found, resolved) {
        (Some(bytes), Ok(Some(found)), Ok(resolved)) => {
            assert_eq!(found.key.as_bytes(), &bytes[..]);
            assert_eq!(resolved.key.as_bytes(), &bytes[..]);
            assert_eq!(resolved.source, KeySource::File(path.clone()));
            assert_eq!(
                found.key,
                EncryptionKey::from_bytes(&bytes).expect("32 bytes")
            );
        }
        (None, Err(a), Err(b)) => {
            assert_eq!(a.to_string(), b.to_string());
            assert_no_echo(&a.to_string(), content, &path_text);
            assert_no_echo(&format!("{a:?}"), content, &path_text);
        }
        (expected, found, resolved) => panic!(
            "key file of {} bytes: expected a key: {}, find_key: {:?}, resolve: {:?}",
            content.len(),
            expected.is_some(),
            found.map(|f| f.map(|r| r.source)),
            resolved.map(|r| r.source)
        ),
    }
}

fn check_env(value: &[u8]) {
    let manager = KeyManager::with_base_dir(base_dir())
        .with_env_vars([(ENV_KEY, OsString::from_vec(value.to_vec()))]);
    let resolved = manager.resolve(DEPLOYMENT);
    match (expected_from_env(value), resolved) {
        (Some(bytes), Ok(resolved)) => {
            assert_eq!(resolved.key.as_bytes(), &bytes[..]);
            assert_eq!(resolved.source, KeySource::Env);
        }
        (None, Err(e)) => {
            assert_no_echo(&e.to_string(), value, "");
            assert_no_echo(&format!("{e:?}"), value, "");
        }
        (expected, resolved) => panic!(
            "{ENV_KEY} of {} bytes: expected a key: {}, got {:?}",
            value.len(),
            expected.is_some(),
            resolved.map(|r| r.source)
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    // The first byte chooses the source; the rest is its content.
    let Some((&mode, content)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        check_file(content);
    } else {
        check_env(content);
    }
});
