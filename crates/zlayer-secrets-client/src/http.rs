//! The HTTP side: one keep-alive client, the bearer token, sending a request and reading
//! its whole answer into memory that is wiped afterwards.
//!
//! The token goes only into an `Authorization` header marked sensitive; values only into
//! request bodies built in a [`SecretBuf`] (handed to the HTTP client as `Bytes` whose
//! owner zeroizes) and out of response bodies read into one. Messages name the server's
//! URL, the status and what the server said, never a header or a body.

use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;
use zlayer_secrets_api::{HealthResponse, TokenRequest, TokenResponse, routes};
use zlayer_secrets_core::{Result, SecretsError};

use crate::RemoteConfig;
use crate::errors::{self, Subject};
use crate::token::{Token, TokenSlot};

/// How long to wait for a TCP (and TLS) connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for a whole request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest answer read, far above the server's own limits.
const MAX_BODY: usize = 64 << 20;

/// A growable byte buffer that zeroizes every allocation it leaves behind (a `Vec` that
/// grows copies into a new allocation and frees the old one as it is).
pub(crate) struct SecretBuf(Zeroizing<Vec<u8>>);

impl SecretBuf {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self(Zeroizing::new(Vec::with_capacity(capacity)))
    }

    fn extend(&mut self, data: &[u8]) {
        let needed = self.0.len() + data.len();
        if needed > self.0.capacity() {
            let mut bigger = Zeroizing::new(Vec::with_capacity(needed.max(self.0.capacity() * 2)));
            bigger.extend_from_slice(&self.0);
            // The old allocation is wiped as it is dropped here.
            self.0 = bigger;
        }
        self.0.extend_from_slice(data);
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// The buffer as a request body; wiped when the HTTP client drops its last reference.
    fn into_body(self) -> Bytes {
        Bytes::from_owner(self.0)
    }
}

impl std::io::Write for SecretBuf {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.extend(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A request body.
pub(crate) enum Body {
    /// None.
    Empty,
    /// JSON, serialised into wiped memory.
    Json(Bytes),
    /// Plain text (an import's dotenv text).
    Text(Bytes),
}

impl Body {
    /// `value` as JSON.
    pub(crate) fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self> {
        let mut buf = SecretBuf::with_capacity(256);
        serde_json::to_writer(&mut buf, value).map_err(|e| {
            SecretsError::Provider(format!("cannot write a request body as JSON: {e}"))
        })?;
        Ok(Self::Json(buf.into_body()))
    }

    /// `text` as it is, copied into wiped memory.
    pub(crate) fn text(text: &str) -> Self {
        let mut buf = SecretBuf::with_capacity(text.len());
        buf.extend(text.as_bytes());
        Self::Text(buf.into_body())
    }
}

/// An answer read whole.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: SecretBuf,
}

/// One request: method, path (already escaped), query pairs.
pub(crate) struct Request<'a> {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) body: Body,
    /// What a refusal is about.
    pub(crate) about: Subject<'a>,
    /// What is being done, for messages (`a read of shop/db`).
    pub(crate) what: &'a str,
}

impl<'a> Request<'a> {
    pub(crate) fn new(method: Method, path: impl Into<String>, what: &'a str) -> Self {
        Self {
            method,
            path: path.into(),
            query: Vec::new(),
            body: Body::Empty,
            about: Subject::Other,
            what,
        }
    }

    /// Adds the fields of `query` (a struct of `zlayer-secrets-api`, whose names are the
    /// API's) as query pairs; `None` fields are left out.
    pub(crate) fn query<Q: Serialize>(mut self, query: &Q) -> Result<Self> {
        let fields = serde_json::to_value(query)
            .map_err(|e| SecretsError::Provider(format!("cannot write a query: {e}")))?;
        let serde_json::Value::Object(fields) = fields else {
            return Err(SecretsError::Provider(
                "a query is not a set of fields".to_owned(),
            ));
        };
        for (key, value) in fields {
            let key = query_key(&key)?;
            match value {
                serde_json::Value::Null => {}
                serde_json::Value::String(s) => self.query.push((key, s)),
                other => self.query.push((key, other.to_string())),
            }
        }
        Ok(self)
    }

