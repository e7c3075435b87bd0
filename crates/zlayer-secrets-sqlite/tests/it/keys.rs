//! Wrong keys, re-keying and full re-encryption.

use zlayer_secrets_core::testkit::steps::{put, put_versions, value, version, version_value};
use zlayer_secrets_core::{
    Secret, SecretsError, SecretsProvider, SecretsStore, StoreProblem, WrongKeyReason,
};
use zlayer_secrets_crypto::EncryptionKey;
use zlayer_secrets_sqlite::PersistentSecretsStore;

use crate::{first_column, key_a, key_b, new_store, open_a, raw, temp_db};

async fn wrong_key_error(path: &std::path::Path, key: EncryptionKey) -> String {
    match PersistentSecretsStore::open(path, key).await {
        Err(err @ SecretsError::WrongKey { .. }) => {
            let SecretsError::WrongKey { store, reason, .. } = &err else {
                unreachable!()
            };
            assert!(matches!(**reason, WrongKeyReason::Mismatch { .. }), "{err}");
            assert_eq!(store.as_deref(), Some(path), "names the store");
            err.to_string()
        }
        other => panic!("expected WrongKey, got {other:?}"),
    }
}

#[tokio::test]
async fn the_wrong_key_fails_at_open_and_the_right_one_still_works() {
    let (_dir, path, store) = new_store().await;
    put(&store, "s", "n", "v").await;
    drop(store);

    let before = std::fs::read(&path).unwrap();
    let msg = wrong_key_error(&path, key_b()).await;
    assert!(msg.contains("does not open"), "{msg}");
    assert!(
        msg.contains(&key_b().fingerprint()),
        "names the key given: {msg}"
    );
    assert!(
        msg.contains(&key_a().fingerprint()),
        "names the key expected: {msg}"
    );
    let err = PersistentSecretsStore::open(&path, key_b())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the key does not open the store"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "a failed open writes nothing"
    );

    let store = open_a(&path).await;
    assert_eq!(value(&store, "s", "n").await, "v");
}

#[tokio::test]
async fn an_empty_store_also_checks_the_key() {
    let (_dir, path) = temp_db();
    drop(open_a(&path).await);
    wrong_key_error(&path, key_b()).await;
}

#[tokio::test]
async fn a_damaged_key_record_is_not_reported_as_a_wrong_key() {
    let (_dir, path, store) = new_store().await;
    put(&store, "s", "n", "v").await;
    drop(store);
    let conn = raw(&path);
    let original: Vec<u8> = conn
        .query_row("SELECT wrapped_dek FROM store_meta", [], |r| r.get(0))
        .unwrap();
    // Every byte of the wrapped data key, one at a time.
    for i in 0..original.len() {
        let mut altered = original.clone();
        altered[i] ^= 0x01;
        conn.execute("UPDATE store_meta SET wrapped_dek = ?1", [&altered])
            .unwrap();
        let err = PersistentSecretsStore::open(&path, key_a())
            .await
            .unwrap_err();
        assert!(
            matches!(err, SecretsError::Decryption(_)),
            "byte {i}: {err}"
        );
        assert!(err.to_string().contains("damaged"), "{err}");
    }
    conn.execute("UPDATE store_meta SET wrapped_dek = ?1", [&original])
        .unwrap();
    let store = open_a(&path).await;
    assert_eq!(value(&store, "s", "n").await, "v");
}

#[tokio::test]
async fn rekey_switches_the_key_and_keeps_every_version() {
    let (_dir, path, store) = new_store().await;
    put_versions(&store, "s", "n", "v", 3).await;
    let info = store.key_info().await.unwrap();
    assert_eq!(info.fingerprint, key_a().fingerprint());
    assert_eq!(
        store.key_fingerprint().await.unwrap(),
        key_a().fingerprint()
    );
    assert_eq!(info.rekeyed_at, None);

    let blobs_before: Vec<Vec<u8>> = first_column(
        &path,
        "SELECT ciphertext FROM secret_versions ORDER BY version",
    );

    store.rekey(key_b()).await.unwrap();
    let info = store.key_info().await.unwrap();
    assert_eq!(info.fingerprint, key_b().fingerprint());
    assert!(info.rekeyed_at.is_some());
    assert_eq!(info.data_key_generation, 1, "the data key is unchanged");
    // The handle keeps working.
    assert_eq!(value(&store, "s", "n").await, "v3");
    put(&store, "s", "n", "v4").await;
    drop(store);

    let blobs_after: Vec<Vec<u8>> = first_column(
        &path,
        "SELECT ciphertext FROM secret_versions WHERE version <= 3 ORDER BY version",
    );
    assert_eq!(blobs_before, blobs_after, "re-keying rewrites no value");

    wrong_key_error(&path, key_a()).await;
    let store = PersistentSecretsStore::open(&path, key_b()).await.unwrap();
    for i in 1..=4 {
        assert_eq!(version_value(&store, "s", "n", i).await, format!("v{i}"));
    }
}

