//! Scopes and names are separate: no collisions, exact-scope listing, validation.

use zlayer_secrets_core::testkit::steps::{names, put, value};
use zlayer_secrets_core::{Secret, SecretsError, SecretsProvider, SecretsStore};

use crate::new_store;

#[tokio::test]
async fn colon_in_scope_or_name_does_not_collide() {
    let (_dir, _, store) = new_store().await;
    put(&store, "a", "b:c", "one").await;
    put(&store, "a:b", "c", "two").await;
    assert_eq!(value(&store, "a", "b:c").await, "one");
    assert_eq!(value(&store, "a:b", "c").await, "two");
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
    let (_dir, _, store) = new_store().await;
    for (scope, name) in [
        ("a", "x"),
        ("a", "b:c"),
        ("a:b", "c"),
        ("a/svc", "y"),
        ("ab", "z"),
        ("A", "w"),
    ] {
        put(&store, scope, name, "v").await;
    }
    assert_eq!(names(&store, "a").await, ["b:c", "x"]);
    assert_eq!(names(&store, "a:b").await, ["c"]);
    assert!(store.list_secrets("nothing").await.unwrap().is_empty());
}

#[tokio::test]
async fn get_secrets_reads_one_scope_and_omits_missing() {
    let (_dir, _, store) = new_store().await;
    put(&store, "s", "a", "1").await;
    put(&store, "s", "b", "2").await;
    put(&store, "s:x", "c", "3").await;
    put(&store, "s", "b", "2b").await;
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
    let (_dir, _, store) = new_store().await;
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
    let (_dir, _, store) = new_store().await;
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
    let (_dir, _, store) = new_store().await;
    let max = zlayer_secrets_sqlite::MAX_VALUE_LEN;
    let big = "x".repeat(max);
    put(&store, "s", "big", big.clone()).await;
    assert_eq!(value(&store, "s", "big").await, big);

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
        value(&store, "s", "big").await,
        big,
        "a refused write loses nothing"
    );
}

#[tokio::test]
async fn empty_and_unicode_values_round_trip() {
    let (_dir, _, store) = new_store().await;
    for (i, text) in ["", "\n", "ünïcødé ✓ 🔑", "a\u{0}b", "  spaced  "]
        .iter()
        .enumerate()
    {
        let name = format!("v{i}");
        put(&store, "s", &name, *text).await;
        assert_eq!(value(&store, "s", &name).await, *text);
    }
}

#[tokio::test]
async fn delete_removes_and_missing_is_not_found() {
    let (_dir, path, store) = new_store().await;
    put(&store, "s", "n", "v").await;
    put(&store, "s", "n", "w").await;
    store.delete_secret("s", "n").await.unwrap();
    assert!(!store.exists("s", "n").await.unwrap());
    let err = store.delete_secret("s", "n").await.unwrap_err();
    assert!(matches!(err, SecretsError::NotFound { .. }), "{err}");
    let versions: i64 = crate::raw(&path)
        .query_row("SELECT count(*) FROM secret_versions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(versions, 0, "history goes with the secret");
    put(&store, "s", "n", "again").await;
    let meta = zlayer_secrets_core::VersionedSecretsStore::get_metadata(&store, "s", "n")
        .await
        .unwrap();
    assert_eq!(
        meta.version, 1,
        "a re-created secret starts again at version 1"
    );
}