    pub(crate) fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    pub(crate) fn about(mut self, about: Subject<'a>) -> Self {
        self.about = about;
        self
    }
}

/// The query keys the API uses, as `'static` names.
fn query_key(key: &str) -> Result<&'static str> {
    const KEYS: &[&str] = &[
        "scope",
        "environment",
        "project",
        "reveal",
        "exclusive",
        "subject",
        "since",
        "until",
        "name",
        "actor",
        "action",
        "limit",
    ];
    KEYS.iter()
        .find(|k| **k == key)
        .copied()
        .ok_or_else(|| SecretsError::Provider(format!("unknown query field `{key}`")))
}

/// The connection to one server.
pub(crate) struct Http {
    client: reqwest::Client,
    /// `scheme://host[:port][/prefix]`, without a trailing slash: the base of every path,
    /// and safe to show.
    base: String,
    api_key: String,
    api_secret: zlayer_secrets_core::Secret,
    token: TokenSlot,
}

impl Http {
    /// Checks the configuration and builds the client; nothing is sent yet.
    pub(crate) fn new(config: RemoteConfig) -> Result<Self> {
        let base = parse_url(&config.url)?;
        if config.api_key.trim().is_empty() {
            return Err(SecretsError::InvalidInput {
                what: "configuration of the secrets server".to_owned(),
                reason: "the API key id is empty".to_owned(),
            });
        }
        let mut builder = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .pool_idle_timeout(Duration::from_secs(50))
            .user_agent(concat!("zlayer-secrets-client/", env!("CARGO_PKG_VERSION")))
            // A redirect would carry the bearer token to wherever it points.
            .redirect(reqwest::redirect::Policy::none());
        if let Some(pem) = &config.ca_pem {
            if base.starts_with("http://") {
                tracing::warn!(
                    server = %base,
                    "a CA certificate is configured, but the server URL is plain http: it is not used"
                );
            }
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                SecretsError::InvalidInput {
                    what: "CA certificate of the secrets server".to_owned(),
                    reason: format!("it is not PEM: {e}"),
                }
            })?;
            if certs.is_empty() {
                return Err(SecretsError::InvalidInput {
                    what: "CA certificate of the secrets server".to_owned(),
                    reason: "the PEM holds no certificate".to_owned(),
                });
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder.build().map_err(|e| {
            SecretsError::Provider(format!(
                "cannot set up the HTTP client for {base}: {}",
                errors::transport_reason(&e, REQUEST_TIMEOUT.as_secs())
            ))
        })?;
        Ok(Self {
            client,
            base,
            api_key: config.api_key.trim().to_owned(),
            api_secret: config.api_secret,
            token: TokenSlot::default(),
        })
    }

    /// The server's URL, as shown in messages.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// How many bearer tokens were obtained so far.
    pub(crate) fn tokens_obtained(&self) -> u64 {
        self.token.obtained()
    }

    /// `GET /health`.
    pub(crate) async fn health(&self) -> Result<HealthResponse> {
        let reply = self
            .send_once(
                &Request::new(Method::GET, routes::HEALTH, "the health check"),
                None,
            )
            .await?;
        if reply.status != StatusCode::OK {
            return Err(self.refusal(&reply, Subject::Other));
        }
        serde_json::from_slice(reply.body.as_slice()).map_err(|_| {
            SecretsError::Provider(format!(
                "the secrets server at {} did not answer {} as a zlayer-secrets server does \
                 (is the URL right?)",
                self.base,
                routes::HEALTH
            ))
        })
    }

    /// Sends a request of the API with the bearer token; on a 401 the token is dropped and
    /// the request sent once more with a new one. Any answer comes back, refusals included.
    pub(crate) async fn send(&self, request: &Request<'_>) -> Result<Reply> {
        let token = self.token().await?;
        let reply = self.send_once(request, Some(&token)).await?;
        if reply.status != StatusCode::UNAUTHORIZED {
            return Ok(reply);
        }
        tracing::debug!("the server refused the bearer token; asking for a new one");
        self.token.refused(token.generation).await;
        let token = self.token().await?;
        self.send_once(request, Some(&token)).await
    }

