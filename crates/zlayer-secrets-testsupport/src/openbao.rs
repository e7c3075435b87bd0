//! The OpenBao server of the `#[ignore]`d tests, and its `bao` command line.
//!
//! `cargo xtask ci` starts `bao server -dev` on a free 127.0.0.1 port and exports
//! `ZLAYER_TEST_VAULT_ADDR`, `ZLAYER_TEST_VAULT_TOKEN` (a root token) and `ZLAYER_TEST_BAO`
//! (the `bao` binary) for the tests it runs with `--ignored`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The server address and root token the test command exported. Panics with directions
/// when either is missing or empty, so that a run with `--ignored` never passes without a
/// server.
#[must_use]
pub fn server() -> (String, String) {
    let get = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| {
                panic!(
                    "{name} is not set: these tests need an OpenBao server. Run `cargo xtask \
                     ci`, or start `bao server -dev -dev-root-token-id=TOKEN \
                     -dev-listen-address=127.0.0.1:PORT` and export \
                     ZLAYER_TEST_VAULT_ADDR=http://127.0.0.1:PORT and \
                     ZLAYER_TEST_VAULT_TOKEN=TOKEN"
                )
            })
    };
    (
        get("ZLAYER_TEST_VAULT_ADDR"),
        get("ZLAYER_TEST_VAULT_TOKEN"),
    )
}

/// Runs the `bao` command-line tool (`ZLAYER_TEST_BAO`, else `bao` on `PATH`) against the
/// [`server`] with the root token, `stdin` as its input; panics unless it succeeds.
/// Returns its standard output.
// Run as often for its effect on the server as for its output.
#[allow(clippy::must_use_candidate)]
pub fn bao(args: &[&str], stdin: Option<&str>) -> String {
    let (address, token) = server();
    let program =
        PathBuf::from(std::env::var_os("ZLAYER_TEST_BAO").unwrap_or_else(|| "bao".into()));
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
            .expect("stdin is piped")
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

/// The `data` fields of the current version of `{mount}/{path}`, as `bao kv get` shows
/// them.
#[must_use]
pub fn bao_kv_fields(mount: &str, path: &str) -> serde_json::Value {
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
