//! `--server https://...` with `--server-ca`: a server whose certificate a private CA signed.

use crate::remote::Served;

/// A CA and a certificate for `localhost` and 127.0.0.1 signed by it, written as
/// `ca.pem`, `cert.pem` and `key.pem` into `dir`.
fn certificates(dir: &std::path::Path) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.join("cert.pem"), leaf.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), leaf_key.serialize_pem()).unwrap();
}

/// The CA given with `--server-ca` (or `ZLAYER_SECRETS_SERVER_CA`) makes the server's
/// certificate trusted; without it the connection is refused, naming the server.
#[test]
fn a_private_ca_is_trusted_with_server_ca() {
    let certs = tempfile::tempdir().unwrap();
    certificates(certs.path());
    let path = |name: &str| certs.path().join(name).to_str().unwrap().to_owned();
    let (cert, key, ca) = (path("cert.pem"), path("key.pem"), path("ca.pem"));
    let served = Served::start(&["--tls-cert", &cert, "--tls-key", &key]);
    assert!(
        served.url.starts_with("https://127.0.0.1:"),
        "{}",
        served.url
    );
    let admin = served.client(&served.admin);

    let r = admin.run_with(&["set", "tls", "--from-stdin"], Some(b"over-tls"), &[]);
    r.code(1).err_contains(&format!(
        "cannot reach the secrets server at {}",
        served.url
    ));

    admin
        .run_with(
            &["--server-ca", &ca, "set", "tls", "--from-stdin"],
            Some(b"over-tls"),
            &[],
        )
        .ok();
    let localhost = served.url.replace("127.0.0.1", "localhost");
    let r = admin.run_with(
        &["--server", &localhost, "get", "tls", "--reveal"],
        None,
        &[("ZLAYER_SECRETS_SERVER_CA", &ca)],
    );
    assert_eq!(r.ok().out(), "over-tls");

    let missing = path("missing.pem");
    let r = admin.run(&["--server-ca", &missing, "ls"]);
    r.code(1).err_contains("missing.pem");
}
