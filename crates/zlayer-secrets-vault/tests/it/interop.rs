//! Secrets that other tools (`bao kv put`) wrote or change: their other fields survive our
//! writes, and data without a `value` string reads in a documented way.

use std::sync::Arc;

use serde_json::json;
use zlayer_secrets_core::testkit::steps::{put, value, version};
use zlayer_secrets_core::{
    BatchSecretsStore, SecretsError, SecretsProvider, SecretsResolver, SecretsStore,
    VersionedSecretsStore, WriteOp,
};

use crate::common::{bao, bao_kv_fields, provider, provider_in_scope, unique_scope};

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn writes_keep_the_fields_other_tools_wrote() {
    let (vault, scope) = provider_in_scope("keep-fields");
    let path = format!("{scope}/x");
    bao(
        &[
            "kv",
            "put",
            "-mount=secret",
            &path,
            "value=v",
            "other=o",
            "port=5432",
        ],
        None,
    );

    put(&vault, &scope, "x", "set").await;
    assert_eq!(
        bao_kv_fields("secret", &path),
        json!({"value": "set", "other": "o", "port": "5432"})
    );
    assert_eq!(value(&vault, &scope, "x").await, "set");

    let r = vault
        .rotate_secret(&scope, "x", &"rotated".into())
        .await
        .unwrap();
    assert_eq!((r.previous_version, r.new_version), (Some(2), 3));
    assert_eq!(
        bao_kv_fields("secret", &path),
        json!({"value": "rotated", "other": "o", "port": "5432"})
    );

    vault
        .apply_batch(&[WriteOp::Set {
            scope: scope.clone(),
            name: "x".to_owned(),
            value: "batched".into(),
        }])
        .await
        .unwrap();
    assert_eq!(
        bao_kv_fields("secret", &path),
        json!({"value": "batched", "other": "o", "port": "5432"})
    );

    // A rollback brings back the whole of the old version, as `bao kv rollback` does.
    bao(&["kv", "put", "-mount=secret", &path, "value=only"], None);
    let r = vault.rollback_secret(&scope, "x", 2).await.unwrap();
    assert_eq!((r.previous_version, r.new_version), (Some(5), 6));
    assert_eq!(
        bao_kv_fields("secret", &path),
        json!({"value": "set", "other": "o", "port": "5432"})
    );
}

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn concurrent_sets_retry_their_check_and_set_and_keep_the_fields() {
    let vault = Arc::new(provider());
    let scope = unique_scope("keep-fields-race");
    let path = format!("{scope}/x");
    bao(&["kv", "put", "-mount=secret", &path, "other=o"], None);
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let vault = Arc::clone(&vault);
            let scope = scope.clone();
            tokio::spawn(async move {
                vault
                    .set_secret(&scope, "x", &format!("writer {i}").into())
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let fields = bao_kv_fields("secret", &path);
    assert_eq!(fields["other"], "o", "{fields}");
    assert!(
        fields["value"].as_str().unwrap().starts_with("writer "),
        "{fields}"
    );
    assert_eq!(version(&vault, &scope, "x").await, 5);
}

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn a_secret_without_a_value_field_reads_as_the_json_object_of_its_fields() {
    let vault = Arc::new(provider());
    let scope = unique_scope("fields");
    bao(
        &[
            "kv",
            "put",
            "-mount=secret",
            &format!("{scope}/db"),
            "username=app",
            "password=p4ss-w0rd",
        ],
        None,
    );
    let value = vault.get_secret(&scope, "db").await.unwrap();
    let parsed: serde_json::Value = serde_json::from_str(value.expose()).unwrap();
    assert_eq!(parsed, json!({"username": "app", "password": "p4ss-w0rd"}));
    let got = vault.get_secrets(&scope, &["db"]).await.unwrap();
    assert_eq!(got["db"].expose(), value.expose());

    let resolver = SecretsResolver::new(Arc::clone(&vault), scope.clone());
    assert_eq!(
        resolver.resolve_value("$S:db/password").await.unwrap(),
        "p4ss-w0rd"
    );
    assert_eq!(
        resolver.resolve_value("$S:db/username").await.unwrap(),
        "app"
    );
}

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn a_value_field_that_is_not_a_string_is_named_by_its_type_and_can_be_deleted() {
    let (vault, scope) = provider_in_scope("not-text");
    bao(
        &["kv", "put", "-mount=secret", &format!("{scope}/null"), "-"],
        Some(r#"{"value": null}"#),
    );
    bao(
        &[
            "kv",
            "put",
            "-mount=secret",
            &format!("{scope}/number"),
            "-",
        ],
        Some(r#"{"value": 987654321, "other": "x"}"#),
    );
    for (name, kind) in [("null", "null"), ("number", "number")] {
        let err = vault.get_secret(&scope, name).await.unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(&err, SecretsError::NotText { name: shown, version: None, .. } if shown == name),
            "{name}: {text}"
        );
        assert!(text.contains(kind), "{name}: {text}");
        assert!(text.contains(&format!("{scope}/{name}")), "{name}: {text}");
        assert!(!text.contains("no `value` field"), "{name}: {text}");
        assert!(!text.contains("987654321"), "{name}: {text}");
    }
    let err = vault
        .get_secrets(&scope, &["null", "number"])
        .await
        .unwrap_err();
    assert!(matches!(err, SecretsError::NotText { .. }), "{err}");
    assert!(vault.exists(&scope, "null").await.unwrap());
    assert_eq!(vault.list_secrets(&scope).await.unwrap().len(), 2);

    // A batch that deletes them works (its undo record keeps the raw data).
    vault
        .apply_batch(&[
            WriteOp::Delete {
                scope: scope.clone(),
                name: "null".to_owned(),
            },
            WriteOp::Delete {
                scope: scope.clone(),
                name: "number".to_owned(),
            },
        ])
        .await
        .unwrap();
    assert!(vault.list_secrets(&scope).await.unwrap().is_empty());
}

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn tokens_that_cannot_read_patch_or_create_but_never_drop_fields() {
    let scope = unique_scope("unread");
    let path = format!("{scope}/x");
    bao(
        &["kv", "put", "-mount=secret", &path, "value=v", "other=o"],
        None,
    );

    // May patch but not read: a merge patch keeps the other field.
    let hcl = format!(r#"path "secret/data/{scope}/*" {{ capabilities = ["patch"] }}"#);
    let token = crate::common::limited_token(&format!("{scope}-patch"), &hcl).await;
    let vault = crate::common::provider_with_token(&token);
    assert_eq!(
        vault
            .write_secret(&scope, "x", &"patched".into())
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        bao_kv_fields("secret", &path),
        json!({"value": "patched", "other": "o"})
    );

    // May read and write but not patch: a read and a check-and-set write keep it too.
    let hcl = format!(
        r#"path "secret/data/{scope}/*" {{ capabilities = ["create", "read", "update"] }}"#
    );
    let token = crate::common::limited_token(&format!("{scope}-rw"), &hcl).await;
    let vault = crate::common::provider_with_token(&token);
    assert_eq!(
        vault
            .write_secret(&scope, "x", &"rewritten".into())
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        bao_kv_fields("secret", &path),
        json!({"value": "rewritten", "other": "o"})
    );

    // May only create and update: a new secret is fine, an existing one is refused
    // rather than written without the fields it cannot see.
    let hcl = format!(r#"path "secret/data/{scope}/*" {{ capabilities = ["create", "update"] }}"#);
    let token = crate::common::limited_token(&format!("{scope}-write"), &hcl).await;
    let vault = crate::common::provider_with_token(&token);
    assert_eq!(
        vault
            .write_secret(&scope, "new", &"first".into())
            .await
            .unwrap(),
        1
    );
    let err = vault
        .set_secret(&scope, "x", &"blind".into())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, SecretsError::AccessDenied { .. }), "{text}");
    assert!(text.contains("neither read nor patch"), "{text}");
    assert!(!text.contains(&token), "{text}");
    assert_eq!(
        bao_kv_fields("secret", &path),
        json!({"value": "rewritten", "other": "o"})
    );
}
