//! Bad input: every malformed, oversized or misdirected request is a 4xx JSON error that
//! never repeats the submitted value, and the store is left as it was.

use reqwest::Method;
use serde_json::json;

use crate::access::{ENVIRONMENTS, SCOPES, VALUES, fixture};
use crate::{Reply, Req};

/// A value that marks what a request submitted; no answer may hold it.
const MARK: &str = "MARK-c0ffee-5ecret";

/// The store's largest value (`MAX_VALUE_LEN`).
const MAX_VALUE: usize = 1024 * 1024;

/// The server's largest JSON body.
const MAX_JSON_BODY: usize = 8 * 1024 * 1024;

struct Case {
    label: String,
    req: Req,
    status: u16,
    /// Text the answer must not hold (the value submitted).
    secret: String,
    /// Whether to send it from an address of its own (it fails authentication).
    probe: bool,
}

fn case(label: impl Into<String>, status: u16, req: Req) -> Case {
    Case {
        label: label.into(),
        req,
        status,
        secret: MARK.to_owned(),
        probe: false,
    }
}

fn write(body: serde_json::Value) -> Req {
    Req::post("/api/v1/secrets?environment=prod", body)
}

fn raw_json(path: &str, text: &str) -> Req {
    Req::new(Method::POST, path).raw("application/json", text.as_bytes().to_vec())
}

/// Names no route accepts.
fn bad_names() -> Vec<(&'static str, String)> {
    vec![
        ("a/b", "a/b".to_owned()),
        ("..", "..".to_owned()),
        (".", ".".to_owned()),
        ("empty", String::new()),
        ("control character", "a\u{1}b".to_owned()),
        ("newline", "a\nb".to_owned()),
        ("300 characters", "n".repeat(300)),
        ("surrounding space", " lead".to_owned()),
    ]
}

