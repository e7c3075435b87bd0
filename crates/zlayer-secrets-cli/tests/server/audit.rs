//! The audit log through the server: each request recorded as the API key's subject from
//! the client's address, refusals recorded by the server, `GET /api/v1/audit` and its
//! filters, `GET /api/v1/audit/verify`, and no value or credential in any of it.

use std::net::SocketAddr;

use serde_json::{Value, json};

use crate::{Api, DataDir, Key, Req, client_builder, fresh_loopback};

const V1: &str = "audit-value-one-7f3a";
const V2: &str = "audit-value-two-91c2";
const V3: &str = "audit-value-three-44d0";
const REFUSED: &str = "audit-value-refused-0b9e";

/// `action scope/name vVERSION outcome` of an entry, `-` for what it lacks.
fn line(entry: &Value) -> String {
    let text = |v: &Value| v.as_str().map_or_else(|| "-".to_owned(), str::to_owned);
    format!(
        "{} {} {}/{} v{} {}",
        text(&entry["actor"]["principal"]),
        text(&entry["action"]),
        text(&entry["scope"]),
        text(&entry["name"]),
        entry["version"]
            .as_u64()
            .map_or_else(|| "-".to_owned(), |v| v.to_string()),
        text(&entry["outcome"]),
    )
}

fn entries(doc: &Value) -> Vec<Value> {
    doc["entries"].as_array().unwrap().clone()
}

/// A server with an admin key `root` and a key `reader` with `execute` on `prod`, and the
/// fixed sequence of requests run through it; returns what the tests look at.
struct Fixture {
    _dir: DataDir,
    _server: zlayer_secrets_testsupport::server::ServerProcess,
    api: Api,
    admin: String,
    reader: String,
    reader_ip: std::net::IpAddr,
    keys: [Key; 2],
}

#[allow(clippy::too_many_lines)] // one table of steps and its run
async fn sequence() -> Fixture {
    let dir = DataDir::new();
    let root = dir.api_key("root", &["admin"], &[]);
    let reader_key = dir.api_key("reader", &[], &[]);
    dir.grant("reader", "prod", "execute");
    let server = dir.serve(&[]);
    let api = Api::new(&server);
    let reader_ip = fresh_loopback();
    let reader_api = Api {
        base: api.base.clone(),
        http: client_builder().local_address(reader_ip).build().unwrap(),
    };
    let admin = api.token(&root).await;
    let reader = reader_api.token(&reader_key).await;
    let as_admin = |req: Req| req.bearer(Some(&admin));
    let steps: Vec<(&Api, Req, u16)> = vec![
        (
            &api,
            as_admin(Req::post(
                "/api/v1/secrets?environment=prod&exclusive=true",
                json!({"name": "db", "value": V1}),
            )),
            201,
        ),
        (
            &api,
            as_admin(Req::post(
                "/api/v1/secrets?environment=prod",
                json!({"name": "db", "value": V2}),
            )),
            200,
        ),
        (
            &api,
            as_admin(Req::get("/api/v1/secrets/db?environment=prod&reveal=true")),
            200,
        ),
        (
            &api,
            as_admin(Req::get(
                "/api/v1/secrets/missing?environment=prod&reveal=true",
            )),
            404,
        ),
        (
            &api,
            as_admin(Req::post(
                "/api/v1/secrets/db/rotate?environment=prod",
                json!({"value": V3}),
            )),
            200,
        ),
        (
            &api,
            as_admin(Req::post(
                "/api/v1/secrets/db/rollback?environment=prod",
                json!({"to": 1}),
            )),
            200,
        ),
        (
            &reader_api,
            Req::post(
                "/api/v1/resolve",
                json!({"scope": "env:prod", "references": {"DB": "$S:db"}}),
            )
            .bearer(Some(&reader)),
            200,
        ),
        (
            &reader_api,
            Req::post(
                "/api/v1/secrets?environment=prod",
                json!({"name": "db", "value": REFUSED}),
            )
            .bearer(Some(&reader)),
            403,
        ),
        (
            &api,
            as_admin(
                Req::new(reqwest::Method::PUT, "/api/v1/grants").json(json!({
                    "subject": "user:other", "environment": "prod", "level": "read"
                })),
            ),
            200,
        ),
        (
            &api,
            as_admin(Req::delete(
                "/api/v1/grants?subject=user:other&environment=prod",
            )),
            200,
        ),
        (
            &api,
            as_admin(Req::delete("/api/v1/secrets/db?environment=prod")),
            204,
        ),
    ];
    for (client, req, status) in &steps {
        let reply = client.send(req).await;
        assert_eq!(
            reply.status, *status,
            "{} {}: {}",
            req.method, req.path, reply.text
        );
    }
    Fixture {
        _dir: dir,
        _server: server,
        api,
        admin,
        reader,
        reader_ip,
        keys: [root, reader_key],
    }
}

impl Fixture {
    async fn audit(&self, query: &str, token: &str) -> crate::Reply {
        self.api
            .send(&Req::get(format!("/api/v1/audit{query}")).bearer(Some(token)))
            .await
    }

