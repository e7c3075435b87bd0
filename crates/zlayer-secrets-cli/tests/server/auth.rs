//! Failed authentications: counted per address, 429 after ten a minute.

use serde_json::json;

use crate::{Api, DataDir, Req};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_eleventh_failed_authentication_of_an_address_gets_429() {
    let dir = DataDir::new();
    let key = dir.api_key("root", &["admin"], &[]);
    let server = dir.serve(&[]);
    // The 127.0.0.1 client fails; the right key and secret from another address still work.
    let local = Api::new(&server);
    let other = local.probe();

    // Both kinds of wrong pair are 401 (the same Argon2id work stands behind both).
    let unknown = other
        .send(&Req::post(
            "/auth/token",
            json!({"api_key": "zk_unknown", "api_secret": "whatever"}),
        ))
        .await;
    assert_eq!(unknown.status, 401, "{}", unknown.text);
    let wrong = local.probe();
    let wrong_secret = wrong
        .send(&Req::post(
            "/auth/token",
            json!({"api_key": key.id, "api_secret": "not-the-secret"}),
        ))
        .await;
    assert_eq!(wrong_secret.status, 401, "{}", wrong_secret.text);
    assert_eq!(unknown.json(), wrong_secret.json(), "the two say the same");

    let bad = Req::post(
        "/auth/token",
        json!({"api_key": key.id, "api_secret": "guess"}),
    );
    for attempt in 1..=10 {
        let reply = local.send(&bad).await;
        assert_eq!(reply.status, 401, "attempt {attempt}: {}", reply.text);
    }
    for attempt in 11..=12 {
        let reply = local.send(&bad).await;
        assert_eq!(reply.status, 429, "attempt {attempt}: {}", reply.text);
        assert!(reply.error_text().contains("too many"), "{}", reply.text);
    }
    // Blocked is blocked: the right secret from the same address, and bearer routes too.
    let good = Req::post(
        "/auth/token",
        json!({"api_key": key.id, "api_secret": key.secret}),
    );
    assert_eq!(local.send(&good).await.status, 429);
    let token = other.token(&key).await;
    let blocked = local
        .send(&Req::get("/api/v1/whoami").bearer(Some(&token)))
        .await;
    assert_eq!(blocked.status, 429, "{}", blocked.text);
    // Another address is not affected; health needs no authentication.
    other
        .send(&Req::get("/api/v1/whoami").bearer(Some(&token)))
        .await
        .expect(200);
    local.send(&Req::get("/health")).await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bearer_tokens_count_as_failed_authentications() {
    let dir = DataDir::new();
    let key = dir.api_key("root", &["admin"], &[]);
    let server = dir.serve(&[]);
    let api = Api::new(&server).probe();
    let token = api.token(&key).await;
    // The signature's first character changed: a signature this server did not make.
    let (unsigned, signature) = token.rsplit_once('.').unwrap();
    let first = if signature.starts_with('A') { 'B' } else { 'A' };
    let forged = format!("{unsigned}.{first}{}", &signature[1..]);
    for attempt in 1..=10 {
        let reply = api
            .send(&Req::get("/api/v1/whoami").bearer(Some(&forged)))
            .await;
        assert_eq!(reply.status, 401, "attempt {attempt}: {}", reply.text);
    }
    let reply = api
        .send(&Req::get("/api/v1/whoami").bearer(Some(&token)))
        .await;
    assert_eq!(reply.status, 429, "{}", reply.text);
    // A missing header is not a failed authentication of anyone.
    let fresh = Api::new(&server).probe();
    for _ in 0..12 {
        assert_eq!(fresh.send(&Req::get("/api/v1/whoami")).await.status, 401);
    }
    fresh
        .send(&Req::get("/api/v1/whoami").bearer(Some(&token)))
        .await
        .expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bearer_scheme_is_case_insensitive() {
    let dir = DataDir::new();
    let key = dir.api_key("root", &["admin"], &[]);
    let server = dir.serve(&[]);
    let api = Api::new(&server);
    let token = api.token(&key).await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let reply = api
            .send(&Req::get("/api/v1/whoami").authorization(&format!("{scheme} {token}")))
            .await;
        assert_eq!(reply.status, 200, "{scheme}: {}", reply.text);
    }
    // Another scheme is still refused.
    let reply = api
        .probe()
        .send(&Req::get("/api/v1/whoami").authorization(&format!("Token {token}")))
        .await;
    assert_eq!(reply.status, 401, "{}", reply.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_expire_after_the_configured_lifetime() {
    let dir = DataDir::new();
    let key = dir.api_key("root", &["admin"], &[]);
    let server = dir.serve(&["--token-lifetime", "1s"]);
    let api = Api::new(&server).probe();
    let reply = api
        .send(&Req::post(
            "/auth/token",
            json!({"api_key": key.id, "api_secret": key.secret}),
        ))
        .await
        .expect(200);
    assert_eq!(reply["expires_in"], 1);
    let token = reply["access_token"].as_str().unwrap().to_owned();
    // Valid at first (unless this machine is very slow), refused once the second is over.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let refused = loop {
        let reply = api
            .send(&Req::get("/api/v1/whoami").bearer(Some(&token)))
            .await;
        if reply.status != 200 {
            break reply;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the token never expired"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(refused.status, 401, "{}", refused.text);
    assert!(refused.error_text().contains("expired"), "{}", refused.text);
}
