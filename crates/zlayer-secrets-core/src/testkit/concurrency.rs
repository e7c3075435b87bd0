//! Several writers at once: no lost update, no duplicated version.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{ConformanceStore, unique_scope};
use crate::{Secret, SecretsError, SecretsProvider, SecretsStore};

const TASKS: u32 = 8;
const WRITES_PER_TASK: u32 = 25;
const ROTATIONS_PER_TASK: u32 = 5;

/// 8 tasks × 25 `set_secret` on one name end at exactly version 1 + 200, holding one of
/// the written values.
pub async fn concurrent_writers_lose_no_update<S: ConformanceStore>(store: S) {
    let scope = unique_scope("concurrent-set");
    let store = Arc::new(store);
    store
        .set_secret(&scope, "n", &"initial".into())
        .await
        .unwrap();

    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let store = Arc::clone(&store);
        let scope = scope.clone();
        tasks.push(tokio::spawn(async move {
            for write in 0..WRITES_PER_TASK {
                store
                    .set_secret(
                        &scope,
                        "n",
                        &Secret::new(format!("task {task} write {write}")),
                    )
                    .await
                    .unwrap_or_else(|e| panic!("task {task} write {write}: {e}"));
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer task panicked");
    }

    let meta = store.get_metadata(&scope, "n").await.unwrap();
    assert_eq!(
        meta.version,
        1 + TASKS * WRITES_PER_TASK,
        "lost or doubled writes"
    );
    let value = store.get_secret(&scope, "n").await.unwrap();
    assert!(
        value.expose().starts_with("task ") && value.expose().contains(" write "),
        "final value is not one of the written values"
    );
    let versions = store.list_versions(&scope, "n").await.unwrap();
    assert_eq!(versions.last().map(|v| v.version), Some(meta.version));
}

/// Concurrent rotations each report a distinct `previous -> previous + 1` step, and the
/// final version counts exactly the rotations that succeeded. A backend may refuse a
/// rotation that lost a race with [`SecretsError::Conflict`]; no other error is allowed.
pub async fn concurrent_rotations_are_serialised<S: ConformanceStore>(store: S) {
    let scope = unique_scope("concurrent-rotate");
    let store = Arc::new(store);
    store
        .set_secret(&scope, "n", &"initial".into())
        .await
        .unwrap();

    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let store = Arc::clone(&store);
        let scope = scope.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = Vec::new();
            for rotation in 0..ROTATIONS_PER_TASK {
                let value = Secret::new(format!("task {task} rotation {rotation}"));
                match store.rotate_secret(&scope, "n", &value).await {
                    Ok(result) => done.push(result),
                    Err(SecretsError::Conflict { .. }) => {}
                    Err(e) => panic!("task {task} rotation {rotation}: {e}"),
                }
            }
            done
        }));
    }
    let mut new_versions = BTreeSet::new();
    let mut succeeded = 0_u32;
    for task in tasks {
        for result in task.await.expect("rotating task panicked") {
            let previous = result
                .previous_version
                .expect("rotation reports the old version");
            assert_eq!(result.new_version, previous + 1, "{result:?}");
            assert!(
                new_versions.insert(result.new_version),
                "two rotations both wrote version {}",
                result.new_version
            );
            succeeded += 1;
        }
    }
    assert!(succeeded > 0, "every rotation lost");
    let meta = store.get_metadata(&scope, "n").await.unwrap();
    assert_eq!(meta.version, 1 + succeeded);
    assert_eq!(
        new_versions.into_iter().collect::<Vec<_>>(),
        (2..=1 + succeeded).collect::<Vec<_>>()
    );
}
