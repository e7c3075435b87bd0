//! The HTTP side: URLs of the KV v2 API, sending requests with the token, and turning
//! transport failures and status codes into [`SecretsError`]s.
//!
//! Before the first request to the mount, the engine mounted there is looked up once
//! (`GET /v1/sys/internal/ui/mounts/{mount}`, as `bao kv` does) and anything but KV version
//! 2 is refused before a byte is written. A 404 saying `namespace not found` is an error
//! naming `VAULT_NAMESPACE`, and a 403 is followed by one lookup of the token
//! (`auth/token/lookup-self`) to tell an invalid or expired token from missing policies.
//!
//! Error messages name the server address, the secret (`scope/name`) and what Vault said.
//! They never hold the token or a value: the token only ever goes into a header marked
//! sensitive, and bodies holding values (or, for the token lookup, the token) are never
//! quoted.

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use zlayer_secrets_core::{Result, SecretsError, validate_name, validate_scope};

use crate::VaultConfig;
use crate::wire::{ErrorBody, SecretBuf};

mod checks;

use checks::MountCheck;

/// Characters left as they are in a path segment: RFC 3986 "unreserved". Everything else,
/// `/`, `%`, `#`, `?` and spaces included, is percent-encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Largest response body read, far above Vault's own request size limit (32 MiB).
const MAX_BODY: usize = 64 << 20;

/// A response that was read whole: its status and body.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: SecretBuf,
    /// The capability the request needed (`read`, `list`, ...), for access errors.
    operation: &'static str,
}

/// How a request body is sent.
#[derive(Clone, Copy)]
pub(crate) enum BodyKind {
    /// `application/json`.
    Json,
    /// `application/merge-patch+json`, for a `PATCH`.
    MergePatch,
}

impl Reply {
    /// The `errors` Vault sent, joined and shortened to one line.
    pub(crate) fn vault_errors(&self) -> String {
        let errors = serde_json::from_slice::<ErrorBody>(self.body.as_slice())
            .map(|b| b.errors)
            .unwrap_or_default();
        let mut text = errors.join("; ").replace(['\n', '\r'], " ");
        if text.chars().count() > 300 {
            text = text.chars().take(300).collect::<String>() + "...";
        }
        text
    }
}

/// One configured connection to a KV v2 mount.
pub(crate) struct Client {
    http: reqwest::Client,
    /// `scheme://host:port[/prefix]`, without credentials: safe to show.
    address: String,
    /// `{address}/v1/{mount}/`, percent-encoded.
    mount_url: String,
    /// The mount path as configured, without surrounding slashes.
    mount: String,
    /// The namespace, if any (sent with every request).
    namespace: Option<String>,
    token: SecretString,
    request_timeout: Duration,
    pub(crate) max_concurrency: usize,
    /// The engine at the mount, once looked up.
    mount_check: OnceLock<MountCheck>,
    /// Set once a lookup found the token invalid (it never becomes valid again).
    token_invalid: AtomicBool,
}

