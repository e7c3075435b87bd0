//! Create-if-absent: [`SecretsStore::create_secret`](crate::SecretsStore::create_secret).

use std::sync::Arc;

use super::steps::{put, value, version};
use super::{ConformanceStore, assert_invalid_name, unique_scope};
use crate::{Secret, SecretsError, SecretsStore};

/// How many tasks race to create one name.
const RACERS: usize = 8;

/// Panics unless `result` is [`SecretsError::AlreadyExists`] naming `scope/name`.
#[track_caller]
fn assert_already_exists<T>(result: crate::Result<T>, scope: &str, name: &str) {
    match result {
        Err(SecretsError::AlreadyExists { name: shown }) => {
            assert_eq!(
                shown,
                crate::label(scope, name),
                "the error names the secret"
            );
        }
        Err(other) => panic!("{scope}/{name}: expected AlreadyExists, got error: {other}"),
        Ok(_) => panic!("{scope}/{name}: expected AlreadyExists, but it succeeded"),
    }
}

/// A create of `scope/n`, which exists, is `AlreadyExists`, and `n` still holds `kept` at
/// `kept_version`.
async fn refused_create_keeps<S: ConformanceStore>(
    store: &S,
    scope: &str,
    kept: &str,
    kept_version: u32,
) {
    assert_already_exists(
        store
            .create_secret(scope, "n", &Secret::new("overwritten?"))
            .await,
        scope,
        "n",
    );
    assert_eq!(value(store, scope, "n").await, kept);
    assert_eq!(version(store, scope, "n").await, kept_version);
}

/// Creating a name that does not exist writes version 1; creating it again is
/// `AlreadyExists` and changes neither its value nor its version; after a delete the name
/// can be created again, at version 1.
pub async fn create_writes_version_one_and_never_overwrites<S: ConformanceStore>(store: S) {
    let scope = unique_scope("create");
    let created = store
        .create_secret(&scope, "n", &Secret::new("first"))
        .await;
    assert_eq!(created.unwrap(), 1);
    assert_eq!(value(&store, &scope, "n").await, "first");

    refused_create_keeps(&store, &scope, "first", 1).await;

    // An updated secret exists just as well.
    put(&store, &scope, "n", "third").await;
    refused_create_keeps(&store, &scope, "third", 2).await;

    // A deleted secret is absent.
    store.delete_secret(&scope, "n").await.unwrap();
    let created = store
        .create_secret(&scope, "n", &Secret::new("again"))
        .await;
    assert_eq!(created.unwrap(), 1);
    assert_eq!(value(&store, &scope, "n").await, "again");

    // The same name in another scope is another secret.
    let other = unique_scope("create-other");
    let created = store.create_secret(&other, "n", &"elsewhere".into()).await;
    assert_eq!(created.unwrap(), 1);
    assert_eq!(value(&store, &scope, "n").await, "again");

    for bad in ["", "a/b", ".."] {
        assert_invalid_name(
            store.create_secret(&scope, bad, &Secret::new("x")).await,
            &format!("create {bad:?}"),
        );
    }
}

/// Eight tasks create one name at the same time: exactly one gets version 1, the others
/// `AlreadyExists`, and the value stored is the winner's.
pub async fn concurrent_creates_have_one_winner<S: ConformanceStore>(store: S) {
    let scope = unique_scope("create-race");
    let store = Arc::new(store);
    let start = Arc::new(tokio::sync::Barrier::new(RACERS));
    let mut tasks = Vec::new();
    for task in 0..RACERS {
        let (store, scope, start) = (Arc::clone(&store), scope.clone(), Arc::clone(&start));
        tasks.push(tokio::spawn(async move {
            let value = format!("created by task {task}");
            start.wait().await;
            let result = store
                .create_secret(&scope, "n", &Secret::new(value.clone()))
                .await;
            (value, result)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (value, result) = task.await.expect("creating task panicked");
        match result {
            Ok(version) => {
                assert_eq!(version, 1, "the winner wrote version 1");
                winners.push(value);
            }
            Err(e) => assert_already_exists(Err::<(), _>(e), &scope, "n"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one create succeeds: {winners:?}");
    assert_eq!(value(&*store, &scope, "n").await, winners[0]);
    assert_eq!(version(&*store, &scope, "n").await, 1);
    assert_eq!(store.list_versions(&scope, "n").await.unwrap().len(), 1);
}
