//! `KeyManager` with an injected environment: precedence, bad sources, passwords, rotation.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use zlayer_secrets_core::SecretsError;
use zlayer_secrets_testsupport::ownership::{OTHER_UID, give_away};

use crate::file_names;
use zlayer_secrets_crypto::{
    ENV_KEY, ENV_PASSWORD, EncryptionKey, KeyManager, KeySource, MAX_DEPLOYMENT_LEN,
};

/// A manager over `dir` that sees exactly `vars` as its environment.
fn manager(dir: &Path, vars: &[(&str, &str)]) -> KeyManager {
    KeyManager::with_base_dir(dir).with_env_vars(vars.iter().map(|&(k, v)| (k, v)))
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn error_message(result: zlayer_secrets_core::Result<impl std::fmt::Debug>) -> String {
    result.expect_err("expected an error").to_string()
}

#[test]
fn sources_apply_in_order_of_precedence() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("keys");
    let env_key = EncryptionKey::generate();
    let hex = env_key.to_hex();

    // Nothing yet: a key is generated and written.
    let generated = manager(&base, &[]).resolve("prod").unwrap();
    let key_file = base.join("secrets_prod.key");
    assert_eq!(generated.source, KeySource::Generated(key_file.clone()));
    // Then the file is read.
    let from_file = manager(&base, &[]).resolve("prod").unwrap();
    assert_eq!(from_file.source, KeySource::File(key_file.clone()));
    assert_eq!(from_file.key, generated.key);

    // A password beats the file.
    let from_password = manager(&base, &[(ENV_PASSWORD, "pw")])
        .resolve("prod")
        .unwrap();
    assert_eq!(
        from_password.source,
        KeySource::Password {
            salt_file: base.join("secrets_prod.salt"),
            new_salt: true
        }
    );
    assert_ne!(from_password.key, generated.key);

    // The hex key beats both.
    let from_env = manager(&base, &[(ENV_KEY, hex.as_str()), (ENV_PASSWORD, "pw")])
        .resolve("prod")
        .unwrap();
    assert_eq!(from_env.source, KeySource::Env);
    assert_eq!(from_env.key, env_key);
    assert_eq!(from_env.fingerprint(), env_key.fingerprint());

    // The key file was never touched by the other sources.
    assert_eq!(
        manager(&base, &[]).get_or_create_key("prod").unwrap(),
        generated.key
    );
}

#[test]
fn generated_key_files_are_hex_lines_with_mode_0600_in_a_0700_directory() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("a/b");
    let key = manager(&base, &[]).get_or_create_key("prod").unwrap();
    let path = base.join("secrets_prod.key");
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        format!("{}\n", key.to_hex().as_str())
    );
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&base), 0o700);
    assert_eq!(mode(&dir.path().join("a")), 0o700);
    assert_eq!(file_names(&base), ["secrets_prod.key"]);
}

#[test]
fn different_deployments_get_different_keys() {
    let dir = tempfile::tempdir().unwrap();
    let m = manager(dir.path(), &[]);
    let a = m.get_or_create_key("a").unwrap();
    let b = m.get_or_create_key("b").unwrap();
    assert_ne!(a, b);
    assert_eq!(m.get_or_create_key("a").unwrap(), a);
}

#[test]
fn env_key_is_trimmed_and_case_insensitive() {
    let dir = tempfile::tempdir().unwrap();
    let key = EncryptionKey::generate();
    for value in [
        format!("  {}\n", key.to_hex().as_str()),
        format!("\t{}", key.to_hex().to_uppercase()),
    ] {
        let got = manager(dir.path(), &[(ENV_KEY, &value)])
            .get_or_create_key("prod")
            .unwrap();
        assert_eq!(got, key);
    }
    // The environment key writes nothing.
    assert!(file_names(dir.path()).is_empty());
}

