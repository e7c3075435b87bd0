//! A token without permission on a path gets `AccessDenied` there and works elsewhere.

use zlayer_secrets_core::testkit::steps::{names, put, value, version};
use zlayer_secrets_core::{
    BatchSecretsStore, Secret, SecretsError, SecretsProvider, SecretsStore, VersionedSecretsStore,
    WriteOp,
};
use zlayer_secrets_vault::VaultSecretsProvider;

use crate::common::{limited_token, provider_in_scope, root_ok, server, unique_scope};

#[track_caller]
fn assert_denied<T: std::fmt::Debug>(
    result: zlayer_secrets_core::Result<T>,
    token: &str,
    what: &str,
) {
    match result {
        Err(e @ SecretsError::AccessDenied { .. }) => {
            let text = e.to_string();
            assert!(
                !text.contains(token),
                "{what}: the token is in the error: {text}"
            );
            assert!(
                text.contains("secret/"),
                "{what}: the Vault path is not named: {text}"
            );
        }
        other => panic!("{what}: expected AccessDenied, got {other:?}"),
    }
}

/// A token that may use `{scope}/allowed/*` only.
async fn scoped_vault(scope: &str) -> (VaultSecretsProvider, String) {
    let hcl = format!(
        r#"
path "secret/data/{scope}/allowed/*" {{ capabilities = ["create", "read", "update"] }}
path "secret/metadata/{scope}/allowed/*" {{ capabilities = ["read", "list", "delete"] }}
path "secret/metadata/{scope}/allowed/" {{ capabilities = ["list"] }}
"#
    );
    let token = limited_token(&format!("{scope}-policy"), &hcl).await;
    let vault = crate::common::provider_with_token(&token);
    (vault, token)
}

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn limited_token_is_denied_on_other_paths_and_works_on_its_own() {
    let (root, scope) = provider_in_scope("access");
    let allowed = format!("{scope}/allowed");
    let denied = format!("{scope}/denied");
    put(&root, &denied, "n", "root wrote this").await;
    let (vault, token) = scoped_vault(&scope).await;

    // Its own path works: write, read, list, rotate, history, delete.
    put(&vault, &allowed, "n", "mine").await;
    assert_eq!(value(&vault, &allowed, "n").await, "mine");
    assert!(vault.exists(&allowed, "n").await.unwrap());
    let listed = vault.list_secrets(&allowed).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "n");
    let r = vault
        .rotate_secret(&allowed, "n", &"mine 2".into())
        .await
        .unwrap();
    assert_eq!(r.new_version, 2);
    assert_eq!(vault.list_versions(&allowed, "n").await.unwrap().len(), 2);
    let got = vault.get_secrets(&allowed, &["n", "absent"]).await.unwrap();
    assert_eq!(got.len(), 1);

    // Everything on the other path is refused, and nothing there changes.
    assert_denied(vault.get_secret(&denied, "n").await, &token, "get");
    assert_denied(vault.get_secrets(&denied, &["n"]).await, &token, "get many");
    assert_denied(vault.exists(&denied, "n").await, &token, "exists");
    assert_denied(vault.list_secrets(&denied).await, &token, "list");
    assert_denied(
        vault
            .set_secret(&denied, "n", &Secret::new("overwritten"))
            .await,
        &token,
        "set",
    );
    assert_denied(
        vault
            .rotate_secret(&denied, "n", &Secret::new("overwritten"))
            .await,
        &token,
        "rotate",
    );
    assert_denied(vault.delete_secret(&denied, "n").await, &token, "delete");
    assert_denied(vault.get_metadata(&denied, "n").await, &token, "metadata");
    assert_denied(
        vault.get_secret_version(&denied, "n", 1).await,
        &token,
        "version",
    );
    assert_eq!(value(&root, &denied, "n").await, "root wrote this");
    assert_eq!(version(&root, &denied, "n").await, 1);

    // Its own path still works after the refusals.
    vault.delete_secret(&allowed, "n").await.unwrap();
    assert!(!vault.exists(&allowed, "n").await.unwrap());
}

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn read_only_token_can_check_existence_without_metadata_access() {
    let (root, scope) = provider_in_scope("read-only");
    put(&root, &scope, "n", "v").await;
    let hcl = format!(r#"path "secret/data/{scope}/*" {{ capabilities = ["read"] }}"#);
    let token = limited_token(&format!("{scope}-policy"), &hcl).await;
    let vault = crate::common::provider_with_token(&token);

    assert_eq!(value(&vault, &scope, "n").await, "v");
    assert!(vault.exists(&scope, "n").await.unwrap());
    assert!(!vault.exists(&scope, "absent").await.unwrap());
    assert_denied(vault.list_secrets(&scope).await, &token, "list");
    assert_denied(
        vault.set_secret(&scope, "n", &"w".into()).await,
        &token,
        "set",
    );
}

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn invalid_token_is_access_denied_without_echoing_it() {
    let (address, _) = server();
    let token = "s.this-token-does-not-exist-0123456789";
    let vault = VaultSecretsProvider::new(&address, token, "secret").unwrap();
    let scope = unique_scope("bad-token");
    assert_denied(vault.get_secret(&scope, "n").await, token, "get");
    assert_denied(
        vault.set_secret(&scope, "n", &"v".into()).await,
        token,
        "set",
    );
    let shown = format!("{vault:?}");
    assert!(!shown.contains(token), "{shown}");
}

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn failed_batch_takes_back_what_it_applied() {
    let (root, scope) = provider_in_scope("batch-undo");
    let allowed = format!("{scope}/allowed");
    let denied = format!("{scope}/denied");
    put(&root, &allowed, "changed", "before").await;
    put(&root, &allowed, "deleted", "kept").await;
    let (vault, _token) = scoped_vault(&scope).await;
    assert!(!vault.is_atomic());

    let set = |scope: &str, name: &str, value: &str| WriteOp::Set {
        scope: scope.to_owned(),
        name: name.to_owned(),
        value: Secret::new(value),
    };
    let ops = [
        set(&allowed, "changed", "after"),
        set(&allowed, "created", "new"),
        WriteOp::Delete {
            scope: allowed.clone(),
            name: "deleted".to_owned(),
        },
        set(&denied, "x", "refused"),
    ];
    let err = vault.apply_batch(&ops).await.unwrap_err();
    assert!(matches!(err, SecretsError::AccessDenied { .. }), "{err}");

    assert_eq!(value(&root, &allowed, "changed").await, "before");
    assert!(!root.exists(&allowed, "created").await.unwrap());
    assert_eq!(value(&root, &allowed, "deleted").await, "kept");
    assert!(!root.exists(&denied, "x").await.unwrap());
    assert_eq!(names(&root, &allowed).await, ["changed", "deleted"]);
}

/// The text of an `AccessDenied` error; panics on anything else or on the token in it.
#[track_caller]
fn denied_text<T: std::fmt::Debug>(result: zlayer_secrets_core::Result<T>, token: &str) -> String {
    match result {
        Err(e @ SecretsError::AccessDenied { .. }) => {
            let text = e.to_string();
            assert!(!text.contains(token), "the token is in the error: {text}");
            text
        }
        other => panic!("expected AccessDenied, got {other:?}"),
    }
}

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn a_refusal_says_whether_the_token_is_invalid_or_lacks_a_policy() {
    let (root, scope) = provider_in_scope("why-denied");
    put(&root, &scope, "n", "v").await;
    let (address, root_token) = server();

    // A token that does not exist.
    let bogus = "s.no-such-token-abcdef0123456789";
    let vault = VaultSecretsProvider::new(&address, bogus, "secret").unwrap();
    let text = denied_text(vault.get_secret(&scope, "n").await, bogus);
    assert!(text.contains("the token is invalid or expired"), "{text}");
    assert!(!text.contains("policies"), "{text}");

    // A revoked token.
    let revoked = limited_token(
        &format!("{scope}-revoked"),
        r#"path "secret/*" { capabilities = ["read"] }"#,
    )
    .await;
    root_ok(
        reqwest::Method::POST,
        "auth/token/revoke",
        Some(serde_json::json!({ "token": revoked })),
    )
    .await;
    let vault = VaultSecretsProvider::new(&address, &revoked, "secret").unwrap();
    let text = denied_text(vault.get_secret(&scope, "n").await, &revoked);
    assert!(text.contains("the token is invalid or expired"), "{text}");

    // Valid tokens whose policies do not cover the path, with and without the default
    // policy (which is what allows a token to look itself up).
    let hcl = format!(r#"path "secret/data/{scope}/other" {{ capabilities = ["read"] }}"#);
    let bare = limited_token(&format!("{scope}-bare"), &hcl).await;
    let body = root_ok(
        reqwest::Method::POST,
        "auth/token/create",
        Some(serde_json::json!({ "policies": [format!("{scope}-bare")], "ttl": "15m" })),
    )
    .await;
    let with_default = body["auth"]["client_token"].as_str().unwrap().to_owned();
    for token in [&bare, &with_default] {
        let vault = VaultSecretsProvider::new(&address, token, "secret").unwrap();
        let text = denied_text(vault.get_secret(&scope, "n").await, token);
        assert!(
            text.contains(&format!(
                "the token is valid but its policies do not allow read on secret/data/{scope}/n"
            )),
            "{text}"
        );
        let text = denied_text(vault.set_secret(&scope, "n", &"w".into()).await, token);
        assert!(
            text.contains("the token is valid but its policies"),
            "{text}"
        );
        let text = denied_text(vault.list_secrets(&scope).await, token);
        assert!(
            text.contains(&format!("do not allow list on secret/metadata/{scope}/")),
            "{text}"
        );
        assert!(!text.contains(&root_token), "{text}");
    }
    assert_eq!(value(&root, &scope, "n").await, "v");
}