impl Client {
    pub(crate) fn new(config: VaultConfig) -> Result<Self> {
        let address = parse_address(&config.address)?;
        let mount = config.mount.trim_matches('/').to_owned();
        check_mount(&mount)?;
        let token = config.token;
        if token.expose_secret().is_empty() {
            return Err(SecretsError::Provider(format!(
                "the Vault token for {address} is empty"
            )));
        }
        token_header(&token).map_err(|()| {
            SecretsError::Provider(format!(
                "the Vault token for {address} holds characters that cannot be sent in an \
                 HTTP header (spaces, newlines or non-ASCII characters): check VAULT_TOKEN"
            ))
        })?;

        let mut headers = HeaderMap::new();
        let namespace = config
            .namespace
            .as_deref()
            .map(str::trim)
            .filter(|ns| !ns.is_empty())
            .map(str::to_owned);
        if let Some(ns) = namespace.as_deref() {
            let value = HeaderValue::from_str(ns).map_err(|_| {
                SecretsError::Provider(format!(
                    "the Vault namespace \"{}\" cannot be sent in an HTTP header",
                    ns.escape_debug()
                ))
            })?;
            headers.insert(HeaderName::from_static("x-vault-namespace"), value);
        }

        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .default_headers(headers)
            .user_agent(concat!("zlayer-secrets-vault/", env!("CARGO_PKG_VERSION")))
            // A redirect would carry the token header to wherever it points.
            .redirect(reqwest::redirect::Policy::none());
        if let Some(path) = &config.ca_cert_file {
            let pem = std::fs::read(path).map_err(|e| {
                SecretsError::Provider(format!(
                    "cannot read the CA certificate file {}: {e}",
                    path.display()
                ))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                SecretsError::Provider(format!(
                    "the CA certificate file {} is not PEM: {e}",
                    path.display()
                ))
            })?;
            if certs.is_empty() {
                return Err(SecretsError::Provider(format!(
                    "the CA certificate file {} holds no certificate",
                    path.display()
                )));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder.build().map_err(|e| {
            SecretsError::Provider(format!(
                "cannot set up the HTTP client for {address}: {}",
                root_cause(&e)
            ))
        })?;

        let mut mount_url = format!("{address}/v1/");
        for segment in mount.split('/') {
            let _ = write!(mount_url, "{}/", utf8_percent_encode(segment, SEGMENT));
        }
        Ok(Self {
            http,
            address,
            mount_url,
            mount,
            namespace,
            token,
            request_timeout: config.request_timeout,
            max_concurrency: config.max_concurrency.max(1),
            mount_check: OnceLock::new(),
            token_invalid: AtomicBool::new(false),
        })
    }

    /// The server address, safe to show.
    pub(crate) fn address(&self) -> &str {
        &self.address
    }

    /// The mount path.
    pub(crate) fn mount(&self) -> &str {
        &self.mount
    }

    /// The URL of `{mount}/{area}/{scope}[/{name}]`, after validating scope and name.
    pub(crate) fn url(&self, area: &str, scope: &str, name: Option<&str>) -> Result<Url> {
        validate_scope(scope)?;
        let mut url = format!("{}{area}", self.mount_url);
        for segment in scope.split('/') {
            let _ = write!(url, "/{}", utf8_percent_encode(segment, SEGMENT));
        }
        match name {
            Some(name) => {
                validate_name(name)?;
                let _ = write!(url, "/{}", utf8_percent_encode(name, SEGMENT));
            }
            // A listing addresses the folder.
            None => url.push('/'),
        }
        Url::parse(&url).map_err(|e| {
            SecretsError::Provider(format!("cannot form a Vault URL for scope {scope}: {e}"))
        })
    }

    /// The path inside Vault of a secret, for messages about policies: `secret/data/a/b`.
    pub(crate) fn vault_path(&self, area: &str, scope: &str, name: &str) -> String {
        format!("{}/{area}/{scope}/{name}", self.mount)
    }

    /// The URL of `/v1/{path}` outside the mount (`path` is already encoded).
    fn system_url(&self, path: &str) -> Result<Url> {
        Url::parse(&format!("{}/v1/{path}", self.address))
            .map_err(|e| SecretsError::Provider(format!("cannot form a Vault URL for {path}: {e}")))
    }

    /// Sends one request to the mount and reads the whole answer. Fails when no answer
    /// came, and before anything is sent when the mount is not a KV version 2 engine.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<SecretBuf>,
        what: &str,
    ) -> Result<Reply> {
        self.send_as(method, url, body.map(|b| (b, BodyKind::Json)), what)
            .await
    }

    /// [`send`](Self::send) with the kind of body given.
    pub(crate) async fn send_as(
        &self,
        method: Method,
        url: Url,
        body: Option<(SecretBuf, BodyKind)>,
        what: &str,
    ) -> Result<Reply> {
        self.ensure_kv2(what).await?;
        let reply = self.exchange(method, url, body, what).await?;
        if reply.status == StatusCode::NOT_FOUND
            && reply.vault_errors().contains("no handler for route")
        {
            // The router's 404, not the engine's: nothing is mounted there.
            return Err(SecretsError::Provider(format!(
                "Vault at {} has no secrets engine mounted at `{}` (check VAULT_MOUNT; the \
                 engine must be KV version 2), for {what}",
                self.address, self.mount
            )));
        }
        Ok(reply)
    }

    /// Sends one request and reads the whole answer. Fails only when no answer came, or
    /// when the namespace does not exist.
    async fn exchange(
        &self,
        method: Method,
        url: Url,
        body: Option<(SecretBuf, BodyKind)>,
        what: &str,
    ) -> Result<Reply> {
        let operation = operation(&method, &url);
        let mut token = token_header(&self.token).map_err(|()| {
            // Checked when the client was built; kept as an error rather than a panic.
            SecretsError::Provider(format!(
                "the Vault token for {} cannot be sent in a header",
                self.address
            ))
        })?;
        token.set_sensitive(true);
        let mut request = self
            .http
            .request(method, url)
            .header(HeaderName::from_static("x-vault-token"), token);
        if let Some((body, kind)) = body {
            let content_type = match kind {
                BodyKind::Json => "application/json",
                BodyKind::MergePatch => "application/merge-patch+json",
            };
            request = request
                .header(
                    reqwest::header::CONTENT_TYPE,
                    HeaderValue::from_static(content_type),
                )
                .body(body.into_body());
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| self.transport_error(&e, what))?;
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
            .map_err(|e| self.transport_error(&e, what))?
        {
            if body.as_slice().len() + chunk.len() > MAX_BODY {
                return Err(SecretsError::Provider(format!(
                    "Vault at {} sent an answer larger than {} MiB for {what}",
                    self.address,
                    MAX_BODY >> 20
                )));
            }
            body.extend(&chunk);
        }
        let reply = Reply {
            status,
            body,
            operation,
        };
        if reply.status == StatusCode::NOT_FOUND
            && reply.vault_errors().contains("namespace not found")
        {
            let ns = self.namespace.as_deref().unwrap_or_default();
            return Err(SecretsError::Provider(format!(
                "Vault at {} has no namespace `{ns}` (check VAULT_NAMESPACE), for {what}",
                self.address
            )));
        }
        Ok(reply)
    }

    /// A Provider error for a request that got no answer.
    fn transport_error(&self, error: &reqwest::Error, what: &str) -> SecretsError {
        let reason = if error.is_timeout() {
            format!(
                "no answer within {} s",
                self.request_timeout.as_secs_f64().round()
            )
        } else {
            root_cause(error)
        };
        SecretsError::Provider(format!(
            "cannot reach Vault at {} ({reason}) for {what}",
            self.address
        ))
    }

    /// [`status_error`](Self::status_error) without the token lookup.
    fn plain_status_error(&self, reply: &Reply, what: &str) -> SecretsError {
        match reply.status {
            StatusCode::NOT_FOUND => SecretsError::NotFound {
                name: what.to_owned(),
            },
            StatusCode::FORBIDDEN => SecretsError::AccessDenied {
                name: format!(
                    "{what} (Vault at {} refused it: the token has no permission on this \
                     path, or it is invalid or expired)",
                    self.address
                ),
            },
            StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT | StatusCode::FOUND => {
                SecretsError::Provider(format!(
                    "Vault at {} redirected the request for {what} (a standby node?); the token \
                     is not sent on redirects: point VAULT_ADDR at the active node or the load \
                     balancer",
                    self.address
                ))
            }
            status => {
                let errors = reply.vault_errors();
                let said = if errors.is_empty() {
                    String::new()
                } else {
                    format!(": {errors}")
                };
                SecretsError::Provider(format!(
                    "Vault at {} answered {status} for {what}{said}",
                    self.address
                ))
            }
        }
    }
}

/// The capability a request needs, in Vault's words.
fn operation(method: &Method, url: &Url) -> &'static str {
    match *method {
        Method::GET if url.query_pairs().any(|(k, v)| k == "list" && v == "true") => "list",
        Method::GET | Method::HEAD => "read",
        Method::PATCH => "patch",
        Method::DELETE => "delete",
        _ => "create or update",
    }
}

