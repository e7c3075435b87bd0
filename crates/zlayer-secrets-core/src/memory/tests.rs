use std::num::NonZeroUsize;

use super::*;

fn nz(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn default_retention_is_ten() {
    let store = MemoryStore::default();
    assert_eq!(store.retention(), DEFAULT_HISTORY_RETENTION);
    assert_eq!(store.retention().get(), 10);
}

#[test]
fn retention_prunes_oldest_versions() {
    block_on(async {
        let store = MemoryStore::with_retention(nz(3));
        for i in 1..=5 {
            store
                .set_secret("s", "n", &Secret::new(format!("v{i}")))
                .await
                .unwrap();
        }
        let versions: Vec<u32> = store
            .list_versions("s", "n")
            .await
            .unwrap()
            .iter()
            .map(|v| v.version)
            .collect();
        assert_eq!(versions, [3, 4, 5]);
        for pruned in [1, 2] {
            let err = store
                .get_secret_version("s", "n", pruned)
                .await
                .unwrap_err();
            assert!(matches!(err, SecretsError::NotFound { .. }), "{err}");
            let err = store.rollback_secret("s", "n", pruned).await.unwrap_err();
            assert!(matches!(err, SecretsError::NotFound { .. }), "{err}");
        }
        assert_eq!(
            store
                .get_secret_version("s", "n", 3)
                .await
                .unwrap()
                .expose(),
            "v3"
        );
        // The first write's time survives pruning of the first version.
        let meta = store.get_metadata("s", "n").await.unwrap();
        assert_eq!(meta.version, 5);
        assert!(meta.created_at <= meta.updated_at);
    });
}

#[test]
fn retention_of_one_keeps_only_the_current_version() {
    block_on(async {
        let store = MemoryStore::with_retention(nz(1));
        store.set_secret("s", "n", &"a".into()).await.unwrap();
        store.set_secret("s", "n", &"b".into()).await.unwrap();
        let versions = store.list_versions("s", "n").await.unwrap();
        assert_eq!(versions.len(), 1);
        assert_eq!(versions[0].version, 2);
        let result = store.rollback_secret("s", "n", 2).await.unwrap();
        assert_eq!(result.new_version, 3);
        assert_eq!(store.get_secret("s", "n").await.unwrap().expose(), "b");
    });
}

#[test]
fn version_counter_exhaustion_is_an_error_not_a_wrap() {
    let key = ("s".to_owned(), "n".to_owned());
    let mut entry = Entry::new(Secret::new("old"));
    entry.versions.back_mut().unwrap().version = u32::MAX;
    let err = entry.push(Secret::new("new"), nz(10), &key).unwrap_err();
    assert!(matches!(err, SecretsError::Storage(_)), "{err}");
    assert!(err.to_string().contains("s/n"), "{err}");
    assert_eq!(entry.versions.len(), 1);
    assert_eq!(entry.current().value.expose(), "old");
}

#[test]
fn failing_batch_step_leaves_store_unchanged() {
    block_on(async {
        let store = MemoryStore::new();
        store.set_secret("s", "full", &"kept".into()).await.unwrap();
        store
            .set_secret("s", "other", &"kept".into())
            .await
            .unwrap();
        // Make the next write to `full` fail half-way through the batch.
        store
            .lock()
            .get_mut(&("s".to_owned(), "full".to_owned()))
            .unwrap()
            .versions
            .back_mut()
            .unwrap()
            .version = u32::MAX;
        let ops = [
            WriteOp::Delete {
                scope: "s".into(),
                name: "other".into(),
            },
            WriteOp::Set {
                scope: "s".into(),
                name: "new".into(),
                value: "x".into(),
            },
            WriteOp::Set {
                scope: "s".into(),
                name: "full".into(),
                value: "lost".into(),
            },
        ];
        let err = store.apply_batch(&ops).await.unwrap_err();
        assert!(matches!(err, SecretsError::Storage(_)), "{err}");
        assert!(store.exists("s", "other").await.unwrap());
        assert!(!store.exists("s", "new").await.unwrap());
        assert_eq!(
            store.get_secret("s", "full").await.unwrap().expose(),
            "kept"
        );
        assert_eq!(store.len(), 2);
    });
}

#[test]
fn debug_shows_counts_not_values() {
    block_on(async {
        let store = MemoryStore::new();
        assert!(store.is_empty());
        store
            .set_secret("s", "n", &"hunter2-debug-probe".into())
            .await
            .unwrap();
        let shown = format!("{store:?}");
        assert!(!shown.contains("hunter2-debug-probe"), "{shown}");
        assert!(shown.contains("secrets: 1"), "{shown}");
    });
}
