//! The shapes of the original API's answers, exactly: clients written for it read ours.

use reqwest::Method;
use serde_json::{Value, json};

use crate::{Api, DataDir, Req};

/// The keys of a JSON object, sorted.
fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

const METADATA: [&str; 4] = ["created_at", "name", "updated_at", "version"];

#[track_caller]
fn assert_metadata(value: &Value, name: &str, version: u64) {
    assert_eq!(keys(value), METADATA, "{value}");
    assert_eq!(value["name"], name);
    assert_eq!(value["version"], version);
    assert!(
        value["created_at"].as_i64().unwrap() > 1_600_000_000,
        "{value}"
    );
    assert!(
        value["updated_at"].as_i64().unwrap() >= value["created_at"].as_i64().unwrap(),
        "{value}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::too_many_lines)] // one walk through the original routes
async fn answers_have_the_original_shapes() {
    let dir = DataDir::new();
    let key = dir.api_key("root", &["admin"], &[]);
    let server = dir.serve(&[]);
    let api = Api::new(&server);

    // POST /auth/token.
    let token = api
        .send(&Req::post(
            "/auth/token",
            json!({"api_key": key.id, "api_secret": key.secret}),
        ))
        .await
        .expect(200);
    assert_eq!(keys(&token), ["access_token", "expires_in", "token_type"]);
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 3600);
    let t = token["access_token"].as_str().unwrap().to_owned();
    assert_eq!(t.split('.').count(), 3, "a JWT: {t}");
    let t = Some(t.as_str());

    // GET /health, no token.
    let health = api.send(&Req::get("/health")).await.expect(200);
    assert_eq!(health["status"], "ok");

    // An empty list is `[]`.
    let list = api
        .send(&Req::get("/api/v1/secrets?environment=prod").bearer(t))
        .await
        .expect(200);
    assert_eq!(list, json!([]));

    // POST: 201 when created, then 200; the answer is metadata without the value.
    let created = api
        .send(
            &Req::post(
                "/api/v1/secrets?environment=prod",
                json!({"name": "db", "value": "first"}),
            )
            .bearer(t),
        )
        .await;
    let body = created.expect(201);
    assert!(created.content_type.starts_with("application/json"));
    assert_metadata(&body, "db", 1);
    let updated = api
        .send(
            &Req::post(
                "/api/v1/secrets?environment=prod",
                json!({"name": "db", "value": "second"}),
            )
            .bearer(t),
        )
        .await
        .expect(200);
    assert_metadata(&updated, "db", 2);
    assert_eq!(updated["created_at"], body["created_at"]);
    api.send(
        &Req::post(
            "/api/v1/secrets?environment=prod",
            json!({"name": "api", "value": "a-value"}),
        )
        .bearer(t),
    )
    .await
    .expect(201);

    // The list: metadata of each, by name, never a value.
    let list = api
        .send(&Req::get("/api/v1/secrets?environment=prod").bearer(t))
        .await
        .expect(200);
    let items = list.as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_metadata(&items[0], "api", 1);
    assert_metadata(&items[1], "db", 2);

    // GET: metadata; the value only with reveal=true (reveal=false is metadata too).
    for query in ["", "&reveal=false"] {
        let meta = api
            .send(&Req::get(format!("/api/v1/secrets/db?environment=prod{query}")).bearer(t))
            .await
            .expect(200);
        assert_metadata(&meta, "db", 2);
    }
    let revealed = api
        .send(&Req::get("/api/v1/secrets/db?environment=prod&reveal=true").bearer(t))
        .await
        .expect(200);
    assert_eq!(
        keys(&revealed),
        ["created_at", "name", "updated_at", "value", "version"]
    );
    assert_eq!(revealed["value"], "second");
    assert_eq!(revealed["version"], 2);

    // Rotate: {name, previous_version, new_version}.
    let rotated = api
        .send(
            &Req::post(
                "/api/v1/secrets/db/rotate?environment=prod",
                json!({"value": "third"}),
            )
            .bearer(t),
        )
        .await
        .expect(200);
    assert_eq!(
        rotated,
        json!({"name": "db", "previous_version": 2, "new_version": 3})
    );
    let rolled = api
        .send(
            &Req::post(
                "/api/v1/secrets/db/rollback?environment=prod",
                json!({"to": 1}),
            )
            .bearer(t),
        )
        .await
        .expect(200);
    assert_eq!(
        rolled,
        json!({"name": "db", "previous_version": 3, "new_version": 4})
    );
    let old = api
        .send(&Req::get("/api/v1/secrets/db/versions/2?environment=prod").bearer(t))
        .await
        .expect(200);
    assert_eq!(
        keys(&old),
        ["created_at", "name", "updated_at", "value", "version"]
    );
    assert_eq!(
        (old["value"].as_str(), old["version"].as_u64()),
        (Some("second"), Some(2))
    );
    let current = api
        .send(&Req::get("/api/v1/secrets/db?environment=prod&reveal=true").bearer(t))
        .await
        .expect(200);
    assert_eq!(
        current["value"], "first",
        "the rollback wrote version 1's value"
    );
    let versions = api
        .send(&Req::get("/api/v1/secrets/db/versions?environment=prod").bearer(t))
        .await
        .expect(200);
    assert_eq!(versions["name"], "db");
    let listed: Vec<u64> = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect();
    assert_eq!(listed, [1, 2, 3, 4]);

    // Reveal-all: {environment, secrets}.
    let all = api
        .send(&Req::get("/api/v1/secrets/reveal-all?environment=prod").bearer(t))
        .await
        .expect(200);
    assert_eq!(
        all,
        json!({"environment": "prod", "secrets": {"api": "a-value", "db": "first"}})
    );

    // DELETE: 204 with no body, then 404 with an error.
    let deleted = api
        .send(&Req::delete("/api/v1/secrets/api?environment=prod").bearer(t))
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    assert!(deleted.text.is_empty(), "{}", deleted.text);
    let again = api
        .send(&Req::delete("/api/v1/secrets/api?environment=prod").bearer(t))
        .await;
    assert_eq!(again.status, 404);
    assert_eq!(keys(&again.json()), ["error"]);
    let gone = api
        .send(&Req::get("/api/v1/secrets/api?environment=prod").bearer(t))
        .await;
    assert_eq!(gone.status, 404);
}

fn import(body: &str) -> Req {
    Req::new(Method::POST, "/api/v1/secrets/bulk-import?environment=prod")
        .raw("text/plain", body.as_bytes().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_import_counts_and_is_all_or_nothing() {
    let dir = DataDir::new();
    let key = dir.api_key("root", &["admin"], &[]);
    let server = dir.serve(&[]);
    let api = Api::new(&server);
    let t = api.token(&key).await;
    let t = Some(t.as_str());

    let first = api
        .send(&import("A=1\nB=2\n# a comment\n\nexport C=\"three\"\n").bearer(t))
        .await
        .expect(200);
    assert_eq!(keys(&first), ["created", "errors", "unchanged", "updated"]);
    assert_eq!(
        first,
        json!({"created": 3, "updated": 0, "unchanged": 0, "errors": []})
    );
    let second = api
        .send(&import("A=1\nB=changed\nD=4\n").bearer(t))
        .await
        .expect(200);
    assert_eq!(
        second,
        json!({"created": 1, "updated": 1, "unchanged": 1, "errors": []})
    );

    // One bad line or more: 400, every bad line listed, nothing written.
    let before = dir.rows();
    let refused = api
        .send(
            &import("A=new-a\nnot a line\nE=5\nB=new-b\n'unterminated=\nF=6\nE=e-twice\n")
                .bearer(t),
        )
        .await;
    let body = refused.expect(400);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("nothing was written"),
        "{body}"
    );
    let errors: Vec<&str> = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors list: {body}"))
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(errors.len() >= 2, "{errors:?}");
    assert!(
        errors.iter().any(|e| e.contains('2')),
        "line 2 named: {errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains('5')),
        "line 5 named: {errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.starts_with("line 7")),
        "the repeated key of line 7 named: {errors:?}"
    );
    for e in &errors {
        for value in ["new-a", "new-b", "e-twice"] {
            assert!(!e.contains(value), "an error holds a value: {e}");
        }
    }
    assert_eq!(body["created"], 0);
    assert_eq!(body["updated"], 0);
    assert_eq!(dir.rows(), before, "the refused import wrote something");

    // A name defined twice: refused, naming both places.
    let twice = api.send(&import("G=1\nG=2\n").bearer(t)).await.expect(400);
    assert_eq!(twice["errors"].as_array().unwrap().len(), 1, "{twice}");
    assert_eq!(dir.rows(), before);

    let all = api
        .send(&Req::get("/api/v1/secrets/reveal-all?environment=prod").bearer(t))
        .await
        .expect(200);
    assert_eq!(
        all["secrets"],
        json!({"A": "1", "B": "changed", "C": "three", "D": "4"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_content_type_with_parameters_is_json() {
    let dir = DataDir::new();
    let key = dir.api_key("root", &["admin"], &[]);
    let server = dir.serve(&[]);
    let api = Api::new(&server);
    let t = api.token(&key).await;
    let reply = api
        .send(
            &Req::new(Method::POST, "/api/v1/secrets?environment=prod")
                .raw(
                    "application/json; charset=utf-8",
                    br#"{"name": "db", "value": "v"}"#.to_vec(),
                )
                .bearer(Some(&t)),
        )
        .await;
    assert_metadata(&reply.expect(201), "db", 1);
}

/// Every name a write accepts can be read, revealed and deleted through the API, even one
/// spelled like a fixed route under `/api/v1/secrets/`; a name the API could not serve
/// would have to be refused when written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_spelled_like_routes_are_served_or_refused() {
    let dir = DataDir::new();
    let key = dir.api_key("root", &["admin"], &[]);
    let server = dir.serve(&[]);
    let api = Api::new(&server);
    let t = api.token(&key).await;
    let t = Some(t.as_str());
    let mut failures = Vec::new();
    for name in ["reveal-all", "values", "bulk-import", "versions", "rotate"] {
        let value = format!("value of {name}");
        let written = api
            .send(
                &Req::post(
                    "/api/v1/secrets?environment=prod",
                    json!({"name": name, "value": value}),
                )
                .bearer(t),
            )
            .await;
        if written.status == 400 {
            continue;
        }
        if written.status != 201 {
            failures.push(format!("{name}: written with {}", written.status));
            continue;
        }
        let read = api
            .send(
                &Req::get(format!(
                    "/api/v1/secrets/{name}?environment=prod&reveal=true"
                ))
                .bearer(t),
            )
            .await;
        if read.status != 200 || read.json()["value"] != value.as_str() {
            failures.push(format!(
                "{name}: accepted, but GET /api/v1/secrets/{name}?reveal=true answers {} {:.120}",
                read.status, read.text
            ));
        }
        let deleted = api
            .send(&Req::delete(format!("/api/v1/secrets/{name}?environment=prod")).bearer(t))
            .await;
        if deleted.status != 204 {
            failures.push(format!(
                "{name}: accepted, but DELETE /api/v1/secrets/{name} answers {} {:.120}",
                deleted.status, deleted.text
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// All or nothing, and every bad line named at once: lines that do not parse and lines
/// whose name is invalid, together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_import_names_every_bad_line() {
    let dir = DataDir::new();
    let key = dir.api_key("root", &["admin"], &[]);
    let server = dir.serve(&[]);
    let api = Api::new(&server);
    let t = api.token(&key).await;
    let before = dir.rows();
    let body = api
        .send(&import("a/b=x\nnot a line\nGOOD=1\nGOOD=2\n").bearer(Some(&t)))
        .await
        .expect(400);
    let errors: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    for line in ["line 1", "line 2", "line 4"] {
        assert!(
            errors.iter().any(|e| e.starts_with(line)),
            "{line} is not named: {errors:?}"
        );
    }
    assert_eq!(dir.rows(), before);
}
