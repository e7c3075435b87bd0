//! The secrets server as its users meet it: the real `zlayer-secret serve` process on
//! 127.0.0.1 with a temporary data directory, API keys and grants made with the real CLI, and
//! requests over real HTTP (reqwest, or a raw socket where a test must hold a request open).
//! Every test starts its own server and stops it at the end (a guard sends SIGTERM and
//! waits).
//!
//! Requests that fail authentication count against the address they come from (10 a minute,
//! then 429 for every request from it), so each request meant to fail authentication is sent
//! from an address of its own in 127.0.0.0/8 ([`Api::probe`]); Linux routes that whole block
//! to the loopback interface.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used)] // tests report failure by panicking, also in helpers

mod access;
mod audit;
mod auth;
mod crash;
mod input;
mod load;
mod shutdown;
mod tls;
mod vault;
mod wire;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac as _};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;
use tempfile::TempDir;
use zlayer_secrets_testsupport::process::{Run, run_command};
use zlayer_secrets_testsupport::server::ServerProcess;

/// The binary under test.
pub(crate) fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_zlayer-secret")
}

/// Variables of the caller's environment that would point the binary elsewhere.
const CLEARED: &[&str] = &[
    "ZLAYER_SECRETS_KEY",
    "ZLAYER_SECRETS_PASSWORD",
    "ZLAYER_SECRETS_BACKEND",
    "RUST_LOG",
    "VAULT_ADDR",
    "VAULT_TOKEN",
    "VAULT_MOUNT",
    "VAULT_NAMESPACE",
    "VAULT_CACERT",
];

/// An API key made with `api-key create --output json`.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub(crate) id: String,
    pub(crate) secret: String,
    pub(crate) subject: String,
}

/// A temporary data directory, and the variables every command against it gets (a Vault
/// backend's, for the OpenBao tests).
pub(crate) struct DataDir {
    dir: TempDir,
    vars: Vec<(String, String)>,
}

impl DataDir {
    pub(crate) fn new() -> Self {
        Self::with_vars(Vec::new())
    }

    /// A data directory whose commands also get `vars` (`ZLAYER_SECRETS_BACKEND=vault`, ...).
    pub(crate) fn with_vars(vars: Vec<(String, String)>) -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            vars,
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The store's database file.
    pub(crate) fn database(&self) -> PathBuf {
        self.path().join("secrets.sqlite")
    }

    /// The binary with `args`, this data directory and a clean environment.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin());
        cmd.args(args).env("ZLAYER_SECRETS_DIR", self.path());
        for name in CLEARED {
            cmd.env_remove(name);
        }
        cmd.envs(self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        cmd
    }

    /// Runs a CLI command to its end.
    pub(crate) fn cli(&self, args: &[&str]) -> Run {
        run_command(self.command(args), None)
    }

    /// `api-key create NAME [--role R]... [--group G]...`.
    pub(crate) fn api_key(&self, name: &str, roles: &[&str], groups: &[&str]) -> Key {
        let mut args = vec!["api-key", "create", name, "--output", "json"];
        for r in roles {
            args.extend(["--role", r]);
        }
        for g in groups {
            args.extend(["--group", g]);
        }
        let run = self.cli(&args);
        let doc: Value = serde_json::from_slice(&run.ok().stdout).unwrap();
        Key {
            id: doc["api_key"].as_str().unwrap().to_owned(),
            secret: doc["api_secret"].as_str().unwrap().to_owned(),
            subject: doc["subject"].as_str().unwrap().to_owned(),
        }
    }

    /// `grant WHO --env ENV --level LEVEL`.
    pub(crate) fn grant(&self, who: &str, env: &str, level: &str) {
        self.cli(&["grant", who, "--env", env, "--level", level])
            .ok();
    }

    /// `serve --listen 127.0.0.1:0 EXTRA...`, started and listening.
    pub(crate) fn serve(&self, extra: &[&str]) -> ServerProcess {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        ServerProcess::start(self.command(&args))
    }

    /// The token key of the server (`server_token.key`, 64 hex digits).
    pub(crate) fn token_key(&self) -> Vec<u8> {
        let text = std::fs::read_to_string(self.path().join("server_token.key")).unwrap();
        hex::decode(text.trim()).unwrap()
    }