#[test]
fn invalid_env_keys_are_errors_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let hex64 = "0123456789abcdef".repeat(4);
    let cases = [
        ("not-valid-hex!!".to_owned(), "not all hex digits"),
        (format!("{}zz", &hex64[..62]), "not all hex digits"),
        (
            "00112233445566778899aabbccddeeff00112233".to_owned(),
            "got 40 characters",
        ),
        (hex64[..62].to_owned(), "got 62 characters"),
        (format!("{hex64}00"), "got 66 characters"),
        (String::new(), "set but empty"),
        ("   ".to_owned(), "set but empty"),
    ];
    for (value, why) in cases {
        let message = error_message(manager(dir.path(), &[(ENV_KEY, &value)]).resolve("prod"));
        assert!(message.contains(ENV_KEY), "{value:?}: {message}");
        assert!(message.contains(why), "{value:?}: {message}");
        if !value.trim().is_empty() {
            assert!(
                !message.contains(value.trim()),
                "the value leaked: {message}"
            );
        }
    }
    // No fallback to a generated key.
    assert!(file_names(dir.path()).is_empty());
}

#[test]
fn non_utf8_and_empty_passwords_are_errors_naming_the_variable() {
    use std::os::unix::ffi::OsStringExt;
    let dir = tempfile::tempdir().unwrap();
    let bad = std::ffi::OsString::from_vec(vec![0xff, 0xfe]);
    let m = KeyManager::with_base_dir(dir.path()).with_env_vars([(ENV_PASSWORD, bad)]);
    let message = error_message(m.resolve("prod"));
    assert!(
        message.contains(ENV_PASSWORD) && message.contains("UTF-8"),
        "{message}"
    );
    let message = error_message(manager(dir.path(), &[(ENV_PASSWORD, "")]).resolve("prod"));
    assert!(
        message.contains(ENV_PASSWORD) && message.contains("empty"),
        "{message}"
    );
    assert!(file_names(dir.path()).is_empty());
}

#[test]
fn key_files_of_wrong_length_or_content_are_errors_naming_the_file_and_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets_prod.key");
    let cases: [(Vec<u8>, &str); 5] = [
        (vec![7; 31], "31 bytes"),
        (vec![7; 33], "33 bytes"),
        (vec![], "0 bytes"),
        (format!("{}\n", "g".repeat(64)).into_bytes(), "not hex"),
        (format!("{}\n", "a".repeat(62)).into_bytes(), "63 bytes"),
    ];
    for (contents, why) in cases {
        fs::write(&path, &contents).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let message = error_message(manager(dir.path(), &[]).resolve("prod"));
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains(why), "{why}: {message}");
        // Never replaced by a new key.
        assert_eq!(fs::read(&path).unwrap(), contents);
        assert_eq!(file_names(dir.path()), ["secrets_prod.key"]);
    }
}

#[test]
fn raw_32_byte_key_files_from_the_original_format_load() {
    let dir = tempfile::tempdir().unwrap();
    let key = EncryptionKey::generate();
    let path = dir.path().join("secrets_prod.key");
    fs::write(&path, key.as_bytes()).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    let resolved = manager(dir.path(), &[]).resolve("prod").unwrap();
    assert_eq!(resolved.key, key);
    assert_eq!(resolved.source, KeySource::File(path.clone()));
    // Left in its format.
    assert_eq!(fs::read(&path).unwrap(), key.as_bytes());
}

// Tests run as root, where permission bits do not stop reads, so "unreadable" is made with
// paths the kernel refuses whoever asks: a base directory under a regular file (ENOTDIR), and
// a directory where the key file should be (not a regular file).
#[test]
fn unreadable_locations_are_errors_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    fs::write(&file, b"not a directory").unwrap();
    let base = file.join("keys");
    let message = error_message(manager(&base, &[]).resolve("prod"));
    assert!(message.contains(&base.display().to_string()), "{message}");
    // The same with a password: the salt file cannot be read or created.
    let message = error_message(manager(&base, &[(ENV_PASSWORD, "pw")]).resolve("prod"));
    assert!(message.contains(&base.display().to_string()), "{message}");

    let key_path = dir.path().join("secrets_prod.key");
    fs::create_dir(&key_path).unwrap();
    let message = error_message(manager(dir.path(), &[]).resolve("prod"));
    assert!(
        message.contains(&key_path.display().to_string()),
        "{message}"
    );
    assert!(message.contains("not a regular file"), "{message}");
    assert!(key_path.is_dir());
}

