//! The shared server, unique scopes, and root-token calls to the server's HTTP API.

pub(crate) use zlayer_secrets_testsupport::openbao::{bao, bao_kv_fields, server};
pub(crate) use zlayer_secrets_testsupport::unique_scope;
use zlayer_secrets_vault::VaultSecretsProvider;

/// A provider on the shared server's `secret` mount with the root token.
pub(crate) fn provider() -> VaultSecretsProvider {
    let (address, token) = server();
    VaultSecretsProvider::new(&address, &token, "secret").unwrap()
}

/// [`provider`] and a scope of its own, named after `label` (see [`unique_scope`]).
pub(crate) fn provider_in_scope(label: &str) -> (VaultSecretsProvider, String) {
    (provider(), unique_scope(label))
}

/// A provider on the shared server's `secret` mount with another token (one made by
/// [`limited_token`]).
pub(crate) fn provider_with_token(token: &str) -> VaultSecretsProvider {
    let (address, _) = server();
    VaultSecretsProvider::new(&address, token, "secret").unwrap()
}

/// Soft-deletes the current version of `scope/name` as `bao kv delete` does: metadata and
/// the other versions remain.
pub(crate) async fn delete_current_version(scope: &str, name: &str) {
    root_ok(
        reqwest::Method::DELETE,
        &format!("secret/data/{scope}/{name}"),
        None,
    )
    .await;
}

/// Calls the server's HTTP API with the root token: `path` is below `/v1/`. Returns the
/// status and the JSON body (`Null` when there is none).
pub(crate) async fn root_call(
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    root_call_in(None, method, path, body).await
}

/// [`root_call`] that must succeed (a status below 300); returns the body.
pub(crate) async fn root_ok(
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    let (status, json) = root_call(method.clone(), path, body).await;
    assert!(status < 300, "{method} {path}: {status} {json}");
    json
}

/// Mounts a new engine at `mount` (`config` as `sys/mounts` takes it, `{"type": ...}`), and
/// returns a provider on it with the root token.
pub(crate) async fn mounted(mount: &str, config: serde_json::Value) -> VaultSecretsProvider {
    let path = format!("sys/mounts/{mount}");
    root_ok(reqwest::Method::POST, &path, Some(config)).await;
    let (address, token) = server();
    VaultSecretsProvider::new(&address, &token, mount).unwrap()
}

/// Removes the engine mounted at `mount`.
pub(crate) async fn unmount(mount: &str) {
    let path = format!("sys/mounts/{mount}");
    root_ok(reqwest::Method::DELETE, &path, None).await;
}

/// [`root_call`] in a namespace.
pub(crate) async fn root_call_in(
    namespace: Option<&str>,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let (address, token) = server();
    let mut request = reqwest::Client::new()
        .request(method, format!("{address}/v1/{path}"))
        .header("X-Vault-Token", token);
    if let Some(ns) = namespace {
        request = request.header("X-Vault-Namespace", ns);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the test server answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let json = if text.trim().is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    };
    (status, json)
}

/// Creates a policy from HCL and a token holding only it; returns the token.
pub(crate) async fn limited_token(policy_name: &str, hcl: &str) -> String {
    let (status, body) = root_call(
        reqwest::Method::PUT,
        &format!("sys/policies/acl/{policy_name}"),
        Some(serde_json::json!({ "policy": hcl })),
    )
    .await;
    assert!(
        status < 300,
        "creating policy {policy_name}: {status} {body}"
    );
    let (status, body) = root_call(
        reqwest::Method::POST,
        "auth/token/create",
        Some(serde_json::json!({
            "policies": [policy_name],
            "no_default_policy": true,
            "ttl": "15m",
        })),
    )
    .await;
    assert!(status < 300, "creating a token: {status} {body}");
    body["auth"]["client_token"]
        .as_str()
        .expect("the token is in auth.client_token")
        .to_owned()
}
