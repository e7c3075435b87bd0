use std::os::unix::fs::PermissionsExt;

use super::*;

fn key_path() -> PathBuf {
    PathBuf::from("/k/secrets_a.key")
}

#[test]
fn hex_key_files_parse_with_or_without_line_ending() {
    let key = EncryptionKey::generate();
    let hex = key.to_hex();
    for contents in [
        format!("{}\n", hex.as_str()),
        hex.to_string(),
        format!("{}\r\n", hex.as_str()),
        hex.to_uppercase(),
    ] {
        assert_eq!(
            parse_key_file(contents.as_bytes(), &key_path()).unwrap(),
            key
        );
    }
    assert_eq!(
        parse_key_file(&key_file_contents(&key), &key_path()).unwrap(),
        key
    );
}

#[test]
fn raw_32_byte_key_files_still_load() {
    let raw = [0x80u8; KEY_SIZE];
    let key = parse_key_file(&raw, &key_path()).unwrap();
    assert_eq!(key.as_bytes(), &raw);
}

#[test]
fn malformed_key_files_are_errors_naming_the_file() {
    let hex64 = "ab".repeat(32);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![], "0 bytes"),
        (vec![1; 31], "31 bytes"),
        (vec![1; 33], "33 bytes"),
        ("a".repeat(32).into_bytes(), "32 hex characters"),
        (format!("{}\n", &hex64[..62]).into_bytes(), "63 bytes"),
        (format!("{hex64}0\n").into_bytes(), "66 bytes"),
        (format!("{}zz\n", &hex64[..62]).into_bytes(), "not hex"),
        (format!("{hex64}\n\n").into_bytes(), "66 bytes"),
        (format!(" {hex64}").into_bytes(), "65 bytes"),
    ];
    for (contents, why) in cases {
        let message = parse_key_file(&contents, &key_path())
            .unwrap_err()
            .to_string();
        assert!(message.contains("/k/secrets_a.key"), "{message}");
        assert!(message.contains(why), "{why}: {message}");
    }
}

#[test]
fn salt_files_round_trip_and_malformed_ones_are_errors() {
    let salt = [0x3cu8; SALT_LEN];
    let contents = salt_file_contents(&salt);
    assert_eq!(
        String::from_utf8(contents.clone()).unwrap(),
        format!("argon2id v=19 m=19456 t=2 p=1 salt={}\n", "3c".repeat(16))
    );
    let path = Path::new("/k/secrets_a.salt");
    assert_eq!(parse_salt_file(&contents, path).unwrap(), salt);
    for (bad, why) in [
        (&b""[..], "header"),
        (b"argon2id v=19 m=65536 t=3 p=4 salt=00", "parameters"),
        (b"argon2id v=19 m=19456 t=2 p=1 salt=00", "32 hex"),
        (
            b"argon2id v=19 m=19456 t=2 p=1 salt=zz3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c",
            "32 hex",
        ),
    ] {
        let message = parse_salt_file(bad, path).unwrap_err().to_string();
        assert!(message.contains("/k/secrets_a.salt"), "{message}");
        assert!(message.contains(why), "{why}: {message}");
    }
}

#[test]
fn create_exclusive_places_once_and_leaves_no_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/dir/secrets_a.key");
    assert!(create_exclusive(&path, b"first\n", "key file").unwrap());
    assert!(!create_exclusive(&path, b"second\n", "key file").unwrap());
    assert_eq!(fs::read(&path).unwrap(), b"first\n");
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let dir_mode = fs::metadata(dir.path().join("sub"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);
    let names: Vec<_> = fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("secrets_a.key")]);
}

#[test]
fn read_limited_distinguishes_missing_from_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        read_limited(&dir.path().join("none"), "key file").unwrap(),
        ReadOutcome::Missing
    ));
    // A directory where the file should be.
    let message = read_limited(dir.path(), "key file")
        .err()
        .unwrap()
        .to_string();
    assert!(message.contains("not a regular file"), "{message}");
    // A parent that is a regular file.
    let file = dir.path().join("plain");
    fs::write(&file, b"x").unwrap();
    let message = read_limited(&file.join("secrets_a.key"), "key file")
        .err()
        .unwrap()
        .to_string();
    assert!(message.contains("plain/secrets_a.key"), "{message}");
    // A symbolic link to nothing.
    let dangling = dir.path().join("dangling");
    std::os::unix::fs::symlink(dir.path().join("gone"), &dangling).unwrap();
    let message = read_limited(&dangling, "key file")
        .err()
        .unwrap()
        .to_string();
    assert!(message.contains("symbolic link"), "{message}");
    // Too large to be a key file.
    let big = dir.path().join("big");
    fs::write(&big, vec![b'a'; 5000]).unwrap();
    fs::set_permissions(&big, fs::Permissions::from_mode(0o600)).unwrap();
    let message = read_limited(&big, "key file").err().unwrap().to_string();
    assert!(message.contains("larger than 4096"), "{message}");
}

#[test]
fn permissions_writable_by_others_refuse_and_readable_by_others_warn() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets_a.key");
    fs::write(&path, b"x").unwrap();
    for mode in [0o620, 0o602, 0o666] {
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        let message = read_limited(&path, "key file").err().unwrap().to_string();
        assert!(message.contains("writable by group or others"), "{message}");
        assert!(message.contains(&path.display().to_string()), "{message}");
    }
    for mode in [0o640, 0o604, 0o644, 0o400] {
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        let ReadOutcome::Found(bytes, warnings) = read_limited(&path, "key file").unwrap() else {
            panic!("the file exists");
        };
        assert_eq!(bytes.as_slice(), b"x");
        assert_eq!(warnings.len(), usize::from(mode & 0o044 != 0), "{mode:o}");
    }
}

#[test]
fn a_directory_others_can_write_to_is_refused_even_when_sticky() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets_a.key");
    fs::write(&path, b"x").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    for (dir_mode, refused) in [
        (0o700, false),
        (0o755, false),
        (0o770, true),
        (0o777, true),
        (0o1777, true),
        (0o1730, true),
    ] {
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(dir_mode)).unwrap();
        match read_limited(&path, "key file") {
            Ok(ReadOutcome::Found(_, warnings)) => {
                assert!(!refused, "{dir_mode:o} accepted");
                assert!(warnings.is_empty(), "{warnings:?}");
            }
            Ok(ReadOutcome::Missing) => panic!("the file exists"),
            Err(e) => {
                assert!(refused, "{dir_mode:o}: {e}");
                let message = e.to_string();
                assert!(
                    message.contains(&format!("mode {dir_mode:04o}")),
                    "{message}"
                );
                assert!(
                    message.contains(&dir.path().display().to_string()),
                    "{message}"
                );
            }
        }
        // Creating a file there is refused the same way, before anything is written.
        let new = dir.path().join("secrets_b.key");
        assert_eq!(
            create_exclusive(&new, b"y", "key file").is_err(),
            refused,
            "{dir_mode:o}"
        );
        assert_eq!(new.exists(), !refused);
        let _ = fs::remove_file(&new);
    }
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
}
