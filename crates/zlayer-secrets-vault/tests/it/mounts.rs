//! A wrong `VAULT_MOUNT`: nothing mounted there, or a KV version 1 engine.

use zlayer_secrets_core::{SecretsError, SecretsProvider, SecretsStore};
use zlayer_secrets_vault::VaultSecretsProvider;

use crate::common::{mounted, root_call, server, unique_scope, unmount};

#[track_caller]
fn assert_provider_error<T: std::fmt::Debug>(
    result: zlayer_secrets_core::Result<T>,
    expect: &[&str],
) {
    match result {
        Err(e @ SecretsError::Provider(_)) => {
            let text = e.to_string();
            for word in expect {
                assert!(text.contains(word), "{word:?} missing from: {text}");
            }
        }
        other => panic!("expected a Provider error, got {other:?}"),
    }
}

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn missing_mount_is_named_not_reported_as_a_missing_secret() {
    let (address, token) = server();
    let mount = unique_scope("no-such-mount");
    let vault = VaultSecretsProvider::new(&address, &token, &mount).unwrap();
    let expect = [mount.as_str(), "VAULT_MOUNT", address.as_str()];
    assert_provider_error(vault.get_secret("s", "n").await, &expect);
    assert_provider_error(vault.set_secret("s", "n", &"v".into()).await, &expect);
    assert_provider_error(vault.list_secrets("s").await, &expect);
    assert_provider_error(vault.exists("s", "n").await, &expect);
}

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn kv_version_1_mount_is_refused_with_a_clear_error() {
    let mount = unique_scope("kv1");
    let vault = mounted(
        &mount,
        serde_json::json!({"type": "kv", "options": {"version": "1"}}),
    )
    .await;
    let set = vault.set_secret("s", "n", &"v".into()).await;
    // Refused before anything was written: no stray copy of the value in the v1 engine.
    let (status, body) =
        root_call(reqwest::Method::GET, &format!("{mount}/?list=true"), None).await;
    assert_eq!(status, 404, "the KV v1 mount holds {body}");
    let expect = ["KV version 1", mount.as_str(), "VAULT_MOUNT"];
    assert_provider_error(set, &expect);
    assert_provider_error(vault.get_secret("s", "n").await, &expect);
    assert_provider_error(vault.list_secrets("s").await, &expect);
    assert_provider_error(vault.delete_secret("s", "n").await, &expect);
    unmount(&mount).await;
}

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn other_engines_and_paths_inside_a_mount_are_refused() {
    let mount = unique_scope("transit");
    let vault = mounted(&mount, serde_json::json!({"type": "transit"})).await;
    assert_provider_error(
        vault.set_secret("s", "n", &"v".into()).await,
        &[
            "`transit`",
            "not KV version 2",
            mount.as_str(),
            "VAULT_MOUNT",
        ],
    );
    unmount(&mount).await;

    // `secret/team` is a folder of the `secret` mount, not a mount: every URL would be wrong.
    let (address, token) = server();
    let vault = VaultSecretsProvider::new(&address, &token, "secret/team").unwrap();
    assert_provider_error(
        vault.set_secret("s", "n", &"v".into()).await,
        &["secret/team", "`secret`", "VAULT_MOUNT"],
    );
}
