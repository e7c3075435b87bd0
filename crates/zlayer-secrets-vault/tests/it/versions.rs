//! Versions deleted or destroyed with Vault's own tools, retention limits, and data written
//! by other tools.

use zlayer_secrets_core::testkit::steps::{put, value, version, version_value};
use zlayer_secrets_core::{SecretsError, SecretsProvider, SecretsStore, VersionedSecretsStore};

use crate::common::{provider_in_scope, root_call, root_ok};

fn versions(list: &[zlayer_secrets_core::SecretVersion]) -> Vec<u32> {
    list.iter().map(|v| v.version).collect()
}

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn deleted_and_destroyed_versions() {
    let (vault, scope) = provider_in_scope("gone-versions");
    for value in ["one", "two", "three", "four"] {
        vault.set_secret(&scope, "n", &value.into()).await.unwrap();
    }
    let post = |area: &str, versions: serde_json::Value| {
        let path = format!("secret/{area}/{scope}/n");
        async move {
            root_ok(
                reqwest::Method::POST,
                &path,
                Some(serde_json::json!({ "versions": versions })),
            )
            .await;
        }
    };
    post("destroy", serde_json::json!([1])).await;
    post("delete", serde_json::json!([2])).await;

    assert_eq!(
        versions(&vault.list_versions(&scope, "n").await.unwrap()),
        [3, 4]
    );
    let err = vault.get_secret_version(&scope, "n", 1).await.unwrap_err();
    assert!(
        matches!(&err, SecretsError::NotFound { name } if name.contains("destroyed")),
        "{err}"
    );
    let err = vault.get_secret_version(&scope, "n", 2).await.unwrap_err();
    assert!(
        matches!(&err, SecretsError::NotFound { name } if name.contains("deleted")),
        "{err}"
    );
    let err = vault.rollback_secret(&scope, "n", 1).await.unwrap_err();
    assert!(
        matches!(&err, SecretsError::NotFound { name } if name.contains("destroyed")),
        "{err}"
    );
    assert_eq!(version(&vault, &scope, "n").await, 4);

    // The current version deleted: the secret is absent, its history is still there.
    crate::common::delete_current_version(&scope, "n").await;
    assert!(!vault.exists(&scope, "n").await.unwrap());
    assert!(matches!(
        vault.get_secret(&scope, "n").await,
        Err(SecretsError::NotFound { .. })
    ));
    assert!(matches!(
        vault.get_metadata(&scope, "n").await,
        Err(SecretsError::NotFound { .. })
    ));
    assert!(matches!(
        vault.rotate_secret(&scope, "n", &"x".into()).await,
        Err(SecretsError::NotFound { .. })
    ));
    assert!(vault.list_secrets(&scope).await.unwrap().is_empty());
    assert_eq!(
        versions(&vault.list_versions(&scope, "n").await.unwrap()),
        [3]
    );

    // ... and a rollback brings it back as version 5.
    let r = vault.rollback_secret(&scope, "n", 3).await.unwrap();
    assert_eq!((r.previous_version, r.new_version), (Some(4), 5));
    assert_eq!(value(&vault, &scope, "n").await, "three");
    assert!(vault.exists(&scope, "n").await.unwrap());

    // Deleting removes every trace.
    vault.delete_secret(&scope, "n").await.unwrap();
    let (status, _) = root_call(
        reqwest::Method::GET,
        &format!("secret/metadata/{scope}/n"),
        None,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn max_versions_prunes_history() {
    let (vault, scope) = provider_in_scope("max-versions");
    put(&vault, &scope, "n", "v1").await;
    root_ok(
        reqwest::Method::POST,
        &format!("secret/metadata/{scope}/n"),
        Some(serde_json::json!({"max_versions": 2})),
    )
    .await;
    for value in ["v2", "v3", "v4"] {
        vault.set_secret(&scope, "n", &value.into()).await.unwrap();
    }
    assert_eq!(
        versions(&vault.list_versions(&scope, "n").await.unwrap()),
        [3, 4]
    );
    assert!(matches!(
        vault.get_secret_version(&scope, "n", 1).await,
        Err(SecretsError::NotFound { .. })
    ));
    assert_eq!(version_value(&vault, &scope, "n", 3).await, "v3");
}

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn data_written_by_other_tools_reads_as_its_fields_or_is_explained_not_shown() {
    let (vault, scope) = provider_in_scope("foreign");
    let write = |name: &str, data: serde_json::Value| {
        let path = format!("secret/data/{scope}/{name}");
        async move {
            root_ok(
                reqwest::Method::POST,
                &path,
                Some(serde_json::json!({ "data": data })),
            )
            .await;
        }
    };
    write(
        "db",
        serde_json::json!({"username": "app", "password": "p4ss-w0rd-xyz"}),
    )
    .await;
    write(
        "odd",
        serde_json::json!({"value": ["p4ss-w0rd-xyz"], "username": "app"}),
    )
    .await;

    let db = vault.get_secret(&scope, "db").await.unwrap();
    let fields: serde_json::Value = serde_json::from_str(db.expose()).unwrap();
    assert_eq!(
        fields,
        serde_json::json!({"username": "app", "password": "p4ss-w0rd-xyz"})
    );

    let err = vault.get_secret(&scope, "odd").await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, SecretsError::NotText { .. }), "{text}");
    assert!(text.contains("an array"), "{text}");
    assert!(!text.contains("p4ss-w0rd-xyz"), "{text}");
    // Both are still listed and have metadata: they exist.
    assert!(vault.exists(&scope, "odd").await.unwrap());
    assert_eq!(vault.list_secrets(&scope).await.unwrap().len(), 2);
}
