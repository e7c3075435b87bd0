//! What reaches the disk: values only encrypted; nothing secret in `Debug` or errors.

use std::path::Path;

use zlayer_secrets_core::VersionedSecretsStore;
use zlayer_secrets_core::testkit::steps::{put, value};

use zlayer_secrets_testsupport::contains;

use crate::{key_a, open_a, temp_db};

const CANARY: &str = "CANARY-value-7f3a9c-in-clear";

/// Scans every file in `dir` (database, log, shared memory) for the value and the key.
fn assert_nothing_in_clear(dir: &Path, moment: &str) {
    let mut scanned = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let file = entry.unwrap().path();
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !contains(&bytes, CANARY.as_bytes()),
            "{moment}: the value is in clear in {}",
            file.display()
        );
        assert!(
            !contains(&bytes, key_a().as_bytes()),
            "{moment}: the key is in {}",
            file.display()
        );
        scanned += 1;
    }
    assert!(scanned > 0);
}

#[tokio::test]
async fn values_and_keys_never_reach_the_files_in_clear() {
    let (dir, path) = temp_db();
    let store = open_a(&path).await;
    put(&store, "s", "n", CANARY).await;
    put(&store, "s", "n", "other").await;
    store.rollback_secret("s", "n", 1).await.unwrap();
    // While the write-ahead log still holds the recent pages...
    assert!(dir.path().join("store.sqlite-wal").exists());
    assert_nothing_in_clear(dir.path(), "open");

    let debug = format!("{store:?}");
    assert!(!debug.contains(CANARY), "{debug}");
    let info = format!("{:?}", store.key_info().await.unwrap());
    assert!(!info.contains(&*key_a().to_hex()), "{info}");
    let err = store.get_secret_version("s", "n", 99).await.unwrap_err();
    assert!(!err.to_string().contains(CANARY), "{err}");

    // ...and after the store is closed and the log checkpointed into the database.
    drop(store);
    assert_nothing_in_clear(dir.path(), "closed");
    let store = open_a(&path).await;
    assert_eq!(value(&store, "s", "n").await, CANARY);
}

#[tokio::test]
async fn the_old_wrapping_of_the_data_key_is_gone_after_a_rekey() {
    let (dir, path) = temp_db();
    let store = open_a(&path).await;
    put(&store, "s", "n", "v").await;
    let old: Vec<u8> = crate::raw(&path)
        .query_row("SELECT wrapped_dek FROM store_meta", [], |r| r.get(0))
        .unwrap();
    store.rekey(crate::key_b()).await.unwrap();
    // Still open: the log was checkpointed and truncated, and the old page zeroed.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let file = entry.unwrap().path();
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !contains(&bytes, &old),
            "the old wrapped key is still in {}",
            file.display()
        );
    }
    assert_eq!(value(&store, "s", "n").await, "v");
}
