//! `serve --backend vault`: the same rights over an OpenBao (or Vault) KV v2 mount, against
//! the server named by `ZLAYER_TEST_VAULT_ADDR` and `ZLAYER_TEST_VAULT_TOKEN`. Each test
//! enables a KV v2 mount of its own, so its API keys and grants meet no other test's.

use reqwest::Method;
use serde_json::json;
use zlayer_secrets_testsupport::openbao::{bao, bao_kv_fields, server};
use zlayer_secrets_testsupport::unique_scope;

use crate::{Api, DataDir, Req};

/// A data directory whose commands use a new KV v2 mount of the test server.
fn vault_dir() -> (DataDir, String) {
    let (addr, token) = server();
    let mount = unique_scope("srv");
    bao(
        &[
            "secrets",
            "enable",
            &format!("-path={mount}"),
            "-version=2",
            "kv",
        ],
        None,
    );
    let vars = vec![
        ("ZLAYER_SECRETS_BACKEND".to_owned(), "vault".to_owned()),
        ("VAULT_ADDR".to_owned(), addr),
        ("VAULT_TOKEN".to_owned(), token),
        ("VAULT_MOUNT".to_owned(), mount.clone()),
        ("VAULT_NAMESPACE".to_owned(), String::new()),
        ("VAULT_CACERT".to_owned(), String::new()),
    ];
    (DataDir::with_vars(vars), mount)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
#[allow(clippy::too_many_lines)] // one table and its run
async fn rights_are_enforced_over_vault() {
    let (dir, mount) = vault_dir();
    let root = dir.api_key("root", &["admin"], &[]);
    let runner = dir.api_key("runner", &[], &[]);
    let nobody = dir.api_key("nobody", &[], &[]);
    dir.grant("runner", "prod", "execute");
    let server = dir.serve(&[]);
    let api = Api::new(&server);
    let health = api.send(&Req::get("/health")).await.expect(200);
    assert_eq!(health["ready"], true);
    assert_eq!(health["atomic_batches"], false, "Vault has no transactions");
    let admin = api.token(&root).await;
    let exec = api.token(&runner).await;
    let none = api.token(&nobody).await;

    api.send(
        &Req::post(
            "/api/v1/secrets?environment=prod",
            json!({"name": "db", "value": "vault-db-1"}),
        )
        .bearer(Some(&admin)),
    )
    .await
    .expect(201);
    api.send(
        &Req::post(
            "/api/v1/secrets?scope=shop",
            json!({"name": "stripe", "value": "vault-stripe"}),
        )
        .bearer(Some(&admin)),
    )
    .await
    .expect(201);

    // (label, request, admin, execute, no grant, no token)
    let table: Vec<(&str, Req, [u16; 4])> = vec![
        ("whoami", Req::get("/api/v1/whoami"), [200, 200, 200, 401]),
        (
            "list",
            Req::get("/api/v1/secrets?environment=prod"),
            [200, 200, 403, 401],
        ),
        (
            "reveal",
            Req::get("/api/v1/secrets/db?environment=prod&reveal=true"),
            [200, 200, 403, 401],
        ),
        (
            "reveal-all",
            Req::get("/api/v1/secrets/reveal-all?environment=prod"),
            [200, 200, 403, 401],
        ),
        (
            "resolve",
            Req::post(
                "/api/v1/resolve",
                json!({"scope": "env:prod", "references": {"DB": "$S:db"}}),
            ),
            [200, 200, 403, 401],
        ),
        (
            "write",
            Req::post(
                "/api/v1/secrets?environment=prod",
                json!({"name": "db", "value": "vault-db-2"}),
            ),
            [200, 403, 403, 401],
        ),
        (
            "rotate",
            Req::post(
                "/api/v1/secrets/db/rotate?environment=prod",
                json!({"value": "vault-db-3"}),
            ),
            [200, 403, 403, 401],
        ),
        (
            "reveal ?scope=shop",
            Req::get("/api/v1/secrets/stripe?scope=shop&reveal=true"),
            [200, 403, 403, 401],
        ),
        (
            "grants",
            Req::get("/api/v1/grants?environment=prod"),
            [200, 403, 403, 401],
        ),
        (
            "grant",
            Req::new(Method::PUT, "/api/v1/grants").json(json!({
                "subject": "user:nobody", "environment": "staging", "level": "read"
            })),
            [200, 403, 403, 401],
        ),
        (
            "api-keys",
            Req::get("/api/v1/api-keys"),
            [200, 403, 403, 401],
        ),
    ];
    let mut failures = Vec::new();
    // The admin column last, so that what the others fail to change is still there.
    let mut state = bao_kv_fields(&mount, "env:prod/db");
    for (label, req, want) in &table {
        for (column, token) in [
            (1, Some(&exec)),
            (2, Some(&none)),
            (3, None),
            (0, Some(&admin)),
        ] {
            let reply = api
                .send(&req.clone().bearer(token.map(String::as_str)))
                .await;
            if reply.status != want[column] {
                failures.push(format!(
                    "{label} as column {column}: {} (expected {}): {:.200}",
                    reply.status, want[column], reply.text
                ));
            }
            if reply.status >= 400 {
                if let Err(problem) = reply.check_error() {
                    failures.push(format!("{label} as column {column}: {problem}"));
                }
                if bao_kv_fields(&mount, "env:prod/db") != state {
                    failures.push(format!("{label} as column {column}: the secret changed"));
                }
            } else if req.method != Method::GET {
                state = bao_kv_fields(&mount, "env:prod/db");
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The admin's writes reached Vault.
    assert_eq!(bao_kv_fields(&mount, "env:prod/db")["value"], "vault-db-3");

    // A revoke, made with the CLI beside the server, takes effect at once.
    let reveal = Req::get("/api/v1/secrets/db?environment=prod&reveal=true");
    assert_eq!(
        api.send(&reveal.clone().bearer(Some(&exec))).await.status,
        200
    );
    dir.cli(&["revoke", "runner", "--env", "prod"]).ok();
    assert_eq!(api.send(&reveal.bearer(Some(&exec))).await.status, 403);
    let (status, stderr) = server.stop();
    assert!(status.success(), "{status}: {stderr}");
}

/// A server fronting OpenBao records its subjects' operations in the data directory's own
/// audit table: OpenBao's audit devices would see only the server's token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn a_server_over_vault_records_its_subjects_locally() {
    let (dir, mount) = vault_dir();
    let root = dir.api_key("root", &["admin"], &[]);
    let runner = dir.api_key("runner", &[], &[]);
    dir.grant("runner", "prod", "execute");
    let server = dir.serve(&[]);
    let api = Api::new(&server);
    let admin = api.token(&root).await;
    let exec = api.token(&runner).await;
    api.send(
        &Req::post(
            "/api/v1/secrets?environment=prod",
            json!({"name": "db", "value": "vault-audit-1"}),
        )
        .bearer(Some(&admin)),
    )
    .await
    .expect(201);
    api.send(&Req::get("/api/v1/secrets/db?environment=prod&reveal=true").bearer(Some(&exec)))
        .await
        .expect(200);
    api.send(
        &Req::post(
            "/api/v1/secrets?environment=prod",
            json!({"name": "db", "value": "vault-audit-refused"}),
        )
        .bearer(Some(&exec)),
    )
    .await
    .expect(403);
    assert_eq!(
        bao_kv_fields(&mount, "env:prod/db")["value"],
        "vault-audit-1"
    );

    let doc = api
        .send(&Req::get("/api/v1/audit").bearer(Some(&admin)))
        .await
        .expect(200);
    let recorded: Vec<String> = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"]["via"] == "server")
        .map(|e| {
            format!(
                "{} {} {}/{} {}",
                e["actor"]["principal"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
                e["scope"].as_str().unwrap(),
                e["name"].as_str().unwrap(),
                e["outcome"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        recorded,
        [
            "root set env:prod/db ok",
            "runner reveal env:prod/db ok",
            "runner set env:prod/db denied",
        ]
    );
    let verify = api
        .send(&Req::get("/api/v1/audit/verify").bearer(Some(&admin)))
        .await
        .expect(200);
    assert!(verify.get("problem").is_none(), "{verify}");
    let (status, stderr) = server.stop();
    assert!(status.success(), "{status}: {stderr}");

    // The entries are in the data directory's own database, not in OpenBao.
    let db = rusqlite::Connection::open_with_flags(
        dir.database(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let rows: Vec<(String, String, String)> = db
        .prepare(
            "SELECT principal, action, outcome FROM audit_log WHERE via = 'server' ORDER BY seq",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let rows: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|(p, a, o)| (p.as_str(), a.as_str(), o.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("root", "set", "ok"),
            ("runner", "reveal", "ok"),
            ("runner", "set", "denied"),
        ]
    );
}
