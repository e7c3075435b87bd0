//! Several writers at once: no lost update, no duplicated version.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;

use super::steps::{put, value, version};
use super::{ConformanceStore, unique_scope};
use crate::{Secret, SecretsError, SecretsStore};

const TASKS: u32 = 8;
const WRITES_PER_TASK: u32 = 25;
const ROTATIONS_PER_TASK: u32 = 5;

/// `store`, shared, with `n` written once (`"initial"`) in a new scope named after `label`.
async fn shared_with_initial<S: ConformanceStore>(store: S, label: &str) -> (Arc<S>, String) {
    let scope = unique_scope(label);
    let store = Arc::new(store);
    put(&*store, &scope, "n", "initial").await;
    (store, scope)
}

/// Runs `work(store, scope, task)` as [`TASKS`] tasks at once; their results in task order.
async fn run_tasks<S, F, Fut>(store: &Arc<S>, scope: &str, work: F) -> Vec<Fut::Output>
where
    S: ConformanceStore,
    F: Fn(Arc<S>, String, u32) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| tokio::spawn(work(Arc::clone(store), scope.to_owned(), task)))
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("a task panicked"));
    }
    results
}

/// 8 tasks × 25 `set_secret` on one name end at exactly version 1 + 200, holding one of
/// the written values.
pub async fn concurrent_writers_lose_no_update<S: ConformanceStore>(store: S) {
    let (store, scope) = shared_with_initial(store, "concurrent-set").await;
    run_tasks(&store, &scope, |store, scope, task| async move {
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
    })
    .await;

    let current = version(&*store, &scope, "n").await;
    assert_eq!(
        current,
        1 + TASKS * WRITES_PER_TASK,
        "lost or doubled writes"
    );
    let last = value(&*store, &scope, "n").await;
    assert!(
        last.starts_with("task ") && last.contains(" write "),
        "final value is not one of the written values"
    );
    let versions = store.list_versions(&scope, "n").await.unwrap();
    assert_eq!(versions.last().map(|v| v.version), Some(current));
}

/// Concurrent rotations each report a distinct `previous -> previous + 1` step, and the
/// final version counts exactly the rotations that succeeded. A backend may refuse a
/// rotation that lost a race with [`SecretsError::Conflict`]; no other error is allowed.
pub async fn concurrent_rotations_are_serialised<S: ConformanceStore>(store: S) {
    let (store, scope) = shared_with_initial(store, "concurrent-rotate").await;
    let done_by_task = run_tasks(&store, &scope, |store, scope, task| async move {
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
    })
    .await;
    let mut new_versions = BTreeSet::new();
    let mut succeeded = 0_u32;
    for done in done_by_task {
        for result in done {
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
    assert_eq!(version(&*store, &scope, "n").await, 1 + succeeded);
    assert_eq!(
        new_versions.into_iter().collect::<Vec<_>>(),
        (2..=1 + succeeded).collect::<Vec<_>>()
    );
}
