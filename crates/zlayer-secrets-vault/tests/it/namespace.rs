//! `VAULT_NAMESPACE` / `with_namespace`: requests go to the namespace's own mounts.

use zlayer_secrets_core::testkit::steps::{put, value};
use zlayer_secrets_core::{SecretsError, SecretsProvider, SecretsStore};
use zlayer_secrets_vault::VaultConfig;

use crate::common::{provider, root_call_in, root_ok, server, unique_scope};

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn namespace_header_selects_the_namespace() {
    let ns = unique_scope("ns");
    root_ok(reqwest::Method::POST, &format!("sys/namespaces/{ns}"), None).await;
    let (status, body) = root_call_in(
        Some(&ns),
        reqwest::Method::POST,
        "sys/mounts/secret",
        Some(serde_json::json!({"type": "kv", "options": {"version": "2"}})),
    )
    .await;
    assert!(
        status < 300,
        "mounting kv in the namespace: {status} {body}"
    );

    let (address, token) = server();
    let in_ns = VaultConfig::new(address, token)
        .with_namespace(ns.clone())
        .build()
        .unwrap();
    let scope = unique_scope("ns-scope");
    put(&in_ns, &scope, "n", "inside").await;
    assert_eq!(value(&in_ns, &scope, "n").await, "inside");

    // The root namespace's `secret` mount does not see it.
    let root = provider();
    assert!(!root.exists(&scope, "n").await.unwrap());
    assert!(root.list_secrets(&scope).await.unwrap().is_empty());
}

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn a_namespace_that_does_not_exist_is_an_error_not_an_empty_store() {
    let (address, token) = server();
    let ns = unique_scope("no-such-ns");
    let vault = VaultConfig::new(address, token)
        .with_namespace(ns.clone())
        .build()
        .unwrap();
    let check = |what: &str, result: Result<(), SecretsError>| match result {
        Err(e @ SecretsError::Provider(_)) => {
            let text = e.to_string();
            assert!(text.contains("VAULT_NAMESPACE"), "{what}: {text}");
            assert!(text.contains(&ns), "{what}: {text}");
        }
        other => panic!("{what}: expected a Provider error, got {other:?}"),
    };
    check("list", vault.list_secrets("s").await.map(drop));
    check("get", vault.get_secret("s", "n").await.map(drop));
    check("get many", vault.get_secrets("s", &["n"]).await.map(drop));
    check("exists", vault.exists("s", "n").await.map(drop));
    check("set", vault.set_secret("s", "n", &"v".into()).await);
}