#[tokio::test]
async fn reencrypt_all_replaces_the_data_key_and_every_ciphertext() {
    let (_dir, path, store) = new_store().await;
    for s in 0..5 {
        for v in 1..=3 {
            put(&store, &format!("scope{s}"), "n", format!("{s}-{v}")).await;
        }
    }
    let before: Vec<Vec<u8>> = first_column(
        &path,
        "SELECT ciphertext FROM secret_versions ORDER BY secret_id, version",
    );
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen2 = std::sync::Arc::clone(&seen);
    let report = store
        .reencrypt_all_with_progress(key_b(), move |done, total| {
            seen2.lock().unwrap().push((done, total));
        })
        .await
        .unwrap();
    assert_eq!(report.versions, 15);
    assert_eq!(report.data_key_generation, 2);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.first(), Some(&(0, 15)));
    assert_eq!(seen.last(), Some(&(15, 15)));

    let after: Vec<Vec<u8>> = first_column(
        &path,
        "SELECT ciphertext FROM secret_versions ORDER BY secret_id, version",
    );
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        assert_ne!(b, a, "every ciphertext is new");
    }
    let info = store.key_info().await.unwrap();
    assert!(info.reencrypted_at.is_some());
    assert_eq!(info.fingerprint, key_b().fingerprint());
    drop(store);

    wrong_key_error(&path, key_a()).await;
    let store = PersistentSecretsStore::open(&path, key_b()).await.unwrap();
    for s in 0..5 {
        for v in 1..=3 {
            assert_eq!(
                version_value(&store, &format!("scope{s}"), "n", v).await,
                format!("{s}-{v}")
            );
        }
    }
    // Keeping the same outer key is allowed: only the data key changes.
    let report = store.reencrypt_all(key_b()).await.unwrap();
    assert_eq!(report.data_key_generation, 3);
    assert_eq!(value(&store, "scope0", "n").await, "0-3");
}

#[tokio::test]
async fn reencrypt_all_refuses_a_tampered_store_and_changes_nothing() {
    let (_dir, path, store) = new_store().await;
    put(&store, "s", "a", "1").await;
    put(&store, "s", "b", "2").await;
    raw(&path)
        .execute(
            "UPDATE secret_versions SET ciphertext = (SELECT ciphertext FROM secret_versions
               WHERE secret_id = (SELECT id FROM secrets WHERE name = 'a'))
             WHERE secret_id = (SELECT id FROM secrets WHERE name = 'b')",
            [],
        )
        .unwrap();
    let err = store.reencrypt_all(key_b()).await.unwrap_err();
    assert!(matches!(err, SecretsError::Decryption(_)), "{err}");
    assert!(
        err.to_string().contains("s/b"),
        "names the bad secret: {err}"
    );
    assert_eq!(store.key_info().await.unwrap().data_key_generation, 1);
    assert_eq!(value(&store, "s", "a").await, "1");
    drop(store);
    drop(open_a(&path).await);
}

/// Two handles on one new store, `v1` written to `s/n` through the first: the directory,
/// the first handle and the second.
async fn two_handles() -> (
    tempfile::TempDir,
    PersistentSecretsStore,
    PersistentSecretsStore,
) {
    let (dir, path, first) = new_store().await;
    let second = open_a(&path).await;
    put(&first, "s", "n", "v1").await;
    (dir, first, second)
}

#[tokio::test]
async fn another_handle_follows_a_reencryption_with_the_same_outer_key() {
    let (_dir, first, second) = two_handles().await;
    assert_eq!(value(&second, "s", "n").await, "v1");

    first.reencrypt_all(key_a()).await.unwrap();
    // The second handle still holds generation 1 of the data key; it must notice.
    assert_eq!(value(&second, "s", "n").await, "v1");
    put(&second, "s", "n", "v2").await;
    assert_eq!(value(&first, "s", "n").await, "v2");
}

#[tokio::test]
async fn another_handle_refuses_to_work_after_a_reencryption_under_a_new_key() {
    let (_dir, first, second) = two_handles().await;
    first.reencrypt_all(key_b()).await.unwrap();

    let err = second
        .set_secret("s", "n", &Secret::new("v2"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SecretsError::WrongKey { reason, .. } if **reason == WrongKeyReason::Replaced),
        "{err}"
    );
    let err = second.get_secret("s", "n").await.unwrap_err();
    assert!(matches!(err, SecretsError::WrongKey { .. }), "{err}");
    // Nothing was written with the stale key.
    assert_eq!(version(&first, "s", "n").await, 1);
    assert_eq!(value(&first, "s", "n").await, "v1");
}

#[tokio::test]
async fn a_handle_keeps_working_after_another_one_rekeys() {
    let (_dir, first, second) = two_handles().await;
    first.rekey(key_b()).await.unwrap();
    // The data key did not change, so the second handle's writes stay readable.
    put(&second, "s", "n", "v2").await;
    assert_eq!(value(&first, "s", "n").await, "v2");
    assert_eq!(
        second.key_fingerprint().await.unwrap(),
        key_b().fingerprint()
    );
}

#[tokio::test]
async fn a_deleted_key_record_is_not_silently_replaced() {
    let (_dir, path, store) = new_store().await;
    put(&store, "s", "n", "v").await;
    drop(store);
    raw(&path).execute("DELETE FROM store_meta", []).unwrap();
    let err = PersistentSecretsStore::open(&path, key_a())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SecretsError::Store {
                path: Some(_),
                problem: StoreProblem::KeyRecordMissing { values: 1 }
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("lost its key record"), "{err}");
    let rows: i64 = raw(&path)
        .query_row("SELECT count(*) FROM store_meta", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0, "no replacement key was written");
}
