//! Check-and-set: of two rotations from one version exactly one wins.

use std::sync::Arc;

use zlayer_secrets_core::{
    Secret, SecretsError, SecretsProvider, SecretsStore, VersionedSecretsStore,
};

use crate::common::{provider, unique_scope};

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn two_rotations_from_one_version_one_wins() {
    let vault = provider();
    let scope = unique_scope("cas");
    vault.set_secret(&scope, "n", &"v1".into()).await.unwrap();
    vault.set_secret(&scope, "n", &"v2".into()).await.unwrap();
    let current = vault.get_metadata(&scope, "n").await.unwrap().version;
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
        SecretsError::Conflict { name, expected } => {
            assert_eq!(expected, 2);
            assert!(name.contains(&scope) && name.ends_with("/n"), "{name}");
        }
        other => panic!("the losing rotation must be a Conflict, got: {other}"),
    }
    assert_eq!(
        vault.get_secret(&scope, "n").await.unwrap().expose(),
        won_with
    );
    assert_eq!(vault.get_metadata(&scope, "n").await.unwrap().version, 3);

    // A stale rotation (from version 2 when 3 is current) also conflicts and changes nothing.
    let stale = vault
        .rotate_secret_from(&scope, "n", 2, &"stale".into())
        .await;
    assert!(
        matches!(stale, Err(SecretsError::Conflict { expected: 2, .. })),
        "{stale:?}"
    );
    assert_eq!(
        vault.get_secret(&scope, "n").await.unwrap().expose(),
        won_with
    );

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
    vault.set_secret(&scope, "n", &"v1".into()).await.unwrap();

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
    let (status, body) = crate::common::root_call(
        reqwest::Method::POST,
        &format!("sys/mounts/{mount}"),
        Some(serde_json::json!({"type": "kv", "options": {"version": "2"}})),
    )
    .await;
    assert!(status < 300, "mounting: {status} {body}");
    let (status, body) = crate::common::root_call(
        reqwest::Method::POST,
        &format!("{mount}/config"),
        Some(serde_json::json!({"cas_required": true})),
    )
    .await;
    assert!(status < 300, "requiring cas: {status} {body}");

    let (address, token) = crate::common::server();
    let vault = zlayer_secrets_vault::VaultSecretsProvider::new(&address, &token, &mount).unwrap();
    vault.set_secret("s", "n", &"one".into()).await.unwrap();
    vault.set_secret("s", "n", &"two".into()).await.unwrap();
    let r = vault
        .rotate_secret("s", "n", &"three".into())
        .await
        .unwrap();
    assert_eq!((r.previous_version, r.new_version), (Some(2), 3));
    assert_eq!(vault.get_secret("s", "n").await.unwrap().expose(), "three");

    let (status, _) = crate::common::root_call(
        reqwest::Method::DELETE,
        &format!("sys/mounts/{mount}"),
        None,
    )
    .await;
    assert!(status < 300);
}
