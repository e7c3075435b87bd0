//! `key status`, `key rotate`, and opening a store with the wrong or a missing key.

use zlayer_secrets::{KeyManager, PersistentSecretsStore};

use crate::Store;

fn key_file(s: &Store) -> std::path::PathBuf {
    s.path().join("secrets_default.key")
}

fn status(s: &Store) -> serde_json::Value {
    let r = s.run(&["key", "status", "--output", "json"]);
    serde_json::from_slice(&r.ok().stdout).unwrap()
}

#[test]
fn status_before_and_after_the_first_write() {
    let s = Store::new();
    let doc = status(&s);
    assert_eq!(doc["database_exists"], false);
    assert!(doc["key"].is_null());
    assert!(s.files().is_empty(), "status creates nothing");
    s.put("a", "1", &[]);
    let doc = status(&s);
    assert_eq!(doc["database_exists"], true);
    assert_eq!(doc["key"]["source"], "file");
    assert_eq!(doc["store"]["data_key_generation"], 1);
    let table = s.run(&["key", "status"]);
    assert!(table.ok().out().contains("key fingerprint"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(key_file(&s))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn rotate_replaces_the_key_and_keeps_the_values() {
    let s = Store::new();
    s.put("a", "value-a", &[]);
    s.put("b", "value-b", &["--env", "prod"]);
    let old_key = std::fs::read_to_string(key_file(&s)).unwrap();
    let before = status(&s)["key"]["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();

    let r = s.run(&["key", "rotate"]);
    let line = r.ok().out();
    let after = status(&s)["key"]["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(before, after);
    assert_eq!(line, format!("{before} -> {after}\n"));
    assert_ne!(std::fs::read_to_string(key_file(&s)).unwrap(), old_key);
    assert_eq!(s.reveal("a", &[]), "value-a");
    assert_eq!(s.reveal("b", &["--env", "prod"]), "value-b");

    // The old key no longer opens the store.
    let r = s.run_with(
        &["get", "a", "--reveal"],
        None,
        &[("ZLAYER_SECRETS_KEY", old_key.trim())],
    );
    r.code(1);
    assert!(r.out().is_empty());

    s.run(&["key", "rotate", "--reencrypt"]).ok();
    assert_eq!(status(&s)["store"]["data_key_generation"], 2);
    assert_eq!(s.reveal("a", &[]), "value-a");
    assert!(!s.path().join("secrets_default.key.new").exists());
}

#[test]
fn rotate_refuses_keys_from_the_environment_and_empty_directories() {
    let s = Store::new();
    s.run(&["key", "rotate"]).code(1);
    let hex = "11".repeat(32);
    s.run_with(
        &["set", "a", "--value", "x"],
        None,
        &[("ZLAYER_SECRETS_KEY", &hex)],
    )
    .ok();
    let r = s.run_with(&["key", "rotate"], None, &[("ZLAYER_SECRETS_KEY", &hex)]);
    r.code(1).err_contains("ZLAYER_SECRETS_KEY");
    let doc: serde_json::Value = serde_json::from_slice(
        &s.run_with(
            &["key", "status", "--output", "json"],
            None,
            &[("ZLAYER_SECRETS_KEY", &hex)],
        )
        .ok()
        .stdout,
    )
    .unwrap();
    assert_eq!(doc["key"]["source"], "env");
}

#[test]
fn a_lost_key_file_is_an_error_not_a_new_key() {
    let s = Store::new();
    s.put("a", "1", &[]);
    std::fs::remove_file(key_file(&s)).unwrap();
    let r = s.run(&["get", "a", "--reveal"]);
    r.code(1).err_contains("secrets_default.key");
    s.run(&["set", "b", "--value", "2"]).code(1);
    assert!(!key_file(&s).exists(), "no replacement key was generated");
}

#[test]
fn a_wrong_key_is_reported() {
    let s = Store::new();
    s.put("a", "1", &[]);
    let r = s.run_with(&["ls"], None, &[("ZLAYER_SECRETS_KEY", &"22".repeat(32))]);
    r.code(1).err_contains("does not open");
}

/// Leaves the rotation `key rotate` would leave if it died after re-keying the store but
/// before replacing the key file: the store opens only with the pending key.
fn half_done_rotation(s: &Store) {
    zlayer_secrets_testsupport::block_on(async {
        let manager =
            KeyManager::with_base_dir(s.path()).with_env_vars(Vec::<(String, String)>::new());
        let old = manager.get_or_create_key("default").unwrap();
        let store = PersistentSecretsStore::open(s.path().join("secrets.sqlite"), old)
            .await
            .unwrap();
        let rotation = manager.begin_rotation("default").unwrap();
        store.rekey(rotation.new_key().clone()).await.unwrap();
        // The process "dies" here: the pending key file stays, the key file is the old one.
        drop(rotation);
    });
}

fn pending_file(s: &Store) -> std::path::PathBuf {
    s.path().join("secrets_default.key.new")
}

/// A rotation that died after re-keying the store but before replacing the key file is
/// finished by `key rotate` only: other verbs refuse and say so, `key status` reports it.
#[test]
fn an_interrupted_rotation_is_finished_only_by_key_rotate() {
    let s = Store::new();
    s.put("a", "survives", &[]);
    half_done_rotation(&s);
    let key_before = std::fs::read(key_file(&s)).unwrap();
    let pending_before = std::fs::read(pending_file(&s)).unwrap();

    for args in [
        &["get", "a", "--reveal"][..],
        &["ls"],
        &["set", "b", "--value", "x"],
    ] {
        let r = s.run(args);
        r.code(1);
        assert!(r.out().is_empty(), "{args:?}: {}", r.out());
        assert!(
            r.err().contains("unfinished key rotation"),
            "{args:?}: {}",
            r.err()
        );
        assert!(
            r.err().contains("zlayer-secret key rotate"),
            "{args:?}: {}",
            r.err()
        );
    }
    let doc = status(&s);
    assert_eq!(doc["store_locked_with_pending_key"], true);
    assert!(
        doc["pending_rotation"]
            .as_str()
            .unwrap()
            .ends_with(".key.new")
    );
    let table = s.run(&["key", "status"]);
    assert!(table.ok().out().contains("key rotate"), "{}", table.out());
    assert_eq!(
        std::fs::read(key_file(&s)).unwrap(),
        key_before,
        "nothing committed"
    );
    assert_eq!(std::fs::read(pending_file(&s)).unwrap(), pending_before);

    let r = s.run(&["key", "rotate"]);
    assert!(
        r.ok()
            .err()
            .contains("finished an interrupted key rotation"),
        "{}",
        r.err()
    );
    assert!(!pending_file(&s).exists());
    assert_ne!(std::fs::read(key_file(&s)).unwrap(), key_before);
    assert_eq!(status(&s)["store_locked_with_pending_key"], false);
    assert_eq!(s.reveal("a", &[]), "survives");
}

/// A wrong key from the environment, with a pending key file beside the key file, is an
/// error naming the variable: the pending key is neither tried nor committed (by any verb,
/// `key status` included).
#[test]
fn a_wrong_environment_key_never_commits_a_pending_rotation() {
    let s = Store::new();
    s.put("a", "survives", &[]);
    let old_key = std::fs::read_to_string(key_file(&s)).unwrap();
    half_done_rotation(&s);
    let key_before = std::fs::read(key_file(&s)).unwrap();
    let wrong = "33".repeat(32);
    for env_key in [wrong.as_str(), old_key.trim()] {
        for args in [
            &["get", "a", "--reveal"][..],
            &["key", "status"],
            &["key", "rotate"],
        ] {
            let r = s.run_with(args, None, &[("ZLAYER_SECRETS_KEY", env_key)]);
            r.code(1);
            assert!(r.out().is_empty(), "{args:?}: {}", r.out());
            assert!(
                r.err().contains("ZLAYER_SECRETS_KEY"),
                "{args:?}: {}",
                r.err()
            );
            assert!(!r.err().contains("finished an"), "{args:?}: {}", r.err());
            assert!(pending_file(&s).exists(), "{args:?}: the pending key stays");
            assert_eq!(std::fs::read(key_file(&s)).unwrap(), key_before, "{args:?}");
        }
    }
    // `get` with the key file then refuses (the rotation is unfinished), and `key rotate`
    // finishes it.
    s.run(&["get", "a", "--reveal"]).code(1);
    s.run(&["key", "rotate"]).ok();
    assert_eq!(s.reveal("a", &[]), "survives");
}

/// A rotation that died before re-keying the store: the store still opens with the key
/// file (with a note), and `key rotate` resumes with the same pending key.
#[test]
fn a_rotation_that_had_not_rekeyed_the_store_leaves_it_usable() {
    let s = Store::new();
    s.put("a", "survives", &[]);
    let manager = KeyManager::with_base_dir(s.path()).with_env_vars(Vec::<(String, String)>::new());
    let pending = manager.begin_rotation("default").unwrap();
    let new_fingerprint = pending.new_key().fingerprint();
    drop(pending);
    let r = s.run(&["get", "a", "--reveal"]);
    assert_eq!(r.ok().out(), "survives");
    assert!(
        r.err()
            .contains("key rotation was started and not finished"),
        "{}",
        r.err()
    );
    assert!(pending_file(&s).exists());
    let r = s.run(&["key", "rotate"]);
    assert!(r.ok().err().contains("resuming"), "{}", r.err());
    assert!(
        r.out().ends_with(&format!("-> {new_fingerprint}\n")),
        "{}",
        r.out()
    );
    assert!(!pending_file(&s).exists());
    assert_eq!(s.reveal("a", &[]), "survives");
}
