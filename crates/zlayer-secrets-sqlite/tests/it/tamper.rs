//! Ciphertexts are bound to where they live: moving or altering one makes the read fail.

use rusqlite::params;
use zlayer_secrets_core::testkit::steps::{
    put, put_versions, set_op, value, version, version_value,
};
use zlayer_secrets_core::{
    Secret, SecretsError, SecretsProvider, SecretsStore, VersionedSecretsStore,
};
use zlayer_secrets_sqlite::PersistentSecretsStore;

use crate::{key_b, new_store, open_a, raw};

fn blob(conn: &rusqlite::Connection, scope: &str, name: &str, version: u32) -> Vec<u8> {
    conn.query_row(
        "SELECT v.ciphertext FROM secret_versions v JOIN secrets s ON s.id = v.secret_id
         WHERE s.scope = ?1 AND s.name = ?2 AND v.version = ?3",
        params![scope, name, version],
        |r| r.get(0),
    )
    .unwrap()
}

fn put_blob(conn: &rusqlite::Connection, scope: &str, name: &str, version: u32, blob: &[u8]) {
    let n = conn
        .execute(
            "UPDATE secret_versions SET ciphertext = ?4
             WHERE version = ?3
               AND secret_id = (SELECT id FROM secrets WHERE scope = ?1 AND name = ?2)",
            params![scope, name, version, blob],
        )
        .unwrap();
    assert_eq!(n, 1);
}

fn assert_decryption_error<T: std::fmt::Debug>(result: zlayer_secrets_core::Result<T>, what: &str) {
    match result {
        Err(SecretsError::Decryption(msg)) => {
            assert!(
                !msg.contains("secret-value"),
                "no value in the error: {msg}"
            );
        }
        other => panic!("{what}: expected a decryption error, got {other:?}"),
    }
}

fn assert_tamper_error<T: std::fmt::Debug>(result: zlayer_secrets_core::Result<T>, what: &str) {
    match result {
        Err(err @ SecretsError::Tampered { .. }) => {
            let msg = err.to_string();
            assert!(
                !msg.contains("secret-value"),
                "no value in the error: {msg}"
            );
            assert!(msg.contains("outside zlayer-secrets"), "{what}: {msg}");
        }
        other => panic!("{what}: expected a tamper error, got {other:?}"),
    }
}

fn set_pointer(conn: &rusqlite::Connection, scope: &str, name: &str, version: u32) {
    let n = conn
        .execute(
            "UPDATE secrets SET version = ?3 WHERE scope = ?1 AND name = ?2",
            params![scope, name, version],
        )
        .unwrap();
    assert_eq!(n, 1);
}

fn mac_of(conn: &rusqlite::Connection, scope: &str, name: &str) -> Vec<u8> {
    conn.query_row(
        "SELECT version_mac FROM secrets WHERE scope = ?1 AND name = ?2",
        params![scope, name],
        |r| r.get(0),
    )
    .unwrap()
}

