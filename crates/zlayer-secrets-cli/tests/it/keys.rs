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
    assert_eq!(line, format!("{before} → {after}\n"));
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
    r.code(1);
    assert!(r.err().contains("ZLAYER_SECRETS_KEY"), "{}", r.err());
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
    r.code(1);
    assert!(r.err().contains("secrets_default.key"), "{}", r.err());
    s.run(&["set", "b", "--value", "2"]).code(1);
    assert!(!key_file(&s).exists(), "no replacement key was generated");
}

#[test]
fn a_wrong_key_is_reported() {
    let s = Store::new();
    s.put("a", "1", &[]);
    let r = s.run_with(&["ls"], None, &[("ZLAYER_SECRETS_KEY", &"22".repeat(32))]);
    r.code(1);
    assert!(r.err().contains("does not open"), "{}", r.err());
}

/// A rotation that died after re-keying the store but before replacing the key file is
/// finished by the next command.
#[test]
fn an_interrupted_rotation_is_finished() {
    let s = Store::new();
    s.put("a", "survives", &[]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
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
    let r = s.run(&["get", "a", "--reveal"]);
    assert_eq!(r.ok().out(), "survives");
    assert!(r.err().contains("interrupted key rotation"), "{}", r.err());
    assert!(!s.path().join("secrets_default.key.new").exists());
    assert_eq!(s.reveal("a", &[]), "survives");
}
