//! Version history: listing, reading and rolling back versions.

use super::steps::{put, put_versions, value, version, version_numbers, version_value};
use super::{ConformanceStore, assert_not_found, unique_scope};
use crate::{Secret, VersionState};

async fn write_three<S: ConformanceStore>(store: &S, scope: &str) {
    for value in ["first", "second", "third"] {
        put(store, scope, "n", value).await;
    }
}

/// `list_versions` is oldest first; every listed version can be read back.
pub async fn history_lists_and_reads_versions<S: ConformanceStore>(store: S) {
    let scope = unique_scope("history");
    write_three(&store, &scope).await;

    let versions = store.list_versions(&scope, "n").await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(
        versions
            .windows(2)
            .all(|w| w[0].created_at <= w[1].created_at),
        "versions must be listed oldest first: {versions:?}"
    );
    for (number, expected) in [(1, "first"), (2, "second"), (3, "third")] {
        let got = version_value(&store, &scope, "n", number).await;
        assert_eq!(got, expected, "version {number}");
    }
    let meta = store.get_metadata(&scope, "n").await.unwrap();
    assert_eq!(meta.version, 3);
    assert_eq!(meta.created_at, versions[0].created_at);
    assert_eq!(meta.updated_at, versions[2].created_at);
}

/// A rollback writes the old value again as a new version; history is kept.
pub async fn rollback_writes_a_new_version<S: ConformanceStore>(store: S) {
    let scope = unique_scope("rollback");
    write_three(&store, &scope).await;

    let result = store.rollback_secret(&scope, "n", 1).await.unwrap();
    assert_eq!(result.previous_version, Some(3));
    assert_eq!(result.new_version, 4);
    assert_eq!(value(&store, &scope, "n").await, "first");
    assert_eq!(version(&store, &scope, "n").await, 4);
    assert_eq!(version_numbers(&store, &scope, "n").await, [1, 2, 3, 4]);
    assert_eq!(version_value(&store, &scope, "n", 3).await, "third");

    // Rolling back to the current version is allowed and is a write too.
    let result = store.rollback_secret(&scope, "n", 4).await.unwrap();
    assert_eq!(result.new_version, 5);
    assert_eq!(value(&store, &scope, "n").await, "first");
}

/// Versions that were never written, and secrets that do not exist, are `NotFound`; a
/// failed rollback changes nothing.
pub async fn missing_versions_are_not_found<S: ConformanceStore>(store: S) {
    let scope = unique_scope("missing-version");
    write_three(&store, &scope).await;

    for version in [0, 4, u32::MAX] {
        assert_not_found(
            store.get_secret_version(&scope, "n", version).await,
            &format!("read version {version}"),
        );
        assert_not_found(
            store.rollback_secret(&scope, "n", version).await,
            &format!("roll back to version {version}"),
        );
    }
    assert_eq!(version(&store, &scope, "n").await, 3);
    assert_eq!(value(&store, &scope, "n").await, "third");

    assert_not_found(store.get_metadata(&scope, "none").await, "metadata");
    assert_not_found(store.list_versions(&scope, "none").await, "list versions");
    assert_not_found(
        store.get_secret_version(&scope, "none", 1).await,
        "read version of missing secret",
    );
    assert_not_found(
        store.rollback_secret(&scope, "none", 1).await,
        "roll back missing secret",
    );
    assert!(!store.exists(&scope, "none").await.unwrap());
}

/// Past the retention limit old versions go, but what is listed is consecutive, ends at
/// the current version, and can be read; what is not listed is `NotFound`.
pub async fn history_retention_is_consistent<S: ConformanceStore>(store: S) {
    let scope = unique_scope("retention");
    let writes = 12_u32;
    put_versions(&store, &scope, "n", "value ", writes).await;
    let listed = version_numbers(&store, &scope, "n").await;
    assert_eq!(listed.last(), Some(&writes), "{listed:?}");
    assert!(
        listed.windows(2).all(|w| w[1] == w[0] + 1),
        "retained versions must be consecutive: {listed:?}"
    );
    for version in 1..=writes {
        let read = store.get_secret_version(&scope, "n", version).await;
        if listed.contains(&version) {
            assert_eq!(read.unwrap().expose(), format!("value {version}"));
        } else {
            assert_not_found(read, &format!("pruned version {version}"));
        }
    }
    assert_eq!(version(&store, &scope, "n").await, writes);
}

/// `write_secret` creates or updates like `set_secret` and returns the version it wrote;
/// `version_history` agrees with `get_metadata` and `list_versions` while the current
/// version is live, and both are `NotFound` for a secret that does not exist.
pub async fn write_secret_and_version_history_agree<S: ConformanceStore>(store: S) {
    let scope = unique_scope("write-version");
    for (expected, text) in [(1, "first"), (2, "second"), (3, "third")] {
        let written = store
            .write_secret(&scope, "n", &Secret::new(text))
            .await
            .unwrap();
        assert_eq!(written, expected, "write of {text}");
        assert_eq!(value(&store, &scope, "n").await, text);
    }
    let history = store.version_history(&scope, "n").await.unwrap();
    assert_eq!(history.current.version, 3);
    assert_eq!(history.current_state, VersionState::Live);
    assert_eq!(
        history.versions,
        store.list_versions(&scope, "n").await.unwrap()
    );
    assert_eq!(
        Some(&history.current),
        history.versions.last(),
        "the live current version is the newest listed"
    );
    let meta = store.get_metadata(&scope, "n").await.unwrap();
    assert_eq!(history.current.created_at, meta.updated_at);

    assert_not_found(store.version_history(&scope, "none").await, "history");
    store.delete_secret(&scope, "n").await.unwrap();
    assert_not_found(
        store.version_history(&scope, "n").await,
        "history after delete",
    );
}