/// A path segment escaped for a URL.
fn escape(segment: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-_~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[allow(clippy::too_many_lines)] // one table
fn cases() -> Vec<Case> {
    let mut cases = vec![
        case(
            "malformed JSON",
            400,
            raw_json(
                "/api/v1/secrets?environment=prod",
                &format!(r#"{{"name": "ok", "value": "{MARK}"#),
            ),
        ),
        case(
            "JSON of the wrong shape (a string)",
            400,
            raw_json("/api/v1/secrets?environment=prod", &format!("\"{MARK}\"")),
        ),
        case(
            "JSON of the wrong shape (an array)",
            400,
            raw_json("/api/v1/secrets?environment=prod", &format!("[\"{MARK}\"]")),
        ),
        case(
            "value of the wrong type",
            400,
            write(json!({"name": "ok", "value": 987_654_321})),
        ),
        case(
            "value an object",
            400,
            write(json!({"name": "ok", "value": {"v": MARK}})),
        ),
        case(
            "name of the wrong type",
            400,
            write(json!({"name": [MARK], "value": MARK})),
        ),
        case("missing value", 400, write(json!({"name": "ok"}))),
        case("missing name", 400, write(json!({"value": MARK}))),
        case(
            "empty body",
            400,
            Req::new(Method::POST, "/api/v1/secrets?environment=prod")
                .raw("application/json", Vec::new()),
        ),
        case(
            "value of 1 MiB + 1",
            413,
            write(json!({"name": "big", "value": "x".repeat(MAX_VALUE + 1)})),
        ),
        case(
            "rotate to 1 MiB + 1",
            413,
            Req::post(
                "/api/v1/secrets/db/rotate?environment=prod",
                json!({"value": "x".repeat(MAX_VALUE + 1)}),
            ),
        ),
        case(
            "body over 8 MiB",
            413,
            raw_json(
                "/api/v1/secrets?environment=prod",
                &format!(
                    r#"{{"name": "big", "value": "{MARK}{}"}}"#,
                    "y".repeat(MAX_JSON_BODY)
                ),
            ),
        ),
        case(
            "batch value of 1 MiB + 1",
            413,
            Req::post(
                "/api/v1/batch",
                json!({"ops": [
                    {"op": "set", "scope": "env:prod", "name": "fine", "value": MARK},
                    {"op": "set", "scope": "env:prod", "name": "big", "value": "x".repeat(MAX_VALUE + 1)},
                ]}),
            ),
        ),
        case(
            "scope and environment together",
            400,
            Req::get("/api/v1/secrets?scope=shop&environment=prod"),
        ),
        case(
            "scope and environment together, on a write",
            400,
            Req::post(
                "/api/v1/secrets?scope=shop&environment=prod",
                json!({"name": "ok", "value": MARK}),
            ),
        ),
        case(
            "project without environment",
            400,
            Req::get("/api/v1/secrets?project=p"),
        ),
        case(
            "scope with project",
            400,
            Req::get("/api/v1/secrets?scope=shop&project=p"),
        ),
        case(
            "body scope and query scope differ",
            400,
            Req::post(
                "/api/v1/secrets?scope=shop",
                json!({"name": "ok", "value": MARK, "scope": "other"}),
            ),
        ),
        case(
            "invalid environment",
            400,
            Req::get("/api/v1/secrets?environment=a:b"),
        ),
        case(
            "invalid environment with slash",
            400,
            Req::get("/api/v1/secrets?environment=a%2Fb"),
        ),
        case("empty scope", 400, Req::get("/api/v1/secrets?scope=")),
        case(
            "the environment given twice",
            400,
            Req::get("/api/v1/secrets?environment=prod&environment=staging"),
        ),
        case(
            "the scope given twice",
            400,
            Req::get("/api/v1/secrets?scope=shop&scope=default"),
        ),
        case(
            "resolve of a field of a value that is not JSON",
            400,
            Req::post(
                "/api/v1/resolve",
                json!({"scope": "env:prod", "references": {"A": "$S:db/field"}}),
            ),
        ),
        case(
            "resolve of a missing field of a JSON value",
            404,
            Req::post(
                "/api/v1/resolve",
                json!({"scope": "env:prod", "references": {"A": "$S:json/absent"}}),
            ),
        ),
        case(
            "reveal not a boolean",
            400,
            Req::get("/api/v1/secrets/db?environment=prod&reveal=maybe"),
        ),
        case(
            "version not a number",
            400,
            Req::get("/api/v1/secrets/db/versions/abc?environment=prod"),
        ),
        case(
            "version that does not exist",
            404,
            Req::get("/api/v1/secrets/db/versions/99?environment=prod"),
        ),
        case(
            "rotate of a secret that does not exist",
            404,
            Req::post(
                "/api/v1/secrets/absent/rotate?environment=prod",
                json!({"value": MARK}),
            ),
        ),
        case(
            "rollback to a version that does not exist",
            404,
            Req::post(
                "/api/v1/secrets/db/rollback?environment=prod",
                json!({"to": 42}),
            ),
        ),
        case(
            "rollback to a negative version",
            400,
            Req::post(
                "/api/v1/secrets/db/rollback?environment=prod",
                json!({"to": -1}),
            ),
        ),
        case(
            "exclusive write of an existing secret",
            409,
            Req::post(
                "/api/v1/secrets?environment=prod&exclusive=true",
                json!({"name": "db", "value": MARK}),
            ),
        ),
        case(
            "GET of a secret that does not exist",
            404,
            Req::get("/api/v1/secrets/absent?environment=prod&reveal=true"),
        ),
        case(
            "DELETE of a secret that does not exist",
            404,
            Req::delete("/api/v1/secrets/absent?environment=prod"),
        ),
        case(
            "non-JSON content type",
            415,
            Req::new(Method::POST, "/api/v1/secrets?environment=prod").raw(
                "text/plain",
                format!(r#"{{"name": "ok", "value": "{MARK}"}}"#).into_bytes(),
            ),
        ),
        case(
            "no content type",
            415,
            Req::new(Method::POST, "/api/v1/secrets?environment=prod").raw(
                "",
                format!(r#"{{"name": "ok", "value": "{MARK}"}}"#).into_bytes(),
            ),
        ),
        case(
            "form content type on rotate",
            415,
            Req::new(Method::POST, "/api/v1/secrets/db/rotate?environment=prod")
                .raw("application/x-www-form-urlencoded", format!("value={MARK}")),
        ),
        case("unknown route", 404, Req::get("/api/v1/nope")),
        case("unknown route outside the API", 404, Req::get("/nope")),
        case(
            "unknown action of a secret",
            404,
            Req::post("/api/v1/secrets/db/frobnicate", json!({"value": MARK})),
        ),
        case(
            "wrong method on the list",
            405,
            Req::new(Method::PUT, "/api/v1/secrets").json(json!({"name": "ok", "value": MARK})),
        ),
        case(
            "wrong method on a secret",
            405,
            Req::new(Method::PATCH, "/api/v1/secrets/db?environment=prod")
                .json(json!({"value": MARK})),
        ),
        case(
            "wrong method on the token route",
            405,
            Req::get("/auth/token"),
        ),
        case(
            "wrong method on rotate",
            405,
            Req::get("/api/v1/secrets/db/rotate?environment=prod"),
        ),
        case(
            "values with an invalid name",
            400,
            Req::post(
                "/api/v1/secrets/values?environment=prod",
                json!({"names": ["db", "a/b"]}),
            ),
        ),
        case(
            "batch with an invalid name after a good operation",
            400,
            Req::post(
                "/api/v1/batch",
                json!({"ops": [
                    {"op": "set", "scope": "env:prod", "name": "fine", "value": MARK},
                    {"op": "set", "scope": "env:prod", "name": "a/b", "value": MARK},
                ]}),
            ),
        ),
        case(
            "batch with an unknown operation",
            400,
            Req::post(
                "/api/v1/batch",
                json!({"ops": [{"op": "explode", "scope": "env:prod", "name": "x", "value": MARK}]}),
            ),
        ),
        case(
            "batch into a reserved scope",
            400,
            Req::post(
                "/api/v1/batch",
                json!({"ops": [
                    {"op": "set", "scope": "env:prod", "name": "fine", "value": MARK},
                    {"op": "delete", "scope": "_zlayer/api_keys", "name": "anything"},
                ]}),
            ),
        ),
        case(
            "bulk import that is not UTF-8",
            400,
            Req::new(Method::POST, "/api/v1/secrets/bulk-import?environment=prod")
                .raw("text/plain", b"A=\xff\xfe\n".to_vec()),
        ),
        case(
            "bulk import with bad lines",
            400,
            Req::new(Method::POST, "/api/v1/secrets/bulk-import?environment=prod").raw(
                "text/plain",
                format!("GOOD={MARK}\nthis line has no equals sign\nALSO_GOOD={MARK}\n"),
            ),
        ),
        case(
            "resolve in an invalid scope",
            400,
            Req::post(
                "/api/v1/resolve",
                json!({"scope": "", "references": {"A": "$S:db"}}),
            ),
        ),
        case(
            "resolve of a malformed reference",
            400,
            Req::post(
                "/api/v1/resolve",
                json!({"scope": "env:prod", "references": {"A": "$S:bad name"}}),
            ),
        ),
        case(
            "resolve of a missing secret",
            404,
            Req::post(
                "/api/v1/resolve",
                json!({"scope": "env:prod", "references": {"A": "$S:absent"}}),
            ),
        ),
        case(
            "grant of an unknown level",
            400,
            Req::new(Method::PUT, "/api/v1/grants").json(json!({
                "subject": "user:carol", "environment": "prod", "level": "owner"
            })),
        ),
        case(
            "grant to an invalid environment",
            400,
            Req::new(Method::PUT, "/api/v1/grants").json(json!({
                "subject": "user:carol", "environment": "a:b", "level": "read"
            })),
        ),
        case(
            "grant to an invalid subject",
            400,
            Req::new(Method::PUT, "/api/v1/grants").json(json!({
                "subject": "robot:carol", "environment": "prod", "level": "read"
            })),
        ),
        case(
            "grants without environment",
            400,
            Req::get("/api/v1/grants"),
        ),
        case(
            "API key for an empty subject",
            400,
            Req::post("/api/v1/api-keys", json!({"subject": ""})),
        ),
        case(
            "API key for a subject with a control character",
            400,
            Req::post("/api/v1/api-keys", json!({"subject": "a\u{7}b"})),
        ),
        case(
            "API key that does not exist",
            404,
            Req::delete("/api/v1/api-keys/zk_absent"),
        ),
        case(
            "token request that is not JSON",
            400,
            raw_json("/auth/token", &format!("api_key=k&api_secret={MARK}")),
        ),
        case(
            "token request without a secret",
            400,
            Req::post("/auth/token", json!({"api_key": "zk_x"})),
        ),
    ];
    for scope in ["_zlayer/api_keys", "_zlayer/grants", "_zlayer"] {
        cases.push(case(
            format!("reserved scope {scope} listed"),
            400,
            Req::get(format!("/api/v1/secrets?scope={scope}")),
        ));
        cases.push(case(
            format!("reserved scope {scope} revealed"),
            400,
            Req::get(format!("/api/v1/secrets/reveal-all?scope={scope}")),
        ));
        cases.push(case(
            format!("reserved scope {scope} written"),
            400,
            Req::post(
                format!("/api/v1/secrets?scope={scope}"),
                json!({"name": "ok", "value": MARK}),
            ),
        ));
        cases.push(case(
            format!("reserved scope {scope} in the body"),
            400,
            Req::post(
                "/api/v1/secrets",
                json!({"name": "ok", "value": MARK, "scope": scope}),
            ),
        ));
        cases.push(case(
            format!("reserved scope {scope} resolved"),
            400,
            Req::post(
                "/api/v1/resolve",
                json!({"scope": scope, "references": {"A": "$S:anything"}}),
            ),
        ));
    }
    for (label, name) in bad_names() {
        cases.push(case(
            format!("write of an invalid name ({label})"),
            400,
            write(json!({"name": name, "value": MARK})),
        ));
        if !name.is_empty() && name != "." && name != ".." {
            let path = escape(&name);
            cases.push(case(
                format!("GET of an invalid name ({label})"),
                400,
                Req::get(format!(
                    "/api/v1/secrets/{path}?environment=prod&reveal=true"
                )),
            ));
            cases.push(case(
                format!("rotate of an invalid name ({label})"),
                400,
                Req::post(
                    format!("/api/v1/secrets/{path}/rotate?environment=prod"),
                    json!({"value": MARK}),
                ),
            ));
            cases.push(case(
                format!("DELETE of an invalid name ({label})"),
                400,
                Req::delete(format!("/api/v1/secrets/{path}?environment=prod")),
            ));
        }
        cases.push(case(
            format!("bulk import of an invalid name ({label})"),
            400,
            Req::new(Method::POST, "/api/v1/secrets/bulk-import").raw("application/json", {
                let mut object = serde_json::Map::new();
                object.insert(name.clone(), json!(MARK));
                serde_json::Value::Object(object).to_string().into_bytes()
            }),
        ));
    }
    // Refused authentications, each from an address of its own.
    for (label, authorization) in [
        ("basic authorization", "Basic dXNlcjpwYXNz".to_owned()),
        ("bearer garbage", format!("Bearer {MARK}")),
        ("bearer of three parts", "Bearer a.b.c".to_owned()),
        ("bearer too long", format!("Bearer {}", "a".repeat(10_000))),
    ] {
        let mut c = case(
            format!("request with {label}"),
            401,
            Req::get("/api/v1/secrets?environment=prod").authorization(&authorization),
        );
        c.probe = true;
        cases.push(c);
    }
    let mut wrong = case(
        "token request with a wrong secret",
        401,
        Req::post(
            "/auth/token",
            json!({"api_key": "zk_x", "api_secret": MARK}),
        ),
    );
    wrong.probe = true;
    cases.push(wrong);
    for c in &mut cases {
        if c.label.contains("wrong type") {
            "987654321".clone_into(&mut c.secret);
        }
    }
    cases
}

fn problems(reply: &Reply, case: &Case) -> Vec<String> {
    let mut out = Vec::new();
    if reply.status != case.status {
        out.push(format!(
            "status {} (expected {}): {:.200}",
            reply.status, case.status, reply.text
        ));
    }
    if let Err(problem) = reply.check_error() {
        out.push(problem);
    }
    if reply.text.contains(&case.secret) || reply.text.contains(MARK) {
        out.push(format!(
            "the answer holds the submitted value: {:.300}",
            reply.text
        ));
    }
    for value in VALUES {
        if reply.text.contains(value) {
            out.push(format!("the answer holds the stored value {value:?}"));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_json_4xx_that_changes_nothing() {
    let fx = fixture().await;
    fx.api
        .send(
            &Req::post(
                "/api/v1/secrets?environment=prod",
                json!({"name": "json", "value": json!({"password": MARK}).to_string()}),
            )
            .bearer(Some(&fx.admin)),
        )
        .await
        .expect(201);
    let snapshot = || async {
        (
            fx.api.snapshot(&fx.admin, SCOPES, ENVIRONMENTS).await,
            fx.dir.rows(),
        )
    };
    let before = snapshot().await;
    let mut failures = Vec::new();
    let all = cases();
    let count = all.len();
    for case in all {
        let client = if case.probe {
            fx.api.probe()
        } else {
            fx.api.clone()
        };
        let req = if case.probe || case.req.authorization.is_some() {
            case.req.clone()
        } else {
            case.req.clone().bearer(Some(&fx.admin))
        };
        let reply = match client.try_send(&req).await {
            Ok(reply) => reply,
            Err(e) => {
                failures.push(format!("{}: no answer: {e}", case.label));
                continue;
            }
        };
        for problem in problems(&reply, &case) {
            failures.push(format!("{}: {problem}", case.label));
        }
        if snapshot().await != before {
            failures.push(format!("{}: the store changed", case.label));
            break;
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems in {count} cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_over_the_limit_is_413() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let fx = fixture().await;
    let before = fx.dir.rows();
    let addr = fx.server.addr();
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let head = format!(
        "POST /api/v1/secrets?environment=prod HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: Bearer {}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        fx.admin
    );
    // No length announced: 9 MiB in chunks of 64 KiB, the server stopping whenever it likes.
    let sender = tokio::spawn(async move {
        write.write_all(head.as_bytes()).await?;
        let opening = format!(r#"{{"name": "big", "value": "{MARK}"#);
        let chunk = "z".repeat(64 * 1024);
        write
            .write_all(format!("{:x}\r\n{opening}\r\n", opening.len()).as_bytes())
            .await?;
        for _ in 0..(9 * 16) {
            write
                .write_all(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes())
                .await?;
        }
        write.write_all(b"2\r\n\"}\r\n0\r\n\r\n").await
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        read.read_to_end(&mut answer),
    )
    .await
    .expect("an answer");
    let _ = sender.await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:.500}");
    let (_, body) = answer.split_once("\r\n\r\n").unwrap();
    let doc: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:.300}"));
    assert!(doc["error"].is_string(), "{doc}");
    assert!(!body.contains(MARK));
    assert_eq!(fx.dir.rows(), before);
}
