//! Version history: retention, reading old versions, rollback, rotation.

use zlayer_secrets_core::testkit::steps::{
    put, put_versions, value, version, version_numbers, version_value,
};
use zlayer_secrets_core::{
    Secret, SecretsError, SecretsProvider, SecretsStore, VersionedSecretsStore,
};
use zlayer_secrets_sqlite::{DEFAULT_RETENTION, PersistentSecretsStore, StoreOptions};

use crate::{key_a, new_store, open_a, open_with, temp_db};

#[tokio::test]
async fn default_retention_keeps_ten_versions() {
    let (_dir, _, store) = new_store().await;
    put_versions(&store, "s", "n", "v", 15).await;
    let versions: Vec<u32> = version_numbers(&store, "s", "n").await;
    assert_eq!(DEFAULT_RETENTION, 10);
    assert_eq!(versions, (6..=15).collect::<Vec<_>>());
    assert_eq!(version_value(&store, "s", "n", 6).await, "v6");
    let err = store.get_secret_version("s", "n", 5).await.unwrap_err();
    assert!(matches!(err, SecretsError::NotFound { .. }), "{err}");
    assert!(
        err.to_string().contains("6 to 15"),
        "says what is kept: {err}"
    );
    let meta = store.get_metadata("s", "n").await.unwrap();
    assert_eq!(meta.version, 15);
    assert!(meta.created_at <= meta.updated_at);
}

#[tokio::test]
async fn retention_is_configurable() {
    let (_dir, path) = temp_db();
    let store = open_with(
        &path,
        StoreOptions {
            retention: 2,
            ..StoreOptions::default()
        },
    )
    .await;
    put_versions(&store, "s", "n", "v", 5).await;
    let versions: Vec<u32> = version_numbers(&store, "s", "n").await;
    assert_eq!(versions, [4, 5]);

    let err = PersistentSecretsStore::open_with_options(
        &path,
        key_a(),
        StoreOptions {
            retention: 0,
            ..StoreOptions::default()
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, SecretsError::InvalidInput { what, .. } if what.contains("retention")),
        "{err}"
    );

    let err = PersistentSecretsStore::open_with_options(
        &path,
        key_a(),
        StoreOptions {
            busy_timeout: std::time::Duration::from_secs(u64::MAX),
            ..StoreOptions::default()
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, SecretsError::InvalidInput { what, .. } if what.contains("busy timeout")),
        "{err}"
    );
}

#[tokio::test]
async fn rollback_writes_the_old_value_as_a_new_version() {
    let (_dir, _, store) = new_store().await;
    put_versions(&store, "s", "n", "v", 3).await;
    let result = store.rollback_secret("s", "n", 1).await.unwrap();
    assert_eq!(result.previous_version, Some(3));
    assert_eq!(result.new_version, 4);
    assert_eq!(value(&store, "s", "n").await, "v1");
    assert_eq!(
        version_value(&store, "s", "n", 3).await,
        "v3",
        "history is kept"
    );
    let err = store.rollback_secret("s", "n", 9).await.unwrap_err();
    assert!(matches!(err, SecretsError::NotFound { .. }), "{err}");
    let err = store.rollback_secret("s", "missing", 1).await.unwrap_err();
    assert!(matches!(err, SecretsError::NotFound { .. }), "{err}");
    assert_eq!(version(&store, "s", "n").await, 4);
}

#[tokio::test]
async fn rotate_needs_an_existing_secret_and_reports_versions() {
    let (_dir, _, store) = new_store().await;
    let err = store
        .rotate_secret("s", "n", &Secret::new("x"))
        .await
        .unwrap_err();
    assert!(matches!(err, SecretsError::NotFound { .. }), "{err}");
    assert!(!store.exists("s", "n").await.unwrap());

    put(&store, "s", "n", "a").await;
    let r = store
        .rotate_secret("s", "n", &Secret::new("b"))
        .await
        .unwrap();
    assert_eq!((r.previous_version, r.new_version), (Some(1), 2));
    assert_eq!(value(&store, "s", "n").await, "b");
}

#[tokio::test]
async fn history_of_a_missing_secret_is_not_found() {
    let (_dir, _, store) = new_store().await;
    for err in [
        store.list_versions("s", "n").await.unwrap_err(),
        store.get_secret_version("s", "n", 1).await.unwrap_err(),
        store.get_metadata("s", "n").await.unwrap_err(),
    ] {
        assert!(matches!(err, SecretsError::NotFound { .. }), "{err}");
        assert!(err.to_string().contains("s/n"), "{err}");
    }
}

#[tokio::test]
async fn threads_writing_one_secret_lose_no_update() {
    let (_dir, path, store) = new_store().await;
    put(&store, "s", "n", "0").await;
    let mut tasks = Vec::new();
    for t in 0..4 {
        // Separate handles: separate connections, as separate processes would have.
        let store = open_a(&path).await;
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                put(&store, "s", "n", format!("{t}-{i}")).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(version(&store, "s", "n").await, 101);
}
