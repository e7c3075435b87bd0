//! Names and scopes that break the rules of [`validate_name`](crate::validate_name) and
//! [`validate_scope`](crate::validate_scope).

use super::{ConformanceStore, assert_invalid_name, unique_scope};
use crate::{MAX_NAME_LEN, MAX_SCOPE_LEN, Secret};

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
