//! Reading and writing single secrets.

use std::sync::Arc;
use std::time::Duration;

use super::steps::{names, put, value, version, version_numbers, version_value};
use super::{ConformanceStore, assert_not_found, unique_scope};
use crate::{SecretsProvider, SecretsStore};

/// Values come back byte for byte: empty, unicode, newlines, quotes, 1 MiB.
pub async fn set_get_round_trip<S: ConformanceStore>(store: S) {
    let scope = unique_scope("round-trip");
    let big: String = "0123456789abcdef".repeat(64 * 1024);
    assert_eq!(big.len(), 1024 * 1024);
    let values = [
        ("empty", String::new()),
        ("plain", "s3cr3t".to_owned()),
        ("unicode", "pässwörd 🔑 密码 \u{200b}".to_owned()),
        ("newlines", "line one\nline two\r\n\n".to_owned()),
        ("json", r#"{"user":"u","pass":"p\"q","n":1}"#.to_owned()),
        ("spaces", "  padded value \t".to_owned()),
        ("shell", "$S:not-a-ref `x` $(y) \\ '#' = %".to_owned()),
        ("one-mib", big),
    ];
    for (name, value) in &values {
        put(&store, &scope, name, value.as_str()).await;
    }
    for (name, value) in &values {
        let got = store
            .get_secret(&scope, name)
            .await
            .unwrap_or_else(|e| panic!("get {name}: {e}"));
        assert!(
            got.expose() == value,
            "value of {name} changed: {} bytes stored, {} bytes read",
            value.len(),
            got.len()
        );
    }
}

/// Names with spaces, unicode and URL-special characters are stored as given, and names
/// differing only in case are different secrets.
pub async fn special_names_round_trip<S: ConformanceStore>(store: S) {
    let scope = unique_scope("special-names");
    let special = [
        "with space",
        "ünïcode-名前",
        "x.y",
        "a:b",
        "%#?&=+",
        "percent%2Fslash",
        "Key",
        "key",
        "...",
    ];
    for name in special {
        put(&store, &scope, name, format!("value of {name}")).await;
    }
    for name in special {
        let got = value(&store, &scope, name).await;
        assert_eq!(got, format!("value of {name}"), "name {name:?}");
    }
    let listed = names(&store, &scope).await;
    let mut expected: Vec<String> = special.iter().map(|n| (*n).to_owned()).collect();
    expected.sort();
    assert_eq!(listed, expected);
}

/// A secret that was never written is `NotFound`, in a used and in an unused scope.
pub async fn get_missing_is_not_found<S: ConformanceStore>(store: S) {
    let scope = unique_scope("missing");
    assert_not_found(store.get_secret(&scope, "nothing").await, "unused scope");
    put(&store, &scope, "present", "v").await;
    assert_not_found(store.get_secret(&scope, "absent").await, "used scope");
    assert_not_found(
        store.get_secret(&format!("{scope}/sub"), "present").await,
        "child scope",
    );
}

/// `get_secrets` returns the names that exist and omits the rest.
pub async fn get_secrets_omits_missing<S: ConformanceStore>(store: S) {
    let scope = unique_scope("get-many");
    store.set_secret(&scope, "a", &"va".into()).await.unwrap();
    store.set_secret(&scope, "b", &"vb".into()).await.unwrap();
    store.set_secret(&scope, "c", &"vc".into()).await.unwrap();

    let got = store
        .get_secrets(&scope, &["a", "missing", "c", "a"])
        .await
        .unwrap();
    let mut keys: Vec<&str> = got.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["a", "c"]);
    assert_eq!(got["a"].expose(), "va");
    assert_eq!(got["c"].expose(), "vc");

    assert!(store.get_secrets(&scope, &[]).await.unwrap().is_empty());
    let other = unique_scope("get-many-empty");
    assert!(store.get_secrets(&other, &["a"]).await.unwrap().is_empty());
}