    /// `(scope, name, version, updated_at, stored versions)` of every secret of the
    /// database, reserved scopes included, in order: what any write would change.
    pub(crate) fn rows(&self) -> Vec<(String, String, i64, i64, i64)> {
        let db = rusqlite::Connection::open_with_flags(
            self.database(),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let mut stmt = db
            .prepare(
                "SELECT s.scope, s.name, s.version, s.updated_at, \
                 (SELECT count(*) FROM secret_versions v WHERE v.secret_id = s.id) \
                 FROM secrets s ORDER BY s.scope, s.name",
            )
            .unwrap();
        stmt.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    }
}

/// The claims of a bearer token, as the server writes them.
pub(crate) fn claims(key: &Key, roles: &[&str], exp: u64) -> Value {
    json!({
        "sub": key.subject,
        "exp": exp,
        "iat": now().saturating_sub(60),
        "iss": "zlayer",
        "roles": roles,
        "groups": [],
        "key": key.id,
    })
}

/// Unix seconds.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// An HS256 token over `claims` signed with `key` and the header `header`.
pub(crate) fn sign(header: &Value, claims: &Value, key: &[u8]) -> String {
    let head = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap());
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
    let unsigned = format!("{head}.{body}");
    let mut mac = <Hmac<Sha256>>::new_from_slice(key).unwrap();
    mac.update(unsigned.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{unsigned}.{signature}")
}

/// The standard header of the server's tokens.
pub(crate) fn hs256() -> Value {
    json!({"alg": "HS256", "typ": "JWT"})
}

/// A request body.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    None,
    Json(Value),
    /// A body sent as is, with this content type (none if empty).
    Raw(&'static str, Vec<u8>),
}

/// One request: method, path with query, bearer token, body.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) bearer: Option<String>,
    pub(crate) authorization: Option<String>,
    pub(crate) body: Body,
}

impl Req {
    pub(crate) fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            bearer: None,
            authorization: None,
            body: Body::None,
        }
    }

    pub(crate) fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }

    pub(crate) fn post(path: impl Into<String>, body: Value) -> Self {
        Self::new(Method::POST, path).json(body)
    }

    pub(crate) fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }

    pub(crate) fn json(mut self, body: Value) -> Self {
        self.body = Body::Json(body);
        self
    }

    pub(crate) fn raw(mut self, content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        self.body = Body::Raw(content_type, body.into());
        self
    }

    pub(crate) fn bearer(mut self, token: Option<&str>) -> Self {
        self.bearer = token.map(str::to_owned);
        self
    }

    /// An `Authorization` header written out (not `Bearer TOKEN`).
    pub(crate) fn authorization(mut self, value: &str) -> Self {
        self.authorization = Some(value.to_owned());
        self
    }
}

/// An answer.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: String,
    pub(crate) text: String,
}

impl Reply {
    /// The body as JSON; panics, showing it, when it is not.
    #[track_caller]
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| {
            panic!(
                "status {}: the body is not JSON ({e}): {:.300}",
                self.status, self.text
            )
        })
    }

    /// Panics unless the status is `status`; the body as JSON (`null` when empty).
    #[track_caller]
    pub(crate) fn expect(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "body: {:.500}", self.text);
        if self.text.is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }

    /// Panics unless this is an error answer: a 4xx with `{"error": "..."}` (a JSON content
    /// type, the text not empty). Returns the text of `error`.
    #[track_caller]
    pub(crate) fn error_text(&self) -> String {
        self.check_error()
            .unwrap_or_else(|problem| panic!("{problem}"))
    }

    /// The text of `error` if this is an error answer as every error must be (a 4xx with a
    /// JSON content type and a non-empty `error` string), else what is wrong with it.
    pub(crate) fn check_error(&self) -> Result<String, String> {
        let show = || {
            format!(
                "status {}, `{}`: {:.300}",
                self.status, self.content_type, self.text
            )
        };
        if !(400..500).contains(&self.status) {
            return Err(format!("not a 4xx: {}", show()));
        }
        if !self.content_type.starts_with("application/json") {
            return Err(format!("not JSON: {}", show()));
        }
        let doc: Value =
            serde_json::from_str(&self.text).map_err(|e| format!("not JSON ({e}): {}", show()))?;
        match doc["error"].as_str() {
            Some(text) if !text.is_empty() => Ok(text.to_owned()),
            _ => Err(format!("no `error` text: {}", show())),
        }
    }
}

