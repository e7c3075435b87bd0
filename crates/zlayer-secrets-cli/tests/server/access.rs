//! Who may do what: every route against every kind of caller, the store unchanged after
//! every refusal; revokes and deleted keys taking effect at once; a server without an admin
//! key refusing everything.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::{Api, DataDir, Key, Reply, Req, claims, hs256, now, sign};

/// The callers of the matrix, in the order of its columns (admin last, so that what the
/// others fail to change is still there when they try).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    /// A key whose user has `write` on environment `prod`.
    Write,
    /// `execute` on `prod`.
    Execute,
    /// `read` on `prod`.
    Read,
    /// A key with no grant at all.
    NoGrant,
    /// No `Authorization` header.
    NoToken,
    /// The writer's token, expired (signed with the server's key).
    Expired,
    /// The writer's claims signed with another key.
    OtherKey,
    /// The writer's claims under `alg: none`, unsigned.
    AlgNone,
    /// The writer's real token with its claims changed to role admin.
    Tampered,
    /// Role admin.
    Admin,
}

pub(crate) const WHO: [Who; 10] = [
    Who::Write,
    Who::Execute,
    Who::Read,
    Who::NoGrant,
    Who::NoToken,
    Who::Expired,
    Who::OtherKey,
    Who::AlgNone,
    Who::Tampered,
    Who::Admin,
];

impl Who {
    /// Whether the caller holds a valid token of an existing key.
    fn keyed(self) -> bool {
        matches!(
            self,
            Self::Write | Self::Execute | Self::Read | Self::NoGrant | Self::Admin
        )
    }

    fn slug(self) -> &'static str {
        match self {
            Self::Write => "write",
            Self::Execute => "execute",
            Self::Read => "read",
            Self::NoGrant => "nogrant",
            Self::NoToken => "notoken",
            Self::Expired => "expired",
            Self::OtherKey => "otherkey",
            Self::AlgNone => "algnone",
            Self::Tampered => "tampered",
            Self::Admin => "admin",
        }
    }
}

/// The expected statuses of a route for keys of each level and for admin; every caller
/// without a valid token gets 401.
const fn by_level(write: u16, execute: u16, read: u16, none: u16, admin: u16) -> [u16; 10] {
    [write, execute, read, none, 401, 401, 401, 401, 401, admin]
}

/// Only admin: 403 for every other key.
const fn admin_only(admin: u16) -> [u16; 10] {
    by_level(403, 403, 403, 403, admin)
}

/// The keys and tokens of a matrix run.
pub(crate) struct Ctx {
    pub(crate) keys: Vec<(Who, Key)>,
    pub(crate) tokens: Vec<(Who, Option<String>)>,
    /// An API key the admin deletes.
    pub(crate) spare: String,
}

impl Ctx {
    fn key(&self, who: Who) -> Option<&Key> {
        self.keys.iter().find(|(w, _)| *w == who).map(|(_, k)| k)
    }

    pub(crate) fn token(&self, who: Who) -> Option<String> {
        self.tokens
            .iter()
            .find(|(w, _)| *w == who)
            .and_then(|(_, t)| t.clone())
    }
}

/// How a row makes its request for a caller.
pub(crate) type Build = Box<dyn Fn(&Ctx, Who) -> Req>;

/// One route of the matrix.
pub(crate) struct Row {
    pub(crate) label: &'static str,
    pub(crate) req: Build,
    pub(crate) expect: [u16; 10],
}

fn row(label: &'static str, expect: [u16; 10], req: impl Fn(&Ctx, Who) -> Req + 'static) -> Row {
    Row {
        label,
        req: Box::new(req),
        expect,
    }
}

const PROD: &str = "environment=prod";