/// `UPDATE secrets SET version = 1` once made `get` return the rotated-away value (and every
/// later write fail on a UNIQUE constraint). The current version is authenticated now: every
/// read and write of that secret is a tamper error until the pointer is put back.
#[tokio::test]
async fn a_rolled_back_current_version_is_a_tamper_error() {
    let (_dir, path, store) = new_store().await;
    put_versions(&store, "s", "n", "secret-value-", 2).await;
    put(&store, "s", "other", "secret-value-other").await;
    let conn = raw(&path);
    set_pointer(&conn, "s", "n", 1);

    assert_tamper_error(store.get_secret("s", "n").await, "get");
    assert_tamper_error(store.get_secrets("s", &["n", "other"]).await, "get_secrets");
    assert_tamper_error(store.get_metadata("s", "n").await, "metadata");
    assert_tamper_error(store.list_secrets("s").await, "list");
    assert_tamper_error(store.list_versions("s", "n").await, "history");
    assert_tamper_error(store.get_secret_version("s", "n", 1).await, "old version");
    // Writes fail with the same error, never with a constraint violation.
    let third = Secret::new("secret-value-3");
    assert_tamper_error(store.set_secret("s", "n", &third).await, "set");
    assert_tamper_error(store.rotate_secret("s", "n", &third).await, "rotate");
    assert_tamper_error(store.rollback_secret("s", "n", 1).await, "rollback");
    let batch = [set_op("s", "n", third.expose())];
    assert_tamper_error(
        zlayer_secrets_core::BatchSecretsStore::apply_batch(&store, &batch).await,
        "batch",
    );
    // Other secrets are unaffected; nothing was written.
    assert_eq!(value(&store, "s", "other").await, "secret-value-other");
    let versions: i64 = conn
        .query_row("SELECT count(*) FROM secret_versions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(versions, 3);

    // A pointer moved forward, to a version that does not exist, fails the same way.
    set_pointer(&conn, "s", "n", 7);
    assert_tamper_error(store.get_secret("s", "n").await, "forward");
    assert_tamper_error(store.set_secret("s", "n", &third).await, "forward, set");

    // Put back, everything works again.
    set_pointer(&conn, "s", "n", 2);
    assert_eq!(value(&store, "s", "n").await, "secret-value-2");
    store.set_secret("s", "n", &third).await.unwrap();
    assert_eq!(version(&store, "s", "n").await, 3);
}

/// The authenticator is bound to its store, secret and version: one copied from another
/// secret, from an older state of the same secret with its pointer, or emptied, does not
/// pass.
#[tokio::test]
async fn a_current_version_authenticator_cannot_be_moved_or_removed() {
    let (_dir, path, store) = new_store().await;
    for name in ["a", "b"] {
        put(&store, "s", name, "secret-value").await;
    }
    let other_dir = tempfile::tempdir().unwrap();
    let other = open_a(other_dir.path()).await;
    put(&other, "s", "a", "secret-value").await;
    drop(other);
    let other_mac = mac_of(&raw(&other_dir.path().join("secrets.sqlite")), "s", "a");

    let conn = raw(&path);
    let mac_a = mac_of(&conn, "s", "a");
    let put_mac = |name: &str, mac: &[u8]| {
        conn.execute(
            "UPDATE secrets SET version_mac = ?2 WHERE scope = 's' AND name = ?1",
            params![name, mac],
        )
        .unwrap();
    };
    put_mac("b", &mac_a);
    assert_tamper_error(store.get_secret("s", "b").await, "another secret's");
    put_mac("a", &other_mac);
    assert_tamper_error(
        store.get_secret("s", "a").await,
        "another store's (same key)",
    );
    put_mac("a", b"");
    assert_tamper_error(store.get_secret("s", "a").await, "empty");
    put_mac("a", &mac_a);
    assert_eq!(value(&store, "s", "a").await, "secret-value");
    // A tampered secret can still be deleted (and set again).
    store.delete_secret("s", "b").await.unwrap();
    put(&store, "s", "b", "secret-value-new").await;
    assert_eq!(value(&store, "s", "b").await, "secret-value-new");
}

/// Re-encrypting re-authenticates every current version under the new data key, and refuses
/// (changing nothing) when a pointer does not authenticate: it must not launder one.
#[tokio::test]
async fn reencryption_reauthenticates_current_versions_and_refuses_tampered_ones() {
    let (_dir, path, store) = new_store().await;
    put_versions(&store, "s", "n", "secret-value-", 2).await;
    let conn = raw(&path);
    let before = mac_of(&conn, "s", "n");
    set_pointer(&conn, "s", "n", 1);
    assert_tamper_error(store.reencrypt_all(key_b()).await, "re-encrypt");
    assert_eq!(store.key_info().await.unwrap().data_key_generation, 1);
    assert_eq!(mac_of(&conn, "s", "n"), before);
    set_pointer(&conn, "s", "n", 2);

    store.reencrypt_all(key_b()).await.unwrap();
    assert_ne!(mac_of(&conn, "s", "n"), before, "re-authenticated");
    drop(store);
    let store = PersistentSecretsStore::open(&path, key_b()).await.unwrap();
    assert_eq!(value(&store, "s", "n").await, "secret-value-2");
    // The old authenticator does not pass under the new data key.
    conn.execute(
        "UPDATE secrets SET version_mac = ?1 WHERE name = 'n'",
        params![before],
    )
    .unwrap();
    assert_tamper_error(store.get_secret("s", "n").await, "old authenticator");
}

#[tokio::test]
async fn a_blob_copied_to_another_secret_does_not_decrypt() {
    let (_dir, path, store) = new_store().await;
    put(&store, "a", "b:c", "secret-value-1").await;
    put(&store, "a:b", "c", "secret-value-2").await;
    put(&store, "a", "other", "secret-value-3").await;
    put(&store, "z", "b:c", "secret-value-4").await;

    let conn = raw(&path);
    let stolen = blob(&conn, "a", "b:c", 1);
    put_blob(&conn, "a:b", "c", 1, &stolen); // different scope and name split
    put_blob(&conn, "a", "other", 1, &stolen); // same scope, another name
    put_blob(&conn, "z", "b:c", 1, &stolen); // same name, another scope
    drop(conn);

    assert_eq!(value(&store, "a", "b:c").await, "secret-value-1");
    assert_decryption_error(store.get_secret("a:b", "c").await, "other scope/name split");
    assert_decryption_error(store.get_secret("a", "other").await, "other name");
    assert_decryption_error(store.get_secret("z", "b:c").await, "other scope");
    assert_decryption_error(
        store.get_secrets("a", &["b:c", "other"]).await,
        "batch read",
    );
}

#[tokio::test]
async fn a_blob_copied_to_another_version_does_not_decrypt() {
    let (_dir, path, store) = new_store().await;
    put_versions(&store, "s", "n", "secret-value-", 3).await;
    let conn = raw(&path);
    let newest = blob(&conn, "s", "n", 3);
    let oldest = blob(&conn, "s", "n", 1);
    put_blob(&conn, "s", "n", 1, &newest); // newer value into an older version
    put_blob(&conn, "s", "n", 3, &oldest); // replay of an old value as current
    drop(conn);

    assert_decryption_error(store.get_secret_version("s", "n", 1).await, "into older");
    assert_decryption_error(store.get_secret("s", "n").await, "old as current");
    assert_eq!(version_value(&store, "s", "n", 2).await, "secret-value-2");
    // Rolling back to a tampered version refuses and writes nothing.
    assert_decryption_error(store.rollback_secret("s", "n", 1).await, "rollback");
    assert_eq!(version(&store, "s", "n").await, 3);
}

#[tokio::test]
async fn renaming_a_row_is_detected() {
    let (_dir, path, store) = new_store().await;
    put(&store, "s", "n", "secret-value").await;
    let conn = raw(&path);
    conn.execute("UPDATE secrets SET name = 'm' WHERE name = 'n'", [])
        .unwrap();
    drop(conn);
    // The current-version record names the secret, so it fails before the value (whose
    // associated data names it too) is even opened.
    assert_tamper_error(store.get_secret("s", "m").await, "renamed");
    assert_tamper_error(store.list_secrets("s").await, "renamed, listed");
}

#[tokio::test]
async fn flipping_any_byte_of_a_ciphertext_is_detected() {
    let (_dir, path, store) = new_store().await;
    put(&store, "s", "n", "secret-value").await;
    let conn = raw(&path);
    let original = blob(&conn, "s", "n", 1);
    // Every byte: nonce, ciphertext and tag.
    for i in 0..original.len() {
        for bit in [0x01u8, 0x80] {
            let mut altered = original.clone();
            altered[i] ^= bit;
            put_blob(&conn, "s", "n", 1, &altered);
            assert_decryption_error(store.get_secret("s", "n").await, &format!("byte {i}"));
        }
    }
    // Truncated and empty blobs too.
    for len in [0, 1, 24, 39, original.len() - 1] {
        put_blob(&conn, "s", "n", 1, &original[..len]);
        assert_decryption_error(store.get_secret("s", "n").await, &format!("length {len}"));
    }
    put_blob(&conn, "s", "n", 1, &original);
    assert_eq!(value(&store, "s", "n").await, "secret-value");
}

#[tokio::test]
async fn a_tampered_version_number_is_detected() {
    let (_dir, path, store) = new_store().await;
    put(&store, "s", "n", "secret-value-1").await;
    put(&store, "s", "n", "secret-value-2").await;
    let conn = raw(&path);
    // Drop the current version and point the secret back at the old one under a new number.
    conn.execute_batch(
        "DELETE FROM secret_versions WHERE version = 2;
         UPDATE secret_versions SET version = 2 WHERE version = 1;",
    )
    .unwrap();
    drop(conn);
    assert_decryption_error(store.get_secret("s", "n").await, "renumbered");
}