    /// [`send`](Self::send), then the body of a success with one of `ok` statuses as `T`,
    /// or the refusal as an error.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        request: &Request<'_>,
        ok: &[StatusCode],
    ) -> Result<T> {
        let reply = self.send(request).await?;
        if !ok.contains(&reply.status) {
            return Err(self.refusal(&reply, request.about));
        }
        serde_json::from_slice(reply.body.as_slice())
            .map_err(|e| errors::bad_answer(&self.base, request.what, &e))
    }

    /// [`send`](Self::send) for a request whose success has no body that matters.
    pub(crate) async fn call_empty(&self, request: &Request<'_>, ok: &[StatusCode]) -> Result<()> {
        let reply = self.send(request).await?;
        if ok.contains(&reply.status) {
            Ok(())
        } else {
            Err(self.refusal(&reply, request.about))
        }
    }

    /// The error for a refused request.
    pub(crate) fn refusal(&self, reply: &Reply, about: Subject<'_>) -> SecretsError {
        let status = reply.status.as_u16();
        errors::refusal(
            status,
            errors::message_of(status, reply.body.as_slice(), &self.base),
            about,
        )
    }

    /// The current token, or a new one.
    async fn token(&self) -> Result<std::sync::Arc<Token>> {
        self.token
            .get(|generation| self.obtain_token(generation))
            .await
    }

    /// `POST /auth/token` with the key pair.
    async fn obtain_token(&self, generation: u64) -> Result<Token> {
        let asked = Instant::now();
        let body = Body::json(&TokenRequest {
            api_key: self.api_key.clone(),
            api_secret: self.api_secret.expose().to_owned(),
        })?;
        let request = Request::new(Method::POST, routes::TOKEN, "a token request").body(body);
        let reply = self.send_once(&request, None).await?;
        if reply.status != StatusCode::OK {
            let status = reply.status.as_u16();
            let said = errors::message_of(status, reply.body.as_slice(), &self.base);
            return Err(SecretsError::Server {
                status,
                message: format!(
                    "the secrets server at {} refused the API key {}: {said}",
                    self.base, self.api_key
                ),
            });
        }
        let answer: TokenResponse = serde_json::from_slice(reply.body.as_slice())
            .map_err(|e| errors::bad_answer(&self.base, "a token request", &e))?;
        let token = Token::new(
            &answer.access_token,
            asked,
            Duration::from_secs(answer.expires_in),
            generation,
        );
        if token.header().is_none() {
            return Err(SecretsError::Provider(format!(
                "the secrets server at {} gave a token that cannot be sent in a header",
                self.base
            )));
        }
        tracing::debug!(
            expires_in = answer.expires_in,
            generation,
            "obtained a bearer token"
        );
        Ok(token)
    }

    /// Sends one request (with `token`, if given) and reads the whole answer.
    async fn send_once(&self, request: &Request<'_>, token: Option<&Token>) -> Result<Reply> {
        let mut url = Url::parse(&format!("{}{}", self.base, request.path)).map_err(|e| {
            SecretsError::Provider(format!(
                "cannot form the URL of {} at {}: {e}",
                request.what, self.base
            ))
        })?;
        if !request.query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(request.query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let mut builder = self.client.request(request.method.clone(), url);
        if let Some(token) = token {
            let header = token.header().ok_or_else(|| {
                SecretsError::Provider("the bearer token cannot be sent in a header".to_owned())
            })?;
            builder = builder.header(AUTHORIZATION, header);
        }
        builder = match &request.body {
            Body::Empty => builder,
            Body::Json(bytes) => builder
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(bytes.clone()),
            Body::Text(bytes) => builder
                .header(
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                )
                .body(bytes.clone()),
        };
        let timeout = REQUEST_TIMEOUT.as_secs();
        let mut response = builder
            .send()
            .await
            .map_err(|e| errors::unreachable(&self.base, &errors::transport_reason(&e, timeout)))?;
        let status = response.status();
        let expected = response
            .content_length()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0)
            .min(MAX_BODY);
        let mut body = SecretBuf::with_capacity(expected);
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| errors::unreachable(&self.base, &errors::transport_reason(&e, timeout)))?
        {
            if body.as_slice().len() + chunk.len() > MAX_BODY {
                return Err(SecretsError::Provider(format!(
                    "the secrets server at {} sent an answer to {} larger than {} MiB",
                    self.base,
                    request.what,
                    MAX_BODY >> 20
                )));
            }
            body.extend(&chunk);
        }
        tracing::debug!(method = %request.method, status = status.as_u16(), "request");
        Ok(Reply { status, body })
    }
}

