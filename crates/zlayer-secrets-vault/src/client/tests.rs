//! Unit tests of URLs, addresses, mounts and tokens (no server).

use super::*;

fn client(address: &str, mount: &str) -> Client {
    Client::new(VaultConfig::new(address, "tok-abc").with_mount(mount)).unwrap()
}

#[test]
fn urls_encode_every_segment() {
    let c = client("http://127.0.0.1:8200", "secret");
    let url = c.url("data", "a b/c%d", Some("x#y?z")).unwrap();
    assert_eq!(
        url.as_str(),
        "http://127.0.0.1:8200/v1/secret/data/a%20b/c%25d/x%23y%3Fz"
    );
    let url = c.url("metadata", "env:prod", None).unwrap();
    assert_eq!(
        url.as_str(),
        "http://127.0.0.1:8200/v1/secret/metadata/env%3Aprod/"
    );
    let url = c.url("data", "ü", Some("a..b")).unwrap();
    assert_eq!(
        url.as_str(),
        "http://127.0.0.1:8200/v1/secret/data/%C3%BC/a..b"
    );
}

#[test]
fn dot_segments_are_refused() {
    let c = client("http://127.0.0.1:8200", "secret");
    for (scope, name) in [
        ("..", "x"),
        ("a/../b", "x"),
        ("a", ".."),
        ("a", "."),
        ("a", "b/c"),
    ] {
        let err = c.url("data", scope, Some(name)).unwrap_err();
        assert!(
            matches!(err, SecretsError::InvalidName { .. }),
            "{scope} {name}: {err}"
        );
    }
}

#[test]
fn address_prefix_and_nested_mounts() {
    let c = client("https://vault.example.com:8443/proxy/", "/kv/team-a/");
    assert_eq!(c.address(), "https://vault.example.com:8443/proxy");
    assert_eq!(c.mount(), "kv/team-a");
    let url = c.url("data", "s", Some("n")).unwrap();
    assert_eq!(
        url.as_str(),
        "https://vault.example.com:8443/proxy/v1/kv/team-a/data/s/n"
    );
}

#[test]
fn bad_addresses_are_explained() {
    for (address, expect) in [
        ("vault.example.com:8200", "http"),
        ("ftp://vault", "http"),
        ("not a url", "not a URL"),
        ("http://127.0.0.1:8200/?x=1", "query"),
    ] {
        let err = Client::new(VaultConfig::new(address, "tok-abc"))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains(expect), "{address}: {err}");
        assert!(!err.contains("tok-abc"), "{err}");
    }
    let err = Client::new(VaultConfig::new("http://u:pw@127.0.0.1", "tok-abc"))
        .err()
        .unwrap()
        .to_string();
    assert!(!err.contains("pw"), "{err}");
}

#[test]
fn bad_mounts_and_tokens_are_explained() {
    for mount in ["", "/", "a//b", "a/../b"] {
        let err = Client::new(VaultConfig::new("http://127.0.0.1", "t").with_mount(mount))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("mount"), "{mount}: {err}");
    }
    let err = Client::new(VaultConfig::new("http://127.0.0.1", ""))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("empty"), "{err}");
    let err = Client::new(VaultConfig::new("http://127.0.0.1", "secret-line\nbreak"))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("VAULT_TOKEN"), "{err}");
    assert!(!err.contains("secret-line"), "{err}");
}

#[test]
fn loopback_hosts() {
    assert!(is_loopback("127.0.0.1"));
    assert!(is_loopback("[::1]"));
    assert!(is_loopback("localhost"));
    assert!(!is_loopback("vault.example.com"));
}

#[test]
fn operations_are_named_as_vault_capabilities() {
    let c = client("http://127.0.0.1:8200", "secret");
    let data = c.url("data", "s", Some("n")).unwrap();
    let mut list = c.url("metadata", "s", None).unwrap();
    list.set_query(Some("list=true"));
    assert_eq!(operation(&Method::GET, &data), "read");
    assert_eq!(operation(&Method::GET, &list), "list");
    assert_eq!(operation(&Method::POST, &data), "create or update");
    assert_eq!(operation(&Method::PATCH, &data), "patch");
    assert_eq!(operation(&Method::DELETE, &data), "delete");
}