/// `list_secrets(s)` lists exactly scope `s` (never `s/x`, `s:x` or `sx`), sorted by name,
/// with each secret's current version.
pub async fn list_secrets_is_exact_scope_and_sorted<S: ConformanceStore>(store: S) {
    let scope = unique_scope("list");
    for name in ["delta", "alpha", "charlie", "bravo"] {
        store.set_secret(&scope, name, &"v".into()).await.unwrap();
    }
    put(&store, &scope, "charlie", "v2").await;
    for (other, name) in [
        (format!("{scope}/child"), "child-secret"),
        (format!("{scope}:colon"), "colon-secret"),
        (format!("{scope}x"), "suffix-secret"),
        (format!("{scope}/alpha"), "alpha"),
    ] {
        store.set_secret(&other, name, &"v".into()).await.unwrap();
    }

    let listed = store.list_secrets(&scope).await.unwrap();
    let names: Vec<&str> = listed.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["alpha", "bravo", "charlie", "delta"]);
    let versions: Vec<u32> = listed.iter().map(|m| m.version).collect();
    assert_eq!(versions, [1, 1, 2, 1]);
    for meta in &listed {
        assert!(meta.created_at > 0, "{meta:?}");
        assert!(meta.updated_at >= meta.created_at, "{meta:?}");
    }

    let child = store.list_secrets(&format!("{scope}/child")).await.unwrap();
    let names: Vec<&str> = child.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["child-secret"]);
}

/// Listing a scope with no secrets is an empty list, not an error.
pub async fn list_secrets_of_empty_scope_is_empty<S: ConformanceStore>(store: S) {
    let scope = unique_scope("list-empty");
    assert!(store.list_secrets(&scope).await.unwrap().is_empty());
    store.set_secret(&scope, "only", &"v".into()).await.unwrap();
    store.delete_secret(&scope, "only").await.unwrap();
    assert!(store.list_secrets(&scope).await.unwrap().is_empty());
}

/// `("a", "b:c")` and `("a:b", "c")` are different secrets.
pub async fn colon_in_scope_or_name_never_collides<S: ConformanceStore>(store: S) {
    let a = unique_scope("colon");
    let a_b = format!("{a}:b");
    store.set_secret(&a, "b:c", &"first".into()).await.unwrap();
    assert!(!store.exists(&a_b, "c").await.unwrap());
    store.set_secret(&a_b, "c", &"second".into()).await.unwrap();

    assert_eq!(value(&store, &a, "b:c").await, "first");
    assert_eq!(value(&store, &a_b, "c").await, "second");
    assert_eq!(store.list_secrets(&a).await.unwrap().len(), 1);
    assert_eq!(store.list_secrets(&a_b).await.unwrap().len(), 1);

    store.delete_secret(&a, "b:c").await.unwrap();
    assert_eq!(value(&store, &a_b, "c").await, "second");
}

/// `exists` follows writes and deletes.
pub async fn exists_reports_presence<S: ConformanceStore>(store: S) {
    let scope = unique_scope("exists");
    assert!(!store.exists(&scope, "n").await.unwrap());
    store.set_secret(&scope, "n", &"v".into()).await.unwrap();
    assert!(store.exists(&scope, "n").await.unwrap());
    assert!(!store.exists(&scope, "N").await.unwrap());
    assert!(!store.exists(&format!("{scope}/n"), "n").await.unwrap());
    store.delete_secret(&scope, "n").await.unwrap();
    assert!(!store.exists(&scope, "n").await.unwrap());
}

/// The first write is version 1 and every write adds exactly one, also when the value does
/// not change.
pub async fn versions_increase_by_one_per_write<S: ConformanceStore>(store: S) {
    let scope = unique_scope("versions");
    for expected in 1..=4_u32 {
        put(&store, &scope, "n", format!("value {expected}")).await;
        assert_eq!(version(&store, &scope, "n").await, expected);
    }
    put(&store, &scope, "n", "value 4").await;
    let meta = store.get_metadata(&scope, "n").await.unwrap();
    assert_eq!(meta.version, 5, "an unchanged value is still a write");
    assert_eq!(meta.name, "n");
    let listed = store.list_secrets(&scope).await.unwrap();
    assert_eq!(listed, [meta]);
}

