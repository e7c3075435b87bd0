//! Names and scopes that break the rules of [`validate_name`](crate::validate_name) and
//! [`validate_scope`](crate::validate_scope), and values over
//! [`MAX_VALUE_LEN`](crate::MAX_VALUE_LEN).

use super::steps::{put, set_op, value, version};
use super::{ConformanceStore, assert_invalid_name, unique_scope};
use crate::{MAX_NAME_LEN, MAX_SCOPE_LEN, MAX_VALUE_LEN, Secret, SecretsError};

fn bad_names() -> Vec<String> {
    [
        "",
        ".",
        "..",
        "a/b",
        "/",
        "nul\0",
        "line\nbreak",
        "tab\t",
        " lead",
        "trail ",
        "\u{7f}",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain(["n".repeat(MAX_NAME_LEN + 1)])
    .collect()
}

fn bad_scopes(prefix: &str) -> Vec<String> {
    vec![
        String::new(),
        "/".to_owned(),
        format!("/{prefix}"),
        format!("{prefix}/"),
        format!("{prefix}//x"),
        format!("{prefix}/../x"),
        format!("{prefix}/./x"),
        format!("{prefix}/.."),
        format!("{prefix}\0"),
        format!("{prefix}/line\nbreak"),
        format!("{prefix}/ x"),
        format!("{prefix}/{}", "s".repeat(MAX_SCOPE_LEN)),
    ]
}

/// Every write with a bad name or scope is `InvalidName` and stores nothing.
pub async fn invalid_names_are_rejected_and_nothing_stored<S: ConformanceStore>(store: S) {
    let scope = unique_scope("invalid");
    let value = Secret::new("must not be stored");
    for name in bad_names() {
        let what = format!("name {name:?}");
        assert_invalid_name(store.set_secret(&scope, &name, &value).await, &what);
        assert_invalid_name(store.rotate_secret(&scope, &name, &value).await, &what);
        assert_invalid_name(store.delete_secret(&scope, &name).await, &what);
        assert_invalid_name(store.rollback_secret(&scope, &name, 1).await, &what);
    }
    for bad in bad_scopes(&scope) {
        let what = format!("scope {bad:?}");
        assert_invalid_name(store.set_secret(&bad, "n", &value).await, &what);
        assert_invalid_name(store.rotate_secret(&bad, "n", &value).await, &what);
        assert_invalid_name(store.delete_secret(&bad, "n").await, &what);
    }
    assert!(store.list_secrets(&scope).await.unwrap().is_empty());
    assert!(
        store
            .list_secrets(&format!("{scope}/x"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(!store.exists(&scope, "n").await.unwrap());
    assert!(!store.exists(&scope, "a").await.unwrap());
    assert!(!store.exists(&scope, "lead").await.unwrap());
}

/// Reads with a bad name or scope are `InvalidName` too, never a lookup elsewhere.
pub async fn invalid_reads_are_rejected<S: ConformanceStore>(store: S) {
    let scope = unique_scope("invalid-read");
    store.set_secret(&scope, "n", &"v".into()).await.unwrap();
    for name in bad_names() {
        let what = format!("name {name:?}");
        assert_invalid_name(store.get_secret(&scope, &name).await, &what);
        assert_invalid_name(store.exists(&scope, &name).await, &what);
        assert_invalid_name(store.get_metadata(&scope, &name).await, &what);
        assert_invalid_name(store.list_versions(&scope, &name).await, &what);
        assert_invalid_name(store.get_secret_version(&scope, &name, 1).await, &what);
        assert_invalid_name(store.get_secrets(&scope, &["n", &name]).await, &what);
    }
    for bad in bad_scopes(&scope) {
        let what = format!("scope {bad:?}");
        assert_invalid_name(store.get_secret(&bad, "n").await, &what);
        assert_invalid_name(store.exists(&bad, "n").await, &what);
        assert_invalid_name(store.list_secrets(&bad).await, &what);
        assert_invalid_name(store.get_secrets(&bad, &["n"]).await, &what);
    }
}

/// A value of more than [`MAX_VALUE_LEN`] bytes is `TooLarge` with its size and the limit
/// (and a message that names them, never the value) for every kind of write, and nothing is
/// written; a value of exactly the limit is stored.
pub async fn oversized_values_are_rejected_and_nothing_stored<S: ConformanceStore>(store: S) {
    let scope = unique_scope("oversized");
    let big = Secret::new("o".repeat(MAX_VALUE_LEN + 1));
    let check = |result: crate::Result<()>, what: &str| match result {
        Err(err @ SecretsError::TooLarge { size, limit, .. }) => {
            assert_eq!((size, limit), (MAX_VALUE_LEN + 1, MAX_VALUE_LEN), "{what}");
            let msg = err.to_string();
            assert!(
                msg.contains(&(MAX_VALUE_LEN + 1).to_string())
                    && msg.contains(&MAX_VALUE_LEN.to_string()),
                "{what}: the message names the size and the limit: {msg}"
            );
            assert!(!msg.contains("ooo"), "{what}: the message shows the value");
        }
        Err(other) => panic!("{what}: expected TooLarge, got error: {other}"),
        Ok(()) => panic!("{what}: expected TooLarge, but it succeeded"),
    };
    check(
        store.set_secret(&scope, "new", &big).await,
        "set of a new name",
    );
    check(
        store.create_secret(&scope, "new", &big).await.map(drop),
        "create",
    );
    check(
        store.write_secret(&scope, "new", &big).await.map(drop),
        "write_secret",
    );
    let batch = [set_op(&scope, "new", big.expose())];
    check(store.apply_batch(&batch).await, "batch");
    assert!(!store.exists(&scope, "new").await.unwrap());

    put(&store, &scope, "old", "kept").await;
    check(
        store.set_secret(&scope, "old", &big).await,
        "set over a secret",
    );
    check(
        store.rotate_secret(&scope, "old", &big).await.map(drop),
        "rotate",
    );
    assert_eq!(value(&store, &scope, "old").await, "kept");
    assert_eq!(version(&store, &scope, "old").await, 1);

    let exact = "e".repeat(MAX_VALUE_LEN);
    put(&store, &scope, "exact", exact.as_str()).await;
    assert!(value(&store, &scope, "exact").await == exact);
}
