//! Ciphertexts are bound to where they live: moving or altering one makes the read fail.

use rusqlite::params;
use zlayer_secrets_core::{
    Secret, SecretsError, SecretsProvider, SecretsStore, VersionedSecretsStore,
};

use crate::{open_a, raw, temp_db};

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

#[tokio::test]
async fn a_blob_copied_to_another_secret_does_not_decrypt() {
    let (_dir, path) = temp_db();
    let store = open_a(&path).await;
    store
        .set_secret("a", "b:c", &Secret::new("secret-value-1"))
        .await
        .unwrap();
    store
        .set_secret("a:b", "c", &Secret::new("secret-value-2"))
        .await
        .unwrap();
    store
        .set_secret("a", "other", &Secret::new("secret-value-3"))
        .await
        .unwrap();
    store
        .set_secret("z", "b:c", &Secret::new("secret-value-4"))
        .await
        .unwrap();

    let conn = raw(&path);
    let stolen = blob(&conn, "a", "b:c", 1);
    put_blob(&conn, "a:b", "c", 1, &stolen); // different scope and name split
    put_blob(&conn, "a", "other", 1, &stolen); // same scope, another name
    put_blob(&conn, "z", "b:c", 1, &stolen); // same name, another scope
    drop(conn);

    assert_eq!(
        store.get_secret("a", "b:c").await.unwrap().expose(),
        "secret-value-1"
    );
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
    let (_dir, path) = temp_db();
    let store = open_a(&path).await;
    for i in 1..=3 {
        store
            .set_secret("s", "n", &Secret::new(format!("secret-value-{i}")))
            .await
            .unwrap();
    }
    let conn = raw(&path);
    let newest = blob(&conn, "s", "n", 3);
    let oldest = blob(&conn, "s", "n", 1);
    put_blob(&conn, "s", "n", 1, &newest); // newer value into an older version
    put_blob(&conn, "s", "n", 3, &oldest); // replay of an old value as current
    drop(conn);

    assert_decryption_error(store.get_secret_version("s", "n", 1).await, "into older");
    assert_decryption_error(store.get_secret("s", "n").await, "old as current");
    assert_eq!(
        store
            .get_secret_version("s", "n", 2)
            .await
            .unwrap()
            .expose(),
        "secret-value-2"
    );
    // Rolling back to a tampered version refuses and writes nothing.
    assert_decryption_error(store.rollback_secret("s", "n", 1).await, "rollback");
    assert_eq!(store.get_metadata("s", "n").await.unwrap().version, 3);
}

#[tokio::test]
async fn renaming_a_row_breaks_its_ciphertext() {
    let (_dir, path) = temp_db();
    let store = open_a(&path).await;
    store
        .set_secret("s", "n", &Secret::new("secret-value"))
        .await
        .unwrap();
    let conn = raw(&path);
    conn.execute("UPDATE secrets SET name = 'm' WHERE name = 'n'", [])
        .unwrap();
    drop(conn);
    assert_decryption_error(store.get_secret("s", "m").await, "renamed");
}

#[tokio::test]
async fn flipping_any_byte_of_a_ciphertext_is_detected() {
    let (_dir, path) = temp_db();
    let store = open_a(&path).await;
    store
        .set_secret("s", "n", &Secret::new("secret-value"))
        .await
        .unwrap();
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
    assert_eq!(
        store.get_secret("s", "n").await.unwrap().expose(),
        "secret-value"
    );
}

#[tokio::test]
async fn a_tampered_version_number_is_detected() {
    let (_dir, path) = temp_db();
    let store = open_a(&path).await;
    store
        .set_secret("s", "n", &Secret::new("secret-value-1"))
        .await
        .unwrap();
    store
        .set_secret("s", "n", &Secret::new("secret-value-2"))
        .await
        .unwrap();
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