/// A client of one running server.
#[derive(Clone)]
pub(crate) struct Api {
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
}

/// The next address of 127.1.0.0/16 for [`Api::probe`] (each used once in this process).
static NEXT_PROBE: AtomicU32 = AtomicU32::new(1);

/// An address of the loopback block no other request of this test binary comes from.
pub(crate) fn fresh_loopback() -> IpAddr {
    let n = NEXT_PROBE.fetch_add(1, Ordering::Relaxed);
    let [_, _, hi, lo] = n.to_be_bytes();
    IpAddr::V4(Ipv4Addr::new(127, 1, hi, lo))
}

/// A client builder with the test's time limits.
pub(crate) fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .connect_timeout(Duration::from_secs(10))
        .no_proxy()
}

impl Api {
    /// A client of `server`, from 127.0.0.1.
    pub(crate) fn new(server: &ServerProcess) -> Self {
        Self::at(server.url())
    }

    /// A client of the server at `base`, from 127.0.0.1.
    pub(crate) fn at(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            http: client_builder().build().unwrap(),
        }
    }

    /// A client of the same server whose connections come from a loopback address no other
    /// request used: for requests that fail authentication, which count against their
    /// address.
    pub(crate) fn probe(&self) -> Self {
        Self {
            base: self.base.clone(),
            http: client_builder()
                .local_address(fresh_loopback())
                .build()
                .unwrap(),
        }
    }

    /// Sends `req`; panics only when no answer came.
    pub(crate) async fn send(&self, req: &Req) -> Reply {
        self.try_send(req)
            .await
            .unwrap_or_else(|e| panic!("{} {}: no answer: {e:?}", req.method, req.path))
    }

    /// Sends `req`; a transport failure is an `Err`.
    pub(crate) async fn try_send(&self, req: &Req) -> Result<Reply, reqwest::Error> {
        let mut builder = self
            .http
            .request(req.method.clone(), format!("{}{}", self.base, req.path));
        if let Some(token) = &req.bearer {
            builder = builder.bearer_auth(token);
        }
        if let Some(value) = &req.authorization {
            builder = builder.header(reqwest::header::AUTHORIZATION, value);
        }
        builder = match &req.body {
            Body::None => builder,
            Body::Json(value) => builder.json(value),
            Body::Raw(content_type, bytes) => {
                let b = builder.body(bytes.clone());
                if content_type.is_empty() {
                    b
                } else {
                    b.header(reqwest::header::CONTENT_TYPE, *content_type)
                }
            }
        };
        let response = builder.send().await?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await?;
        Ok(Reply {
            status,
            content_type,
            text,
        })
    }

    /// A bearer token for `key`.
    pub(crate) async fn token(&self, key: &Key) -> String {
        let reply = self
            .send(&Req::post(
                "/auth/token",
                json!({"api_key": key.id, "api_secret": key.secret}),
            ))
            .await;
        reply.expect(200)["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// What an admin sees of `scopes` (each listed, and all its values) and of the grants of
    /// `environments` and the API keys: compared before and after a refused request.
    pub(crate) async fn snapshot(
        &self,
        admin: &str,
        scopes: &[&str],
        environments: &[&str],
    ) -> Value {
        let mut out = BTreeMap::new();
        for scope in scopes {
            let q = format!("scope={scope}");
            let list = self
                .send(&Req::get(format!("/api/v1/secrets?{q}")).bearer(Some(admin)))
                .await
                .expect(200);
            let all = self
                .send(&Req::get(format!("/api/v1/secrets/reveal-all?{q}")).bearer(Some(admin)))
                .await
                .expect(200);
            out.insert(format!("scope {scope}"), json!([list, all["secrets"]]));
        }
        for env in environments {
            let grants = self
                .send(&Req::get(format!("/api/v1/grants?environment={env}")).bearer(Some(admin)))
                .await
                .expect(200);
            out.insert(format!("grants {env}"), grants);
        }
        let keys = self
            .send(&Req::get("/api/v1/api-keys").bearer(Some(admin)))
            .await
            .expect(200);
        out.insert("api keys".to_owned(), keys);
        json!(out)
    }
}

/// A deterministic generator (xorshift64*), so failures reproduce.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }
}