    /// The secrets and credentials that must appear in no audit answer.
    fn secrets(&self) -> Vec<String> {
        let mut out: Vec<String> = [V1, V2, V3, REFUSED].map(str::to_owned).to_vec();
        out.extend(self.keys.iter().map(|k| k.secret.clone()));
        out.push(self.admin.clone());
        out.push(self.reader.clone());
        out
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_is_one_entry_of_its_subject() {
    let fx = sequence().await;
    let all = fx.audit("", &fx.admin).await;
    let doc = all.expect(200);
    let list = entries(&doc);
    let (before, served): (Vec<&Value>, Vec<&Value>) =
        list.iter().partition(|e| e["actor"]["via"] != "server");
    // Before the server: the keys and the grant made with the CLI, by this OS user.
    let setup: Vec<&str> = before
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(setup, ["api-key-create", "api-key-create", "grant"]);
    let lines: Vec<String> = served.iter().map(|e| line(e)).collect();
    assert_eq!(
        lines,
        [
            "root create env:prod/db v1 ok",
            "root set env:prod/db v2 ok",
            "root reveal env:prod/db v2 ok",
            "root reveal env:prod/missing v- not-found",
            "root rotate env:prod/db v3 ok",
            "root rollback env:prod/db v4 ok",
            "reader resolve env:prod/db v4 ok",
            "reader set env:prod/db v- denied",
            "root grant _zlayer/grants/env:prod v2 ok",
            "root revoke _zlayer/grants/env:prod v3 ok",
            "root delete env:prod/db v- ok",
        ]
    );
    // In order, without gaps, each from the client's own address.
    let seqs: Vec<u64> = list.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=list.len() as u64).collect::<Vec<_>>());
    for entry in &served {
        let address: SocketAddr = entry["actor"]["address"].as_str().unwrap().parse().unwrap();
        let expected = if entry["actor"]["principal"] == "reader" {
            fx.reader_ip
        } else {
            std::net::IpAddr::from([127, 0, 0, 1])
        };
        assert_eq!(address.ip(), expected, "{entry}");
        assert_ne!(address.port(), 0);
        assert!(entry["actor"].get("uid").is_none(), "{entry}");
    }

    let check = fx
        .api
        .send(&Req::get("/api/v1/audit/verify").bearer(Some(&fx.admin)))
        .await;
    let report = check.expect(200);
    assert!(report.get("problem").is_none(), "{report}");
    assert_eq!(report["entries"].as_u64(), Some(list.len() as u64));
    assert_eq!(report["last_seq"].as_u64(), Some(list.len() as u64));

    for secret in fx.secrets() {
        for body in [&all.text, &check.text] {
            assert!(!body.contains(&secret), "an audit answer holds `{secret}`");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_is_filtered_and_only_admins_read_it() {
    let fx = sequence().await;
    let all = entries(&fx.audit("", &fx.admin).await.expect(200));
    let lines = |doc: &Value| -> Vec<String> { entries(doc).iter().map(line).collect() };

    let reveals = fx.audit("?action=reveal", &fx.admin).await.expect(200);
    assert_eq!(
        lines(&reveals),
        [
            "root reveal env:prod/db v2 ok",
            "root reveal env:prod/missing v- not-found",
        ]
    );
    let by_reader = fx.audit("?actor=reader", &fx.admin).await.expect(200);
    assert_eq!(
        lines(&by_reader),
        [
            "reader resolve env:prod/db v4 ok",
            "reader set env:prod/db v- denied",
        ]
    );
    let grants = fx
        .audit("?scope=_zlayer/grants&actor=root", &fx.admin)
        .await
        .expect(200);
    assert_eq!(
        lines(&grants),
        [
            "root grant _zlayer/grants/env:prod v2 ok",
            "root revoke _zlayer/grants/env:prod v3 ok",
        ]
    );
    let named = fx.audit("?name=missing", &fx.admin).await.expect(200);
    assert_eq!(entries(&named).len(), 1);
    // `since` against the same selection made here.
    let cut = all[all.len() / 2]["at_ms"].as_i64().unwrap();
    let since = fx
        .audit(&format!("?since={cut}"), &fx.admin)
        .await
        .expect(200);
    let expected: Vec<&Value> = all
        .iter()
        .filter(|e| e["at_ms"].as_i64().unwrap() >= cut)
        .collect();
    assert_eq!(entries(&since).iter().collect::<Vec<_>>(), expected);
    let until = fx
        .audit(&format!("?until={cut}"), &fx.admin)
        .await
        .expect(200);
    assert_eq!(
        entries(&until).len() + expected.len(),
        all.len(),
        "until is exclusive, since inclusive"
    );
    let newest = fx.audit("?limit=2", &fx.admin).await.expect(200);
    assert_eq!(entries(&newest), all[all.len() - 2..]);

    // A reader is refused, and the refusals are entries of their own.
    for path in ["/api/v1/audit", "/api/v1/audit/verify"] {
        let reply = fx.api.send(&Req::get(path).bearer(Some(&fx.reader))).await;
        assert_eq!(reply.status, 403, "{path}: {}", reply.text);
        assert!(reply.error_text().contains("admin"), "{}", reply.text);
    }
    let refused = fx.audit("?action=audit-read", &fx.admin).await.expect(200);
    assert_eq!(
        lines(&refused),
        [
            "reader audit-read -/- v- denied",
            "reader audit-read -/- v- denied"
        ]
    );

    // Bad values are 400s that name the parameter.
    for (query, names) in [
        ("?action=peek", "action"),
        ("?since=yesterday", "since"),
        ("?until=1.5", "until"),
        ("?limit=-3", "limit"),
        ("?scope=", "scope"),
    ] {
        let reply = fx.audit(query, &fx.admin).await;
        assert_eq!(reply.status, 400, "{query}: {}", reply.text);
        assert!(
            reply.error_text().contains(names),
            "{query}: {}",
            reply.text
        );
    }
    let bad = fx.audit("?action=peek", &fx.admin).await.error_text();
    assert!(bad.contains("helper-get"), "the actions are listed: {bad}");
}