#[test]
fn key_files_writable_by_others_are_refused_and_readable_ones_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let m = manager(dir.path(), &[]);
    let key = m.get_or_create_key("prod").unwrap();
    let path = m.key_file_path("prod");

    fs::set_permissions(&path, fs::Permissions::from_mode(0o660)).unwrap();
    let message = error_message(m.resolve("prod"));
    assert!(message.contains("writable by group or others"), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");

    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let resolved = m.resolve("prod").unwrap();
    assert_eq!(resolved.key, key);
    assert_eq!(resolved.warnings.len(), 1);
    assert!(
        resolved.warnings[0].contains("0644"),
        "{:?}",
        resolved.warnings
    );
}

#[test]
fn deployment_names_that_could_escape_are_refused_before_touching_files() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("keys");
    for bad in ["../escape", "a/b", "..", "nul\0byte", "new\nline", ""] {
        let err = manager(&base, &[]).resolve(bad).unwrap_err();
        assert!(
            matches!(err, SecretsError::InvalidName { .. }),
            "{bad:?}: {err}"
        );
        assert!(err.to_string().contains("deployment"), "{err}");
    }
    let too_long = "x".repeat(MAX_DEPLOYMENT_LEN + 1);
    assert!(manager(&base, &[]).resolve(&too_long).is_err());
    assert!(!base.exists());
    assert_eq!(file_names(dir.path()), Vec::<String>::new());
}

#[test]
fn password_keys_work_for_short_and_long_deployment_names() {
    let dir = tempfile::tempdir().unwrap();
    let long = "L".repeat(MAX_DEPLOYMENT_LEN);
    assert_eq!(long.len(), 200);
    let first = manager(dir.path(), &[(ENV_PASSWORD, "correct horse")]);
    let second = manager(dir.path(), &[(ENV_PASSWORD, "correct horse")]);
    let mut keys = Vec::new();
    for deployment in ["a", "prod", long.as_str()] {
        let resolved = first.resolve(deployment).unwrap();
        let salt_file = dir.path().join(format!("secrets_{deployment}.salt"));
        assert_eq!(
            resolved.source,
            KeySource::Password {
                salt_file: salt_file.clone(),
                new_salt: true
            }
        );
        assert_eq!(mode(&salt_file), 0o600);
        let salt_line = fs::read_to_string(&salt_file).unwrap();
        assert!(
            salt_line.starts_with("argon2id v=19 m=19456 t=2 p=1 salt=") && salt_line.len() == 68,
            "{salt_line:?}"
        );
        keys.push(resolved.key);
    }
    // The same password and deployment in another manager give the same key.
    let again = second.resolve("a").unwrap();
    assert_eq!(again.key, keys[0]);
    assert!(matches!(
        again.source,
        KeySource::Password {
            new_salt: false,
            ..
        }
    ));
    // Different deployments, different keys.
    assert_ne!(keys[0], keys[1]);
    assert_ne!(keys[1], keys[2]);
    assert_ne!(keys[0], keys[2]);
    // A different password, a different key.
    let other = manager(dir.path(), &[(ENV_PASSWORD, "correct horsf")]);
    assert_ne!(other.get_or_create_key("a").unwrap(), keys[0]);
    // No key files were written.
    let long_salt = format!("secrets_{long}.salt");
    let mut expected = vec!["secrets_a.salt", "secrets_prod.salt", long_salt.as_str()];
    expected.sort_unstable();
    assert_eq!(file_names(dir.path()), expected);
}

#[test]
fn malformed_salt_files_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let salt_file = dir.path().join("secrets_prod.salt");
    fs::write(&salt_file, b"garbage\n").unwrap();
    fs::set_permissions(&salt_file, fs::Permissions::from_mode(0o600)).unwrap();
    let message = error_message(manager(dir.path(), &[(ENV_PASSWORD, "pw")]).resolve("prod"));
    assert!(
        message.contains(&salt_file.display().to_string()),
        "{message}"
    );
    assert_eq!(fs::read(&salt_file).unwrap(), b"garbage\n");
}

