//! `apply_batch` is all-or-nothing.

use zlayer_secrets_core::testkit::steps::{delete_op, put, set_op as set, value, version};
use zlayer_secrets_core::{BatchSecretsStore, SecretsError, SecretsProvider};
use zlayer_secrets_sqlite::MAX_VALUE_LEN;

use crate::{new_store, temp_db};

#[tokio::test]
async fn a_batch_applies_in_order() {
    let (_dir, _, store) = new_store().await;
    assert!(store.is_atomic());
    put(&store, "s", "gone", "x").await;
    store
        .apply_batch(&[
            set("s", "a", "1"),
            set("s", "a", "2"),
            set("t", "b", "3"),
            delete_op("s", "gone"),
            delete_op("s", "never-existed"),
        ])
        .await
        .unwrap();
    assert_eq!(value(&store, "s", "a").await, "2");
    assert_eq!(version(&store, "s", "a").await, 2);
    assert_eq!(value(&store, "t", "b").await, "3");
    assert!(!store.exists("s", "gone").await.unwrap());
    store.apply_batch(&[]).await.unwrap();
}

#[tokio::test]
async fn a_bad_operation_anywhere_applies_nothing() {
    let (_dir, _, store) = new_store().await;
    put(&store, "s", "keep", "old").await;
    let too_big = "z".repeat(MAX_VALUE_LEN + 1);
    for bad in [
        set("s", "bad/name", "v"),
        set("", "n", "v"),
        set("s", "big", &too_big),
    ] {
        let err = store
            .apply_batch(&[set("s", "keep", "new"), set("s", "fresh", "v"), bad])
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                SecretsError::InvalidName { .. } | SecretsError::TooLarge { .. }
            ),
            "{err}"
        );
        assert_eq!(value(&store, "s", "keep").await, "old");
        assert!(!store.exists("s", "fresh").await.unwrap());
    }
}

#[tokio::test]
async fn a_failure_inside_the_transaction_rolls_everything_back() {
    let (_dir, path, store) = new_store().await;
    put(&store, "s", "keep", "old").await;
    // Make the database itself refuse the last write of the batch, after the first ones
    // were executed inside the transaction.
    crate::raw(&path)
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON secrets WHEN NEW.name = 'poison'
             BEGIN SELECT RAISE(ABORT, 'refused by test'); END;",
        )
        .unwrap();
    let err = store
        .apply_batch(&[
            set("s", "keep", "new"),
            set("s", "fresh", "v"),
            set("s", "poison", "v"),
        ])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SecretsError::Database { path: Some(p), source, .. }
            if *p == path && source.downcast_ref::<rusqlite::Error>().is_some()),
        "{err}"
    );
    assert!(err.to_string().contains("refused by test"), "{err}");
    assert_eq!(value(&store, "s", "keep").await, "old");
    assert_eq!(version(&store, "s", "keep").await, 1);
    assert!(!store.exists("s", "fresh").await.unwrap());
}

#[tokio::test]
async fn a_write_that_cannot_get_the_lock_fails_clearly_and_writes_nothing() {
    let (_dir, path) = temp_db();
    let store = crate::open_with(
        &path,
        zlayer_secrets_sqlite::StoreOptions {
            busy_timeout: std::time::Duration::from_millis(50),
            ..zlayer_secrets_sqlite::StoreOptions::default()
        },
    )
    .await;
    put(&store, "s", "n", "old").await;
    // Another writer holds the write lock for longer than the store waits.
    let blocker = crate::raw(&path);
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let err = store
        .apply_batch(&[set("s", "n", "new"), set("s", "m", "v")])
        .await
        .unwrap_err();
    assert!(err.is_storage(), "{err}");
    assert!(
        matches!(&err, SecretsError::Database { source, .. }
            if source.downcast_ref::<rusqlite::Error>().and_then(rusqlite::Error::sqlite_error_code)
                == Some(rusqlite::ErrorCode::DatabaseBusy)),
        "the SQLite error is kept: {err:?}"
    );
    assert!(err.to_string().contains("locked"), "{err}");
    // Reads still work while the other writer holds the lock (WAL).
    assert_eq!(value(&store, "s", "n").await, "old");
    blocker.execute_batch("ROLLBACK").unwrap();
    assert!(!store.exists("s", "m").await.unwrap());
    put(&store, "s", "n", "new").await;
    assert_eq!(version(&store, "s", "n").await, 2);
}