/// Every route, and the non-environment scopes, with what each caller gets.
#[allow(clippy::too_many_lines)] // one table
pub(crate) fn rows() -> Vec<Row> {
    vec![
        row("GET /health", [200; 10], |_, _| Req::get("/health")),
        row(
            "POST /auth/token (own key; others a wrong secret)",
            [200, 200, 200, 200, 401, 401, 401, 401, 401, 200],
            |ctx, who| {
                let body = match ctx.key(who) {
                    Some(k) => json!({"api_key": k.id, "api_secret": k.secret}),
                    None => json!({
                        "api_key": ctx.key(Who::Write).map(|k| k.id.clone()),
                        "api_secret": "not-the-secret",
                    }),
                };
                Req::post("/auth/token", body)
            },
        ),
        row("GET whoami", by_level(200, 200, 200, 200, 200), |_, _| {
            Req::get("/api/v1/whoami")
        }),
        row("GET list", by_level(200, 200, 200, 403, 200), |_, _| {
            Req::get(format!("/api/v1/secrets?{PROD}"))
        }),
        row("GET metadata", by_level(200, 200, 200, 403, 200), |_, _| {
            Req::get(format!("/api/v1/secrets/db?{PROD}"))
        }),
        row("GET reveal", by_level(200, 200, 403, 403, 200), |_, _| {
            Req::get(format!("/api/v1/secrets/db?{PROD}&reveal=true"))
        }),
        row(
            "POST write (new)",
            by_level(201, 403, 403, 403, 201),
            |_, who| {
                Req::post(
                    format!("/api/v1/secrets?{PROD}"),
                    json!({"name": format!("new-{}", who.slug()), "value": "written"}),
                )
            },
        ),
        row(
            "POST write (existing)",
            by_level(200, 403, 403, 403, 200),
            |_, _| {
                Req::post(
                    format!("/api/v1/secrets?{PROD}"),
                    json!({"name": "api", "value": "api-overwritten"}),
                )
            },
        ),
        row(
            "POST write exclusive",
            by_level(201, 403, 403, 403, 201),
            |_, who| {
                Req::post(
                    format!("/api/v1/secrets?{PROD}&exclusive=true"),
                    json!({"name": format!("excl-{}", who.slug()), "value": "written"}),
                )
            },
        ),
        row(
            "POST rotate",
            by_level(200, 403, 403, 403, 200),
            |_, who| {
                Req::post(
                    format!("/api/v1/secrets/db/rotate?{PROD}"),
                    json!({"value": format!("db-rotated-by-{}", who.slug())}),
                )
            },
        ),
        row(
            "POST rollback",
            by_level(200, 403, 403, 403, 200),
            |_, _| {
                Req::post(
                    format!("/api/v1/secrets/db/rollback?{PROD}"),
                    json!({"to": 1}),
                )
            },
        ),
        row("GET versions", by_level(200, 200, 200, 403, 200), |_, _| {
            Req::get(format!("/api/v1/secrets/db/versions?{PROD}"))
        }),
        row(
            "GET version 1",
            by_level(200, 200, 403, 403, 200),
            |_, _| Req::get(format!("/api/v1/secrets/db/versions/1?{PROD}")),
        ),
        row(
            "POST bulk-import",
            by_level(200, 403, 403, 403, 200),
            |_, who| {
                Req::new(Method::POST, format!("/api/v1/secrets/bulk-import?{PROD}")).raw(
                    "text/plain",
                    format!("IMPORTED_{}=imported\n", who.slug().to_uppercase()),
                )
            },
        ),
        row(
            "GET reveal-all",
            by_level(200, 200, 403, 403, 200),
            |_, _| Req::get(format!("/api/v1/secrets/reveal-all?{PROD}")),
        ),
        row("POST values", by_level(200, 200, 403, 403, 200), |_, _| {
            Req::post(
                format!("/api/v1/secrets/values?{PROD}"),
                json!({"names": ["db", "api"]}),
            )
        }),
        row("POST batch", by_level(200, 403, 403, 403, 200), |_, who| {
            Req::post(
                "/api/v1/batch",
                json!({"ops": [
                    {"op": "set", "scope": "env:prod", "name": format!("batched-{}", who.slug()), "value": "b"},
                    {"op": "delete", "scope": "env:prod", "name": "absent"},
                ]}),
            )
        }),
        row("POST resolve", by_level(200, 200, 403, 403, 200), |_, _| {
            Req::post(
                "/api/v1/resolve",
                json!({"scope": "env:prod", "references": {"DB": "$S:db", "PLAIN": "text"}}),
            )
        }),
        row(
            "DELETE secret",
            by_level(204, 403, 403, 403, 204),
            |_, who| Req::delete(format!("/api/v1/secrets/victim-{}?{PROD}", who.slug())),
        ),
        // Scopes that are not environments: admin only, whatever the grants.
        row("GET list ?scope=shop", admin_only(200), |_, _| {
            Req::get("/api/v1/secrets?scope=shop")
        }),
        row("GET list (default scope)", admin_only(200), |_, _| {
            Req::get("/api/v1/secrets")
        }),
        row("GET reveal ?scope=shop", admin_only(200), |_, _| {
            Req::get("/api/v1/secrets/stripe?scope=shop&reveal=true")
        }),
        row("POST write ?scope=shop", admin_only(201), |_, who| {
            Req::post(
                "/api/v1/secrets?scope=shop",
                json!({"name": format!("shop-{}", who.slug()), "value": "s"}),
            )
        }),
        row("POST write, body scope shop", admin_only(201), |_, who| {
            Req::post(
                "/api/v1/secrets",
                json!({"name": format!("body-{}", who.slug()), "value": "s", "scope": "shop"}),
            )
        }),
        row("GET reveal-all ?scope=shop", admin_only(200), |_, _| {
            Req::get("/api/v1/secrets/reveal-all?scope=shop")
        }),
        row("POST values ?scope=shop", admin_only(200), |_, _| {
            Req::post(
                "/api/v1/secrets/values?scope=shop",
                json!({"names": ["stripe"]}),
            )
        }),
        row("POST resolve in scope shop", admin_only(200), |_, _| {
            Req::post(
                "/api/v1/resolve",
                json!({"scope": "shop", "references": {"S": "$S:stripe"}}),
            )
        }),
        row(
            "POST resolve into another environment",
            admin_only(200),
            |_, _| {
                Req::post(
                    "/api/v1/resolve",
                    json!({"scope": "env:prod", "references": {"S": "$S::staging/stage-db"}}),
                )
            },
        ),
        row(
            "POST batch into prod and shop",
            admin_only(200),
            |_, who| {
                Req::post(
                    "/api/v1/batch",
                    json!({"ops": [
                        {"op": "set", "scope": "env:prod", "name": format!("mixed-{}", who.slug()), "value": "m"},
                        {"op": "set", "scope": "shop", "name": format!("mixed-{}", who.slug()), "value": "m"},
                    ]}),
                )
            },
        ),
        row("DELETE ?scope=shop", admin_only(204), |_, _| {
            Req::delete("/api/v1/secrets/stripe-old?scope=shop")
        }),
        // An environment of a project is not the environment of the same name.
        row(
            "GET list ?environment=prod&project=p",
            admin_only(200),
            |_, _| Req::get("/api/v1/secrets?environment=prod&project=p"),
        ),
        row("GET list ?environment=staging", admin_only(200), |_, _| {
            Req::get("/api/v1/secrets?environment=staging")
        }),
        row(
            "POST write ?environment=staging",
            admin_only(201),
            |_, who| {
                Req::post(
                    "/api/v1/secrets?environment=staging",
                    json!({"name": format!("staged-{}", who.slug()), "value": "s"}),
                )
            },
        ),
        // Grants and API keys: admin only.
        row("GET grants", admin_only(200), |_, _| {
            Req::get("/api/v1/grants?environment=prod")
        }),
        row("PUT grant", admin_only(200), |_, _| {
            Req::new(Method::PUT, "/api/v1/grants").json(json!({
                "subject": "user:carol", "environment": "prod", "level": "execute"
            }))
        }),
        row("PUT grant to oneself", admin_only(200), |ctx, who| {
            let subject = ctx.key(who).map_or_else(
                || "user:nobody".to_owned(),
                |k| format!("user:{}", k.subject),
            );
            Req::new(Method::PUT, "/api/v1/grants").json(json!({
                "subject": subject, "environment": "staging", "level": "write"
            }))
        }),
        row("DELETE grant", admin_only(200), |_, _| {
            Req::delete("/api/v1/grants?subject=user:carol&environment=prod")
        }),
        row("GET api-keys", admin_only(200), |_, _| {
            Req::get("/api/v1/api-keys")
        }),
        row("POST api-keys", admin_only(201), |_, _| {
            Req::post(
                "/api/v1/api-keys",
                json!({"subject": "dave", "roles": ["admin"]}),
            )
        }),
        row("DELETE api-key", admin_only(204), |ctx, _| {
            Req::delete(format!("/api/v1/api-keys/{}", ctx.spare))
        }),
    ]
}