/// The token as a header value; `Err(())` if it cannot be one (the token is not shown).
fn token_header(token: &SecretString) -> std::result::Result<HeaderValue, ()> {
    HeaderValue::from_str(token.expose_secret()).map_err(|_| ())
}

/// Checks an address and returns it in the form shown in messages.
fn parse_address(address: &str) -> Result<String> {
    let trimmed = address.trim();
    let bad = |why: &str| {
        Err(SecretsError::Provider(format!(
            "the Vault address \"{}\" {why}; expected something like https://vault.example.com:8200",
            trimmed.escape_debug()
        )))
    };
    let url = match Url::parse(trimmed) {
        Ok(url) => url,
        Err(e) => return bad(&format!("is not a URL ({e})")),
    };
    if !matches!(url.scheme(), "http" | "https") {
        return bad("must start with http:// or https://");
    }
    let Some(host) = url.host_str() else {
        return bad("has no host");
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(SecretsError::Provider(
            "the Vault address must not hold a user name or password; pass the token separately"
                .to_owned(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return bad("must not have a query (?) or fragment (#)");
    }
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let path = url.path().trim_end_matches('/');
    let shown = format!("{}://{host}{port}{path}", url.scheme());
    if url.scheme() == "http" && !is_loopback(host) {
        tracing::warn!(
            address = %shown,
            "the Vault address uses plain http: the token and secret values cross the network \
             unencrypted"
        );
    }
    Ok(shown)
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn check_mount(mount: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(SecretsError::Provider(format!(
            "the KV v2 mount \"{}\" {why}",
            mount.escape_debug()
        )))
    };
    if mount.is_empty() {
        return bad("is empty (the usual mount is `secret`)");
    }
    for segment in mount.split('/') {
        if segment.is_empty() {
            return bad("has an empty segment (`//`)");
        }
        if segment == "." || segment == ".." {
            return bad("has a `.` or `..` segment");
        }
        if segment.chars().any(char::is_control) {
            return bad("has control characters");
        }
    }
    Ok(())
}

/// The innermost cause of an error, which says what really happened ("Connection refused").
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = error;
    while let Some(next) = inner.source() {
        inner = next;
    }
    inner.to_string()
}

#[cfg(test)]
mod tests;
