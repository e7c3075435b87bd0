//! Scopes and names are separate: no collisions, exact-scope listing, validation.

use zlayer_secrets_core::{Secret, SecretsError, SecretsProvider, SecretsStore};

use crate::{open_a, temp_db};

#[tokio::test]
async fn colon_in_scope_or_name_does_not_collide() {
    let (_dir, path) = temp_db();
    let store = open_a(&path).await;
    store
        .set_secret("a", "b:c", &Secret::new("one"))
        .await
        .unwrap();
    store
        .set_secret("a:b", "c", &Secret::new("two"))
        .await
        .unwrap();
    assert_eq!(store.get_secret("a", "b:c").await.unwrap().expose(), "one");
    assert_eq!(store.get_secret("a:b", "c").await.unwrap().expose(), "two");
    let meta = zlayer_secrets_core::VersionedSecretsStore::get_metadata(&store, "a", "b:c")
        .await
        .unwrap();
    assert_eq!(
        meta.version, 1,
        "the second write must not have updated the first"
    );
}

#[tokio::test]
async fn listing_is_exactly_one_scope() {
    let (_dir, path) = temp_db();
    let store = open_a(&path).await;
    for (scope, name) in [
        ("a", "x"),
        ("a", "b:c"),
        ("a:b", "c"),
        ("a/svc", "y"),
        ("ab", "z"),
        ("A", "w"),
    ] {
        store
            .set_secret(scope, name, &Secret::new("v"))
            .await
            .unwrap();
    }
    let names: Vec<String> = store
        .list_secrets("a")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["b:c", "x"]);
    let names: Vec<String> = store
        .list_secrets("a:b")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["c"]);
    assert!(store.list_secrets("nothing").await.unwrap().is_empty());
}

#[tokio::test]
async fn get_secrets_reads_one_scope_and_omits_missing() {
    let (_dir, path) = temp_db();
    let store = open_a(&path).await;
    store.set_secret("s", "a", &Secret::new("1")).await.unwrap();
    store.set_secret("s", "b", &Secret::new("2")).await.unwrap();
    store
        .set_secret("s:x", "c", &Secret::new("3"))
        .await
        .unwrap();
    store
        .set_secret("s", "b", &Secret::new("2b"))
        .await
        .unwrap();
    let got = store
        .get_secrets("s", &["a", "b", "c", "missing", "a"])
        .await
        .unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got["a"].expose(), "1");
    assert_eq!(got["b"].expose(), "2b", "the current version is returned");
    assert!(store.get_secrets("s", &[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn get_secrets_handles_many_names() {
    let (_dir, path) = temp_db();
    let store = open_a(&path).await;
    let ops: Vec<_> = (0..300)
        .map(|i| zlayer_secrets_core::WriteOp::Set {
            scope: "many".into(),
            name: format!("n{i}"),
            value: Secret::new(format!("v{i}")),
        })
        .collect();
    zlayer_secrets_core::BatchSecretsStore::apply_batch(&store, &ops)
        .await
        .unwrap();
    // More names than SQLite allows bound parameters by default in old versions.
    let names: Vec<String> = (0..40_000).map(|i| format!("n{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let got = store.get_secrets("many", &refs).await.unwrap();
    assert_eq!(got.len(), 300);
    assert_eq!(got["n299"].expose(), "v299");
}

#[tokio::test]
async fn bad_names_and_scopes_are_refused_clearly() {
    let (_dir, path) = temp_db();
    let store = open_a(&path).await;
    for (scope, name) in [
        ("", "n"),
        ("s", ""),
        ("s", "a/b"),
        ("s//t", "n"),
        ("s", "nul\0"),
    ] {
        let err = store
            .set_secret(scope, name, &Secret::new("v"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, SecretsError::InvalidName { .. }),
            "{scope:?} {name:?}: {err}"
        );
        assert!(store.get_secret(scope, name).await.is_err());
    }
    let err = store
        .get_secrets("s", &["ok", "bad/name"])
        .await
        .unwrap_err();
    assert!(matches!(err, SecretsError::InvalidName { .. }), "{err}");
}

#[tokio::test]
async fn values_up_to_the_limit_are_kept_and_larger_ones_refused() {
    let (_dir, path) = temp_db();
    let store = open_a(&path).await;
    let max = zlayer_secrets_sqlite::MAX_VALUE_LEN;
    let big = "x".repeat(max);
    store
        .set_secret("s", "big", &Secret::new(big.clone()))
        .await
        .unwrap();
    assert_eq!(store.get_secret("s", "big").await.unwrap().expose(), big);

    let err = store
        .set_secret("s", "big", &Secret::new("y".repeat(max + 1)))
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, SecretsError::TooLarge { .. }), "{msg}");
    assert!(msg.contains("s/big") && msg.contains("limit"), "{msg}");
    assert!(
        !msg.contains("yyyy"),
        "the value must not appear in the error"
    );
    assert_eq!(
        store.get_secret("s", "big").await.unwrap().expose(),
        big,
        "a refused write loses nothing"
    );
}

#[tokio::test]
async fn empty_and_unicode_values_round_trip() {
    let (_dir, path) = temp_db();
    let store = open_a(&path).await;
    for (i, value) in ["", "\n", "ünïcødé ✓ 🔑", "a\u{0}b", "  spaced  "]
        .iter()
        .enumerate()
    {
        let name = format!("v{i}");
        store
            .set_secret("s", &name, &Secret::new(*value))
            .await
            .unwrap();
        assert_eq!(store.get_secret("s", &name).await.unwrap().expose(), *value);
    }
}

#[tokio::test]
async fn delete_removes_and_missing_is_not_found() {
    let (_dir, path) = temp_db();
    let store = open_a(&path).await;
    store.set_secret("s", "n", &Secret::new("v")).await.unwrap();
    store.set_secret("s", "n", &Secret::new("w")).await.unwrap();
    store.delete_secret("s", "n").await.unwrap();
    assert!(!store.exists("s", "n").await.unwrap());
    let err = store.delete_secret("s", "n").await.unwrap_err();
    assert!(matches!(err, SecretsError::NotFound { .. }), "{err}");
    let versions: i64 = crate::raw(&path)
        .query_row("SELECT count(*) FROM secret_versions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(versions, 0, "history goes with the secret");
    store
        .set_secret("s", "n", &Secret::new("again"))
        .await
        .unwrap();
    let meta = zlayer_secrets_core::VersionedSecretsStore::get_metadata(&store, "s", "n")
        .await
        .unwrap();
    assert_eq!(
        meta.version, 1,
        "a re-created secret starts again at version 1"
    );
}