/// The scopes and environments an admin snapshot covers.
pub(crate) const SCOPES: &[&str] = &[
    "env:prod",
    "env:staging",
    "project:p:env:prod",
    "shop",
    "default",
];
pub(crate) const ENVIRONMENTS: &[&str] = &["prod", "staging"];

/// The values the fixtures hold; no error answer may contain one.
pub(crate) const VALUES: &[&str] = &[
    "db-value-1",
    "api-value",
    "stripe-value",
    "plain-value",
    "staging-value",
    "project-value",
    "victim-value",
];

/// A server with the matrix' keys, grants and secrets.
pub(crate) struct Fixture {
    pub(crate) dir: DataDir,
    pub(crate) server: zlayer_secrets_testsupport::server::ServerProcess,
    pub(crate) api: Api,
    pub(crate) ctx: Ctx,
    pub(crate) admin: String,
}

#[allow(clippy::too_many_lines)] // one straight sequence: keys, grants, secrets, tokens
pub(crate) async fn fixture() -> Fixture {
    let dir = DataDir::new();
    let admin_key = dir.api_key("root", &["admin"], &[]);
    let mut keys = vec![(Who::Admin, admin_key)];
    for (who, name, level) in [
        (Who::Write, "wendy", Some("write")),
        (Who::Execute, "xavier", Some("execute")),
        (Who::Read, "rita", Some("read")),
        (Who::NoGrant, "nora", None),
    ] {
        keys.push((who, dir.api_key(name, &[], &[])));
        if let Some(level) = level {
            dir.grant(name, "prod", level);
        }
    }
    dir.grant("carol", "prod", "read");
    let spare = dir.api_key("spare", &[], &[]).id;
    let server = dir.serve(&[]);
    let api = Api::new(&server);
    let mut tokens = Vec::new();
    for (who, key) in &keys {
        tokens.push((*who, Some(api.token(key).await)));
    }
    let admin = tokens[0].1.clone().unwrap();
    let writer = keys
        .iter()
        .find(|(w, _)| *w == Who::Write)
        .unwrap()
        .1
        .clone();
    let server_key = dir.token_key();
    let live = claims(&writer, &[], now() + 3600);
    tokens.push((Who::NoToken, None));
    tokens.push((
        Who::Expired,
        Some(sign(
            &hs256(),
            &claims(&writer, &[], now() - 10),
            &server_key,
        )),
    ));
    tokens.push((Who::OtherKey, Some(sign(&hs256(), &live, &[7u8; 32]))));
    let unsigned = sign(&json!({"alg": "none", "typ": "JWT"}), &live, &server_key);
    let (head_and_body, _) = unsigned.rsplit_once('.').unwrap();
    tokens.push((Who::AlgNone, Some(format!("{head_and_body}."))));
    let real = tokens
        .iter()
        .find(|(w, _)| *w == Who::Write)
        .and_then(|(_, t)| t.clone())
        .unwrap();
    let forged = sign(
        &hs256(),
        &claims(&writer, &["admin"], now() + 3600),
        &[0u8; 32],
    );
    let parts: Vec<&str> = real.split('.').collect();
    let forged_body = forged.split('.').nth(1).unwrap();
    tokens.push((
        Who::Tampered,
        Some(format!("{}.{forged_body}.{}", parts[0], parts[2])),
    ));

    for (query, name, value) in [
        ("environment=prod", "db", "db-value-1"),
        ("environment=prod", "api", "api-value"),
        ("scope=shop", "stripe", "stripe-value"),
        ("scope=shop", "stripe-old", "stripe-value"),
        ("", "plain", "plain-value"),
        ("environment=staging", "stage-db", "staging-value"),
        ("environment=prod&project=p", "pdb", "project-value"),
    ] {
        api.send(
            &Req::post(
                format!("/api/v1/secrets?{query}"),
                json!({"name": name, "value": value}),
            )
            .bearer(Some(&admin)),
        )
        .await
        .expect(201);
    }
    for who in WHO {
        api.send(
            &Req::post(
                format!("/api/v1/secrets?{PROD}"),
                json!({"name": format!("victim-{}", who.slug()), "value": "victim-value"}),
            )
            .bearer(Some(&admin)),
        )
        .await
        .expect(201);
    }
    Fixture {
        dir,
        server,
        api,
        ctx: Ctx {
            keys,
            tokens,
            spare,
        },
        admin,
    }
}

