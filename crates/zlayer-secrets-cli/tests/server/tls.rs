//! TLS: HTTPS with a certificate the client trusts; plain HTTP to it fails; plain HTTP on an
//! address that is not loopback is refused unless `--insecure-http`.

use std::path::{Path, PathBuf};

use serde_json::json;
use zlayer_secrets_testsupport::server::ServerProcess;

use crate::{Api, DataDir, Req, client_builder};

/// A self-signed certificate for `localhost` and 127.0.0.1, written as `cert.pem` and
/// `key.pem` into `dir`; the certificate's PEM.
fn certificate(dir: &Path) -> (PathBuf, PathBuf, String) {
    let made =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let cert = made.cert.pem();
    let cert_file = dir.join("cert.pem");
    let key_file = dir.join("key.pem");
    std::fs::write(&cert_file, &cert).unwrap();
    std::fs::write(&key_file, made.signing_key.serialize_pem()).unwrap();
    (cert_file, key_file, cert)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_a_trusted_certificate_and_nothing_in_plain_text() {
    let dir = DataDir::new();
    let files = tempfile::tempdir().unwrap();
    let (cert, key, pem) = certificate(files.path());
    let root = dir.api_key("root", &["admin"], &[]);
    let server = dir.serve(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    assert!(server.url().starts_with("https://"), "{}", server.url());
    let port = server.addr().port();
    let trusting = client_builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .build()
        .unwrap();

    for host in ["localhost", "127.0.0.1"] {
        let api = Api {
            base: format!("https://{host}:{port}"),
            http: trusting.clone(),
        };
        api.send(&Req::get("/health")).await.expect(200);
        let token = api.token(&root).await;
        api.send(
            &Req::post(
                "/api/v1/secrets?environment=prod",
                json!({"name": format!("over-{}", host.replace('.', "-")), "value": "tls"}),
            )
            .bearer(Some(&token)),
        )
        .await
        .expect(201);
    }

    // Plain HTTP to the TLS port gets no HTTP answer.
    let plain = Api::at(&format!("http://127.0.0.1:{port}"));
    assert!(plain.try_send(&Req::get("/health")).await.is_err());
    // A client that does not trust the certificate refuses the server.
    let untrusting = Api::at(&format!("https://localhost:{port}"));
    assert!(untrusting.try_send(&Req::get("/health")).await.is_err());
    // The server is still well after both.
    let api = Api {
        base: format!("https://localhost:{port}"),
        http: trusting,
    };
    api.send(&Req::get("/health")).await.expect(200);
    let (status, stderr) = server.stop();
    assert!(status.success(), "{status}: {stderr}");
}

#[test]
fn plain_http_off_loopback_is_refused_unless_insecure_http() {
    let dir = DataDir::new();
    let refused = ServerProcess::try_start(dir.command(&["serve", "--listen", "0.0.0.0:0"]))
        .expect_err("plain HTTP on 0.0.0.0 must be refused");
    assert_eq!(refused.code, Some(1), "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("plain HTTP is allowed on a loopback address only"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("--tls-cert"), "{}", refused.stderr);

    // With --insecure-http it starts (and, with no admin key, serves nothing); stopped at
    // once.
    let server =
        ServerProcess::start(dir.command(&["serve", "--listen", "0.0.0.0:0", "--insecure-http"]));
    assert!(
        server.url().starts_with("http://0.0.0.0:"),
        "{}",
        server.url()
    );
    let (status, stderr) = server.stop();
    assert!(status.success(), "{status}: {stderr}");
}

#[test]
fn unreadable_tls_files_are_refused_at_start() {
    let dir = DataDir::new();
    let files = tempfile::tempdir().unwrap();
    let (cert, key, _) = certificate(files.path());
    let missing = files.path().join("absent.pem");
    for (c, k, says) in [
        (&missing, &key, "TLS certificate file"),
        (&cert, &missing, "TLS key file"),
        (&key, &key, "TLS certificate file"),
    ] {
        let refused = ServerProcess::try_start(dir.command(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            c.to_str().unwrap(),
            "--tls-key",
            k.to_str().unwrap(),
        ]))
        .expect_err("bad TLS files must be refused");
        assert_eq!(refused.code, Some(1), "{}", refused.stderr);
        assert!(refused.stderr.contains(says), "{says}: {}", refused.stderr);
    }
}