#[test]
fn find_key_reports_without_creating_anything() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("keys");
    assert!(manager(&base, &[]).find_key("prod").unwrap().is_none());
    assert!(
        manager(&base, &[(ENV_PASSWORD, "pw")])
            .find_key("prod")
            .unwrap()
            .is_none()
    );
    assert!(!base.exists());
    let key = EncryptionKey::generate();
    let found = manager(&base, &[(ENV_KEY, key.to_hex().as_str())])
        .find_key("prod")
        .unwrap()
        .unwrap();
    assert_eq!((found.key, found.source), (key, KeySource::Env));
    let generated = manager(&base, &[]).get_or_create_key("prod").unwrap();
    let found = manager(&base, &[]).find_key("prod").unwrap().unwrap();
    assert_eq!(found.key, generated);
    assert_eq!(found.source, KeySource::File(base.join("secrets_prod.key")));
}

#[test]
fn rotation_keeps_the_old_key_until_commit() {
    let dir = tempfile::tempdir().unwrap();
    let m = manager(dir.path(), &[]);
    let old = m.get_or_create_key("prod").unwrap();

    let rotation = m.begin_rotation("prod").unwrap();
    assert!(!rotation.resumed());
    let new = rotation.new_key().clone();
    assert_ne!(new, old);
    assert_eq!(rotation.pending_path(), m.pending_key_file_path("prod"));
    assert_eq!(mode(rotation.pending_path()), 0o600);
    // Until commit, the key file still gives the old key.
    assert_eq!(m.get_or_create_key("prod").unwrap(), old);

    // An interrupted rotation resumes with the same new key, never a third one.
    drop(rotation);
    let resumed = m.begin_rotation("prod").unwrap();
    assert!(resumed.resumed());
    assert_eq!(resumed.new_key(), &new);
    assert_eq!(m.pending_rotation("prod").unwrap().unwrap().new_key(), &new);

    assert_eq!(resumed.commit().unwrap(), new);
    assert_eq!(m.get_or_create_key("prod").unwrap(), new);
    assert!(m.pending_rotation("prod").unwrap().is_none());
    assert_eq!(file_names(dir.path()), ["secrets_prod.key"]);
    assert_eq!(mode(&m.key_file_path("prod")), 0o600);
}

#[test]
fn an_aborted_rotation_leaves_the_old_key() {
    let dir = tempfile::tempdir().unwrap();
    let m = manager(dir.path(), &[]);
    let old = m.get_or_create_key("prod").unwrap();
    m.begin_rotation("prod").unwrap().abort().unwrap();
    assert_eq!(m.get_or_create_key("prod").unwrap(), old);
    assert_eq!(file_names(dir.path()), ["secrets_prod.key"]);
}

#[test]
fn rotation_is_refused_without_a_key_file_or_with_an_environment_key() {
    let dir = tempfile::tempdir().unwrap();
    let err = manager(dir.path(), &[]).begin_rotation("prod").unwrap_err();
    assert!(matches!(err, SecretsError::NotFound { .. }), "{err}");
    manager(dir.path(), &[]).get_or_create_key("prod").unwrap();
    for var in [ENV_KEY, ENV_PASSWORD] {
        let message = error_message(manager(dir.path(), &[(var, "x")]).begin_rotation("prod"));
        assert!(message.contains(var), "{message}");
    }
    assert_eq!(file_names(dir.path()), ["secrets_prod.key"]);
}

#[test]
fn a_key_file_that_is_a_dangling_link_is_an_error_not_a_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets_prod.key");
    std::os::unix::fs::symlink(dir.path().join("mounted/key"), &path).unwrap();
    let message = error_message(manager(dir.path(), &[]).resolve("prod"));
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("symbolic link"), "{message}");
    assert!(!dir.path().join("mounted").exists());
    assert_eq!(file_names(dir.path()), ["secrets_prod.key"]);
}

