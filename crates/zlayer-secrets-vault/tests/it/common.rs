//! The shared server, unique scopes, and root-token calls to the server's HTTP API.

use std::sync::atomic::{AtomicU64, Ordering};

use zlayer_secrets_vault::VaultSecretsProvider;

/// The server address and root token the test command exported; panics with directions
/// when they are missing, so that a run with `--ignored` never passes without a server.
pub(crate) fn server() -> (String, String) {
    let get =
        |name: &str| {
            std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| {
            panic!(
                "{name} is not set: these tests need an OpenBao server. Run `cargo xtask ci`, \
                 or start `bao server -dev -dev-root-token-id=TOKEN \
                 -dev-listen-address=127.0.0.1:PORT` and export \
                 ZLAYER_TEST_VAULT_ADDR=http://127.0.0.1:PORT and ZLAYER_TEST_VAULT_TOKEN=TOKEN"
            )
        })
        };
    (
        get("ZLAYER_TEST_VAULT_ADDR"),
        get("ZLAYER_TEST_VAULT_TOKEN"),
    )
}

/// A provider on the shared server's `secret` mount with the root token.
pub(crate) fn provider() -> VaultSecretsProvider {
    let (address, token) = server();
    VaultSecretsProvider::new(&address, &token, "secret").unwrap()
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
    let (status, body) = root_call(
        reqwest::Method::DELETE,
        &format!("secret/data/{scope}/{name}"),
        None,
    )
    .await;
    assert!(status < 300, "{status} {body}");
}

/// A scope prefix no other test (in this or another process) uses.
pub(crate) fn unique_scope(test: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("it-{test}-{:x}-{nanos:x}-{n}", std::process::id())
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

/// Runs the `bao` command-line tool (`ZLAYER_TEST_BAO`, else `bao` on `PATH`) against the
/// shared server with the root token, `stdin` as its input; panics unless it succeeds.
/// Returns its standard output.
pub(crate) fn bao(args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    let (address, token) = server();
    let program = std::path::PathBuf::from(
        std::env::var_os("ZLAYER_TEST_BAO").unwrap_or_else(|| "bao".into()),
    );
    let mut child = Command::new(&program)
        .args(args)
        .env("VAULT_ADDR", &address)
        .env("VAULT_TOKEN", &token)
        .env_remove("VAULT_NAMESPACE")
        .env_remove("VAULT_MOUNT")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {} (set ZLAYER_TEST_BAO to the `bao` binary): {e}",
                program.display()
            )
        });
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "bao {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The `data` fields of the current version of `{mount}/{path}`, as `bao kv get` shows them.
pub(crate) fn bao_kv_fields(mount: &str, path: &str) -> serde_json::Value {
    let out = bao(
        &[
            "kv",
            "get",
            "-format=json",
            &format!("-mount={mount}"),
            path,
        ],
        None,
    );
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    doc["data"]["data"].clone()
}
