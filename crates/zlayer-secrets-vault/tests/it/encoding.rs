//! Values and names that need care on the way to Vault: newlines, unicode, 1 MiB; spaces,
//! `%`, `#`, `?` in scopes and names; `..` never escapes.

use zlayer_secrets_core::testkit::steps::{names, put, value};
use zlayer_secrets_core::{MAX_VALUE_LEN, Secret, SecretsError, SecretsProvider, SecretsStore};

use crate::common::{provider_in_scope, root_call};

/// The body of a root-token `GET` of `path` (below `/v1/`), which must answer 200.
async fn get_200(path: &str) -> serde_json::Value {
    let (status, body) = root_call(reqwest::Method::GET, path, None).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

/// The path below `/v1/` of a KV v2 key, encoded independently of the crate under test.
fn encoded(area: &str, scope: &str, name: Option<&str>) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    let mut path = format!("secret/{area}");
    for segment in scope.split('/') {
        path = format!("{path}/{}", enc(segment));
    }
    match name {
        Some(name) => format!("{path}/{}", enc(name)),
        None => format!("{path}/?list=true"),
    }
}

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn awkward_values_round_trip() {
    let (vault, scope) = provider_in_scope("values");
    // As many characters as fit in the largest value (1 MiB).
    let mut mib = String::new();
    for c in "ab\ncd\u{e9}".chars().cycle() {
        if mib.len() + c.len_utf8() > MAX_VALUE_LEN {
            break;
        }
        mib.push(c);
    }
    let values = [
        ("newlines", "first\nsecond\r\nthird\n\n".to_owned()),
        (
            "unicode",
            "пароль 密码 🔐 \u{2028} <&> \"quoted\" \\back".to_owned(),
        ),
        ("controls", "\u{0}\u{1}\u{1f}\u{7f}".to_owned()),
        ("mib", mib),
    ];
    for (name, value) in &values {
        vault
            .set_secret(&scope, name, &Secret::new(value.clone()))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    for (name, value) in &values {
        let got = vault.get_secret(&scope, name).await.unwrap();
        assert!(
            got.expose() == value,
            "{name}: {} bytes in, {} out",
            value.len(),
            got.len()
        );
    }
    // Stored as the JSON object {"value": ...}, readable by any other Vault client.
    let body = get_200(&encoded("data", &scope, Some("unicode"))).await;
    assert_eq!(
        body["data"]["data"]["value"],
        serde_json::json!(values[1].1)
    );
    let all = vault
        .get_secrets(&scope, &["newlines", "unicode", "controls", "mib"])
        .await
        .unwrap();
    assert_eq!(all.len(), 4);
    assert!(all["mib"].expose() == values[3].1);
}

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn url_special_scopes_and_names_round_trip_in_place() {
    let (vault, base) = provider_in_scope("special");
    let scope = format!("{base}/a b%20c#d?e");
    let special = [
        "n %2e%2e ?x#y",
        "with space",
        "x?version=1",
        "frag#ment",
        "100%",
        "%2e%2e",
        "a+b&c=d",
    ];
    for name in special {
        put(&vault, &scope, name, format!("value of {name}")).await;
    }
    for name in special {
        assert_eq!(
            value(&vault, &scope, name).await,
            format!("value of {name}"),
            "{name}"
        );
        assert!(vault.exists(&scope, name).await.unwrap(), "{name}");
    }

    // On the server, the keys sit exactly under the scope's folder, as given.
    let body = get_200(&encoded("metadata", &base, None)).await;
    assert_eq!(body["data"]["keys"], serde_json::json!(["a b%20c#d?e/"]));
    let body = get_200(&encoded("metadata", &scope, None)).await;
    let mut expected: Vec<&str> = special.to_vec();
    expected.sort_unstable();
    assert_eq!(body["data"]["keys"], serde_json::json!(expected));

    // A name that looks like a query does not read another version or another secret.
    assert!(!vault.exists(&scope, "x").await.unwrap());
    assert!(!vault.exists(&scope, "frag").await.unwrap());
    assert_eq!(names(&vault, &scope).await, expected);
}

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn dot_dot_segments_are_rejected_before_any_request() {
    let (vault, base) = provider_in_scope("escape");
    let target = format!("{base}/target");
    put(&vault, &target, "n", "original").await;

    let attempts = [
        (format!("{base}/x/.."), "n".to_owned()),
        (format!("{base}/x/../target"), "n".to_owned()),
        ("..".to_owned(), "n".to_owned()),
        (format!("{base}/x"), "..".to_owned()),
        (format!("{base}/x"), "../n".to_owned()),
        (format!("{base}/target/."), "n".to_owned()),
    ];
    for (scope, name) in &attempts {
        let what = format!("{scope:?} {name:?}");
        let set = vault.set_secret(scope, name, &"overwritten".into()).await;
        assert!(
            matches!(set, Err(SecretsError::InvalidName { .. })),
            "set {what}: {set:?}"
        );
        let get = vault.get_secret(scope, name).await;
        assert!(
            matches!(get, Err(SecretsError::InvalidName { .. })),
            "get {what}: {get:?}"
        );
        let del = vault.delete_secret(scope, name).await;
        assert!(
            matches!(del, Err(SecretsError::InvalidName { .. })),
            "delete {what}: {del:?}"
        );
    }
    assert_eq!(value(&vault, &target, "n").await, "original");
    assert_eq!(vault.list_secrets(&target).await.unwrap().len(), 1);
    let body = get_200(&encoded("metadata", &base, None)).await;
    assert_eq!(body["data"]["keys"], serde_json::json!(["target/"]));
}