#[test]
fn temporary_files_left_by_a_crash_do_not_disturb_resolution() {
    // A process killed after writing its temporary file but before linking it leaves only
    // the temporary name: the key file does not exist, so a new key is created normally.
    let dir = tempfile::tempdir().unwrap();
    let stray = dir.path().join(".secrets_prod.key.tmp-0011223344556677");
    fs::write(&stray, b"0123").unwrap();
    let m = manager(dir.path(), &[]);
    let resolved = m.resolve("prod").unwrap();
    assert!(matches!(resolved.source, KeySource::Generated(_)));
    assert_eq!(m.get_or_create_key("prod").unwrap(), resolved.key);
    assert_eq!(
        file_names(dir.path()),
        [".secrets_prod.key.tmp-0011223344556677", "secrets_prod.key"]
    );
}

fn assert_refused_naming(message: &str, path: &Path, owner: u32, mode: u32) {
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains(&format!("owner uid {owner}")), "{message}");
    assert!(message.contains(&format!("mode {mode:04o}")), "{message}");
    assert!(message.contains("refusing"), "{message}");
}

/// Files planted by another user (a key file, a salt file, the pending key of a rotation
/// that the next `key rotate` would "resume") are refused, even with mode 0600.
#[test]
fn key_salt_and_pending_files_owned_by_another_user_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let m = manager(dir.path(), &[]);
    let key = m.get_or_create_key("prod").unwrap();

    // A pending key planted beside the real key file.
    let planted = m.pending_key_file_path("prod");
    fs::write(&planted, format!("{}\n", "ab".repeat(32))).unwrap();
    fs::set_permissions(&planted, fs::Permissions::from_mode(0o600)).unwrap();
    if !give_away(&planted) {
        return;
    }
    let message = error_message(m.begin_rotation("prod"));
    assert_refused_naming(&message, &planted, OTHER_UID, 0o600);
    let message = error_message(m.pending_rotation("prod"));
    assert_refused_naming(&message, &planted, OTHER_UID, 0o600);
    fs::remove_file(&planted).unwrap();
    assert_eq!(m.get_or_create_key("prod").unwrap(), key);

    // The key file itself.
    let path = m.key_file_path("prod");
    assert!(give_away(&path));
    let message = error_message(m.resolve("prod"));
    assert_refused_naming(&message, &path, OTHER_UID, 0o600);
    let message = error_message(m.find_key("prod"));
    assert_refused_naming(&message, &path, OTHER_UID, 0o600);
    assert_eq!(
        fs::read_to_string(&path).unwrap().trim(),
        key.to_hex().as_str()
    );

    // The salt file of a password.
    let pw = manager(dir.path(), &[(ENV_PASSWORD, "correct horse")]);
    pw.resolve("pw").unwrap();
    let salt = pw.salt_file_path("pw");
    assert!(give_away(&salt));
    let message = error_message(pw.resolve("pw"));
    assert_refused_naming(&message, &salt, OTHER_UID, 0o600);
}

/// A key directory another user owns, or that group or others can write to (also with the
/// sticky bit, as `/tmp`), is refused for reading an existing key and for creating one.
#[test]
fn key_directories_others_can_write_to_or_own_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("keys");
    let m = manager(&base, &[]);
    let key = m.get_or_create_key("prod").unwrap();
    for dir_mode in [0o1777, 0o777, 0o770, 0o730] {
        fs::set_permissions(&base, fs::Permissions::from_mode(dir_mode)).unwrap();
        let message = error_message(m.resolve("prod"));
        assert!(message.contains(&base.display().to_string()), "{message}");
        assert!(
            message.contains(&format!("mode {dir_mode:04o}")),
            "{message}"
        );
        let message = error_message(m.resolve("other"));
        assert!(
            message.contains(&format!("mode {dir_mode:04o}")),
            "{message}"
        );
        let message = error_message(m.begin_rotation("prod"));
        assert!(
            message.contains(&format!("mode {dir_mode:04o}")),
            "{message}"
        );
        assert_eq!(file_names(&base), ["secrets_prod.key"], "nothing created");
    }
    fs::set_permissions(&base, fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(m.get_or_create_key("prod").unwrap(), key);
    if !give_away(&base) {
        return;
    }
    let message = error_message(m.resolve("prod"));
    assert_refused_naming(&message, &base, OTHER_UID, 0o700);
    assert_eq!(file_names(&base), ["secrets_prod.key"]);
}