/// Checks a server URL and returns the base the paths are appended to.
fn parse_url(url: &str) -> Result<String> {
    let trimmed = url.trim();
    let bad = |why: &str| {
        Err(SecretsError::InvalidInput {
            what: format!("secrets server URL \"{}\"", trimmed.escape_debug()),
            reason: format!("{why}; expected something like https://secrets.example.com:8790"),
        })
    };
    let parsed = match Url::parse(trimmed) {
        Ok(parsed) => parsed,
        Err(e) => return bad(&format!("it is not a URL ({e})")),
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return bad("it must start with http:// or https://");
    }
    let Some(host) = parsed.host_str() else {
        return bad("it has no host");
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(SecretsError::InvalidInput {
            what: "secrets server URL".to_owned(),
            reason: "it must not hold a user name or password; the API key is given apart"
                .to_owned(),
        });
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return bad("it must not have a query (?) or fragment (#)");
    }
    let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
    let path = parsed.path().trim_end_matches('/');
    let base = format!("{}://{host}{port}{path}", parsed.scheme());
    if parsed.scheme() == "http" && !is_loopback(host) {
        tracing::warn!(
            server = %base,
            "the secrets server URL is plain http: the API key, the token and the values cross \
             the network unencrypted"
        );
    }
    Ok(base)
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_normalised() {
        for (given, base) in [
            ("http://127.0.0.1:8790", "http://127.0.0.1:8790"),
            ("http://127.0.0.1:8790/", "http://127.0.0.1:8790"),
            (
                " https://secrets.example.com ",
                "https://secrets.example.com",
            ),
            (
                "https://proxy.example.com/secrets/",
                "https://proxy.example.com/secrets",
            ),
            ("http://[::1]:8790", "http://[::1]:8790"),
            ("http://localhost:80/", "http://localhost"),
        ] {
            assert_eq!(parse_url(given).unwrap(), base, "{given}");
        }
        for bad in [
            "",
            "127.0.0.1:8790",
            "ftp://host",
            "http://user:hunter2@host",
            "http://host/?x=1",
            "http://host/#f",
        ] {
            let err = parse_url(bad).unwrap_err();
            assert!(matches!(err, SecretsError::InvalidInput { .. }), "{bad}");
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn queries_use_the_apis_field_names() {
        let query = zlayer_secrets_api::SecretQuery {
            reveal: Some(true),
            ..zlayer_secrets_api::SecretQuery::for_scope("env:prod")
        };
        let request = Request::new(Method::GET, "/x", "a test")
            .query(&query)
            .unwrap();
        let mut pairs = request.query.clone();
        pairs.sort();
        assert_eq!(
            pairs,
            [
                ("reveal", "true".to_owned()),
                ("scope", "env:prod".to_owned())
            ]
        );
    }

    #[test]
    fn bodies_keep_their_bytes() {
        let Body::Text(bytes) = Body::text("A=1\n") else {
            panic!("text");
        };
        assert_eq!(&bytes[..], b"A=1\n");
        let Body::Json(bytes) = Body::json(&serde_json::json!({"a": "b"})).unwrap() else {
            panic!("json");
        };
        assert_eq!(&bytes[..], br#"{"a":"b"}"#);
    }

    #[test]
    fn a_ca_that_is_not_pem_is_refused() {
        let mut config = RemoteConfig::new(
            "https://127.0.0.1:1",
            "zk_1",
            zlayer_secrets_core::Secret::new("s"),
        );
        config.ca_pem = Some(b"not a certificate".to_vec());
        let Err(err) = Http::new(config) else {
            panic!("a CA without a certificate is accepted");
        };
        assert!(err.to_string().contains("CA certificate"), "{err}");
    }
}
