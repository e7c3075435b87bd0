//! Check-and-set: of two rotations from one version exactly one wins.

use std::sync::Arc;

use zlayer_secrets_core::testkit::steps::{put, value, version};
use zlayer_secrets_core::{
    Secret, SecretsError, SecretsProvider, SecretsStore, VersionedSecretsStore,
};

use crate::common::{mounted, provider, provider_in_scope, root_ok, unique_scope, unmount};

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn two_rotations_from_one_version_one_wins() {
    let (vault, scope) = provider_in_scope("cas");
    put(&vault, &scope, "n", "v1").await;
    put(&vault, &scope, "n", "v2").await;
    let current = version(&vault, &scope, "n").await;
    assert_eq!(current, 2);

    // Both rotations start from version 2, whatever order the server sees them in.
    let a = Secret::new("from a");
    let b = Secret::new("from b");
    let (ra, rb) = tokio::join!(
        vault.rotate_secret_from(&scope, "n", current, &a),
        vault.rotate_secret_from(&scope, "n", current, &b),
    );
    let (winner, loser, won_with) = match (ra, rb) {
        (Ok(w), Err(l)) => (w, l, "from a"),
        (Err(l), Ok(w)) => (w, l, "from b"),
        (ra, rb) => panic!("exactly one rotation must win: {ra:?} / {rb:?}"),
    };
    assert_eq!(winner.previous_version, Some(2));
    assert_eq!(winner.new_version, 3);
    match loser {
        SecretsError::Conflict {
            scope: shown,
            name,
            expected,
        } => {
            assert_eq!(
                (shown.as_str(), name.as_str(), expected),
                (scope.as_str(), "n", 2)
            );
        }
        other => panic!("the losing rotation must be a Conflict, got: {other}"),
    }
    assert_eq!(value(&vault, &scope, "n").await, won_with);
    assert_eq!(version(&vault, &scope, "n").await, 3);

    // A stale rotation (from version 2 when 3 is current) also conflicts and changes nothing.
    let stale = vault
        .rotate_secret_from(&scope, "n", 2, &"stale".into())
        .await;
    assert!(
        matches!(stale, Err(SecretsError::Conflict { expected: 2, .. })),
        "{stale:?}"
    );
    assert_eq!(value(&vault, &scope, "n").await, won_with);

    // From a version of a secret that does not exist: NotFound, nothing created.
    let missing = vault
        .rotate_secret_from(&scope, "absent", 1, &"x".into())
        .await;
    assert!(
        matches!(missing, Err(SecretsError::NotFound { .. })),
        "{missing:?}"
    );
    assert!(!vault.exists(&scope, "absent").await.unwrap());
}

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn concurrent_rotate_secret_never_both_win_one_version() {
    let vault = Arc::new(provider());
    let scope = unique_scope("cas-many");
    put(&vault, &scope, "n", "v1").await;

    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let vault = Arc::clone(&vault);
            let scope = scope.clone();
            tokio::spawn(async move {
                vault
                    .rotate_secret(&scope, "n", &Secret::new(format!("task {i}")))
                    .await
            })
        })
        .collect();
    let mut previous = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(r) => {
                assert_eq!(Some(r.new_version - 1), r.previous_version);
                previous.push(r.previous_version.unwrap());
            }
            Err(SecretsError::Conflict { .. }) => {}
            Err(e) => panic!("only Conflict may fail a rotation: {e}"),
        }
    }
    let wins = previous.len();
    previous.sort_unstable();
    previous.dedup();
    assert_eq!(
        previous.len(),
        wins,
        "two rotations started from one version"
    );
    let meta = vault.get_metadata(&scope, "n").await.unwrap();
    assert_eq!(meta.version as usize, 1 + wins);
}

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn mount_that_requires_cas_still_takes_plain_sets() {
    let mount = unique_scope("cas-mount");
    let vault = mounted(
        &mount,
        serde_json::json!({"type": "kv", "options": {"version": "2"}}),
    )
    .await;
    root_ok(
        reqwest::Method::POST,
        &format!("{mount}/config"),
        Some(serde_json::json!({"cas_required": true})),
    )
    .await;

    put(&vault, "s", "n", "one").await;
    put(&vault, "s", "n", "two").await;
    let r = vault
        .rotate_secret("s", "n", &"three".into())
        .await
        .unwrap();
    assert_eq!((r.previous_version, r.new_version), (Some(2), 3));
    assert_eq!(value(&vault, "s", "n").await, "three");

    unmount(&mount).await;
}

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn create_over_a_current_version_deleted_with_vault_tools_goes_on_counting() {
    let vault = Arc::new(provider());
    let scope = unique_scope("create-deleted");
    for value in ["one", "two", "three"] {
        vault.set_secret(&scope, "n", &value.into()).await.unwrap();
    }
    // `bao kv delete`: the current version is soft-deleted, metadata and history remain.
    crate::common::delete_current_version(&scope, "n").await;
    assert!(!vault.exists(&scope, "n").await.unwrap());

    // Absent, as for `exists`: eight creates at once, one wins, at the next version.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (vault, scope) = (Arc::clone(&vault), scope.clone());
            tokio::spawn(async move {
                let value = format!("task {i}");
                let result = vault
                    .create_secret(&scope, "n", &value.clone().into())
                    .await;
                (value, result)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (value, Ok(version)) => winners.push((value, version)),
            (_, Err(SecretsError::AlreadyExists { name })) => {
                assert!(name.ends_with("/n"), "{name}");
            }
            (_, Err(e)) => panic!("only AlreadyExists may fail a create: {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let (won, won_version) = &winners[0];
    assert_eq!(*won_version, 4);
    assert_eq!(value(&vault, &scope, "n").await, *won);
    assert_eq!(
        vault.list_versions(&scope, "n").await.unwrap().len(),
        3,
        "versions 1, 2 and 4 can be read; 3 stays deleted"
    );

    // Destroyed (`kv destroy`) counts as absent too.
    root_ok(
        reqwest::Method::POST,
        &format!("secret/destroy/{scope}/n"),
        Some(serde_json::json!({ "versions": [4] })),
    )
    .await;
    assert_eq!(
        vault
            .create_secret(&scope, "n", &"after destroy".into())
            .await
            .unwrap(),
        5
    );
}

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn create_with_a_token_that_cannot_read_metadata() {
    let (root, scope) = provider_in_scope("create-blind");
    put(&root, &scope, "taken", "kept").await;
    let hcl = format!(
        r#"path "secret/data/{scope}/*" {{ capabilities = ["create", "read", "update"] }}"#
    );
    let token = crate::common::limited_token(&format!("{scope}-create"), &hcl).await;
    let vault = crate::common::provider_with_token(&token);
    assert_eq!(
        vault
            .create_secret(&scope, "new", &"v".into())
            .await
            .unwrap(),
        1
    );
    let err = vault
        .create_secret(&scope, "taken", &"overwrite?".into())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SecretsError::AlreadyExists { name } if name.ends_with("/taken")),
        "{err}"
    );
    assert_eq!(value(&root, &scope, "taken").await, "kept");
}