impl Fixture {
    async fn state(&self) -> (Value, Vec<(String, String, i64, i64, i64)>) {
        (
            self.api.snapshot(&self.admin, SCOPES, ENVIRONMENTS).await,
            self.dir.rows(),
        )
    }
}

/// What is wrong with an error answer: not JSON `{"error"}`, or holding a value or the token
/// it was sent with.
fn error_problems(reply: &Reply, token: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    if let Err(problem) = reply.check_error() {
        out.push(problem);
    }
    for value in VALUES {
        if reply.text.contains(value) {
            out.push(format!("the answer holds the value {value:?}"));
        }
    }
    if let Some(token) = token
        && reply.text.contains(token)
    {
        out.push("the answer holds the bearer token".to_owned());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_for_every_caller() {
    let fx = fixture().await;
    let mut failures = Vec::new();
    let mut state = fx.state().await;
    for row in rows() {
        for (column, who) in WHO.into_iter().enumerate() {
            let token = fx.ctx.token(who);
            let req = (row.req)(&fx.ctx, who).bearer(token.as_deref());
            let client = if who.keyed() {
                fx.api.clone()
            } else {
                fx.api.probe()
            };
            let reply = client.send(&req).await;
            let want = row.expect[column];
            let cell = format!("{} as {who:?}", row.label);
            if reply.status != want {
                failures.push(format!(
                    "{cell}: {} (expected {want}): {:.200}",
                    reply.status, reply.text
                ));
            }
            if reply.status >= 400 {
                for problem in error_problems(&reply, token.as_deref()) {
                    failures.push(format!("{cell}: {problem}"));
                }
                let after = fx.state().await;
                if after != state {
                    failures.push(format!("{cell}: the refused request changed the store"));
                    state = after;
                }
            } else {
                state = fx.state().await;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cells wrong:\n{}",
        failures.len(),
        rows().len() * WHO.len(),
        failures.join("\n")
    );
    // The refusals never blocked the callers' own address.
    fx.api
        .send(&Req::get("/api/v1/whoami").bearer(Some(&fx.admin)))
        .await
        .expect(200);
}

async fn status(api: &Api, req: Req, token: &str) -> u16 {
    api.send(&req.bearer(Some(token))).await.status
}

fn reveal_db() -> Req {
    Req::get(format!("/api/v1/secrets/db?{PROD}&reveal=true"))
}

fn list_prod() -> Req {
    Req::get(format!("/api/v1/secrets?{PROD}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoke_takes_effect_on_the_next_request() {
    let fx = fixture().await;
    let x = fx.ctx.token(Who::Execute).unwrap();
    assert_eq!(status(&fx.api, reveal_db(), &x).await, 200);
    // Revoked with the CLI, beside the running server: the same token, refused at once.
    fx.dir.cli(&["revoke", "xavier", "--env", "prod"]).ok();
    assert_eq!(status(&fx.api, reveal_db(), &x).await, 403);
    assert_eq!(status(&fx.api, list_prod(), &x).await, 403);
    // Granted `read` over the API: listing comes back, values do not.
    let grant = Req::new(Method::PUT, "/api/v1/grants").json(json!({
        "subject": "user:xavier", "environment": "prod", "level": "read"
    }));
    fx.api
        .send(&grant.bearer(Some(&fx.admin)))
        .await
        .expect(200);
    assert_eq!(status(&fx.api, list_prod(), &x).await, 200);
    assert_eq!(status(&fx.api, reveal_db(), &x).await, 403);
    // Revoked over the API.
    let revoke = fx
        .api
        .send(
            &Req::delete("/api/v1/grants?subject=user:xavier&environment=prod")
                .bearer(Some(&fx.admin)),
        )
        .await
        .expect(200);
    assert_eq!(revoke["revoked"], "read");
    assert_eq!(status(&fx.api, list_prod(), &x).await, 403);
    // A second revoke finds nothing.
    fx.api
        .send(
            &Req::delete("/api/v1/grants?subject=user:xavier&environment=prod")
                .bearer(Some(&fx.admin)),
        )
        .await
        .error_text();

    // A group's grant applies to its members, and its revoke too.
    let member = fx.dir.api_key("gina", &[], &["ops"]);
    let g = fx.api.token(&member).await;
    assert_eq!(status(&fx.api, reveal_db(), &g).await, 403);
    fx.dir.grant("group:ops", "prod", "execute");
    assert_eq!(status(&fx.api, reveal_db(), &g).await, 200);
    fx.dir.cli(&["revoke", "group:ops", "--env", "prod"]).ok();
    assert_eq!(status(&fx.api, reveal_db(), &g).await, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_api_key_voids_its_tokens_at_once() {
    let fx = fixture().await;
    let w = fx.ctx.token(Who::Write).unwrap();
    let writer = fx.ctx.key(Who::Write).unwrap().clone();
    assert_eq!(status(&fx.api, list_prod(), &w).await, 200);
    fx.api
        .send(&Req::delete(format!("/api/v1/api-keys/{}", writer.id)).bearer(Some(&fx.admin)))
        .await
        .expect(204);
    let probe = fx.api.probe();
    let refused = probe.send(&list_prod().bearer(Some(&w))).await;
    assert_eq!(refused.status, 401, "{}", refused.text);
    // Its secret no longer gives a token either.
    let again = probe
        .send(&Req::post(
            "/auth/token",
            json!({"api_key": writer.id, "api_secret": writer.secret}),
        ))
        .await;
    assert_eq!(again.status, 401, "{}", again.text);
    // Deleting it again: 404.
    fx.api
        .send(&Req::delete(format!("/api/v1/api-keys/{}", writer.id)).bearer(Some(&fx.admin)))
        .await
        .expect(404);

    // `api-key rm` on the server's host, beside the running server.
    let r = fx.ctx.token(Who::Read).unwrap();
    let reader = fx.ctx.key(Who::Read).unwrap();
    assert_eq!(status(&fx.api, list_prod(), &r).await, 200);
    fx.dir.cli(&["api-key", "rm", &reader.id]).ok();
    let refused = fx.api.probe().send(&list_prod().bearer(Some(&r))).await;
    assert_eq!(refused.status, 401, "{}", refused.text);
    // Other keys are unaffected.
    let x = fx.ctx.token(Who::Execute).unwrap();
    assert_eq!(status(&fx.api, reveal_db(), &x).await, 200);
    drop(fx.server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_an_admin_key_refuses_every_request() {
    let dir = DataDir::new();
    let server = dir.serve(&[]);
    assert!(
        server.stderr().contains("no API key has role admin"),
        "stderr: {}",
        server.stderr()
    );
    let api = Api::new(&server);
    let health = api.send(&Req::get("/health")).await.expect(200);
    assert_eq!(health["ready"], false);
    // A key made beside the running server gets a token, and nothing with it.
    let bob = dir.api_key("bob", &[], &[]);
    dir.grant("bob", "prod", "write");
    let token = api.token(&bob).await;
    let ctx = Ctx {
        keys: vec![(Who::Write, bob.clone())],
        tokens: vec![(Who::Write, Some(token.clone()))],
        spare: bob.id.clone(),
    };
    let before = dir.rows();
    let mut failures = Vec::new();
    for row in rows() {
        let req = (row.req)(&ctx, Who::Write).bearer(Some(&token));
        if !req.path.starts_with("/api/v1/") {
            continue;
        }
        let reply = api.send(&req).await;
        match reply.check_error() {
            Ok(text) if reply.status == 403 && text.contains("no admin API key") => {}
            _ => failures.push(format!(
                "{}: {} {:.200}",
                row.label, reply.status, reply.text
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(dir.rows(), before, "a refused request changed the store");

    // An admin key made on the host is noticed without a restart.
    let root = dir.api_key("root", &["admin"], &[]);
    let admin = api.token(&root).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let reply = api
            .send(&Req::get("/api/v1/whoami").bearer(Some(&admin)))
            .await;
        if reply.status == 200 {
            break;
        }
        assert_eq!(reply.status, 403, "{}", reply.text);
        assert!(Instant::now() < deadline, "the admin key was not noticed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status(&api, list_prod(), &token).await, 200);
    let health = api.send(&Req::get("/health")).await.expect(200);
    assert_eq!(health["ready"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_on_a_projects_environment_is_only_that() {
    let fx = fixture().await;
    let key = fx.dir.api_key("paula", &[], &[]);
    fx.dir
        .cli(&[
            "grant",
            "paula",
            "--env",
            "prod",
            "--project",
            "p",
            "--level",
            "execute",
        ])
        .ok();
    let t = fx.api.token(&key).await;
    let project = Req::get("/api/v1/secrets/pdb?environment=prod&project=p&reveal=true");
    let reply = fx.api.send(&project.bearer(Some(&t))).await.expect(200);
    assert_eq!(reply["value"], "project-value");
    let scoped = Req::get("/api/v1/secrets/pdb?scope=project:p:env:prod&reveal=true");
    fx.api.send(&scoped.bearer(Some(&t))).await.expect(200);
    // Not the environment of the same name outside the project, nor another project.
    assert_eq!(status(&fx.api, reveal_db(), &t).await, 403);
    let other = Req::get("/api/v1/secrets?environment=prod&project=q");
    assert_eq!(status(&fx.api, other, &t).await, 403);
    // The grant shows in the project's listing of grants.
    let grants = fx
        .api
        .send(&Req::get("/api/v1/grants?environment=prod&project=p").bearer(Some(&fx.admin)))
        .await
        .expect(200);
    assert_eq!(
        grants,
        json!({"environment": "project:p:env:prod", "grants": [{"subject": "user:paula", "level": "execute"}]})
    );
}