/// `created_at` stays at the first write; `updated_at` follows the last one.
pub async fn timestamps_created_stays_updated_moves<S: ConformanceStore>(store: S) {
    let scope = unique_scope("timestamps");
    let before = crate::unix_now();
    store.set_secret(&scope, "n", &"one".into()).await.unwrap();
    let first = store.get_metadata(&scope, "n").await.unwrap();
    assert!(
        first.created_at >= before - 1 && first.created_at <= crate::unix_now() + 1,
        "created_at {} is not about now ({before})",
        first.created_at
    );
    assert_eq!(first.updated_at, first.created_at);

    // Timestamps are whole seconds: wait until the clock has moved past the first write.
    while crate::unix_now() <= first.updated_at {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    store.set_secret(&scope, "n", &"two".into()).await.unwrap();
    let second = store.get_metadata(&scope, "n").await.unwrap();
    assert_eq!(
        second.created_at, first.created_at,
        "created_at must not move"
    );
    assert!(
        second.updated_at > first.updated_at,
        "updated_at must move: {} then {}",
        first.updated_at,
        second.updated_at
    );
}

/// Deleting removes the secret and its history: a new write starts again at version 1.
pub async fn delete_removes_all_versions<S: ConformanceStore>(store: S) {
    let scope = unique_scope("delete");
    put(&store, &scope, "n", "old 1").await;
    put(&store, &scope, "n", "old 2").await;
    put(&store, &scope, "keep", "kept").await;

    store.delete_secret(&scope, "n").await.unwrap();
    assert_not_found(store.get_secret(&scope, "n").await, "get after delete");
    assert_not_found(
        store.get_metadata(&scope, "n").await,
        "metadata after delete",
    );
    assert_not_found(
        store.list_versions(&scope, "n").await,
        "history after delete",
    );
    assert_not_found(
        store.get_secret_version(&scope, "n", 1).await,
        "old version after delete",
    );
    assert_eq!(value(&store, &scope, "keep").await, "kept");

    put(&store, &scope, "n", "new").await;
    assert_eq!(version(&store, &scope, "n").await, 1);
    assert_eq!(version_numbers(&store, &scope, "n").await, [1]);
    assert_eq!(value(&store, &scope, "n").await, "new");
}

/// Deleting a secret that does not exist is `NotFound` (twice in a row, too).
pub async fn delete_missing_is_not_found<S: ConformanceStore>(store: S) {
    let scope = unique_scope("delete-missing");
    assert_not_found(store.delete_secret(&scope, "never").await, "never written");
    store.set_secret(&scope, "n", &"v".into()).await.unwrap();
    store.delete_secret(&scope, "n").await.unwrap();
    assert_not_found(store.delete_secret(&scope, "n").await, "deleted twice");
}

/// Rotation replaces the value of an existing secret and reports the versions; on a
/// missing secret it is `NotFound` and creates nothing.
pub async fn rotate_semantics<S: ConformanceStore>(store: S) {
    let scope = unique_scope("rotate");
    assert_not_found(
        store.rotate_secret(&scope, "n", &"x".into()).await,
        "rotate missing",
    );
    assert!(
        !store.exists(&scope, "n").await.unwrap(),
        "rotate created it"
    );

    store.set_secret(&scope, "n", &"one".into()).await.unwrap();
    let result = store
        .rotate_secret(&scope, "n", &"two".into())
        .await
        .unwrap();
    assert_eq!(result.previous_version, Some(1));
    assert_eq!(result.new_version, 2);
    assert_eq!(value(&store, &scope, "n").await, "two");

    let result = store
        .rotate_secret(&scope, "n", &"three".into())
        .await
        .unwrap();
    assert_eq!(result.previous_version, Some(2));
    assert_eq!(result.new_version, 3);
    assert_eq!(version(&store, &scope, "n").await, 3);
    assert_eq!(version_value(&store, &scope, "n", 2).await, "two");
}

/// The store works behind `Arc<dyn SecretsStore>` and `Arc<dyn SecretsProvider>`.
pub async fn usable_as_trait_objects<S: ConformanceStore>(store: S) {
    let scope = unique_scope("dyn");
    let store: Arc<dyn SecretsStore> = Arc::new(store);
    store.set_secret(&scope, "n", &"v".into()).await.unwrap();
    let provider: Arc<dyn SecretsProvider> = Arc::new(Arc::clone(&store));
    assert_eq!(value(&*provider, &scope, "n").await, "v");
    assert!(provider.exists(&scope, "n").await.unwrap());
    let result = store.rotate_secret(&scope, "n", &"w".into()).await.unwrap();
    assert_eq!(result.new_version, 2);
    assert_eq!(value(&*provider, &scope, "n").await, "w");
}
