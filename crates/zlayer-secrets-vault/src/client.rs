//! The HTTP side: URLs of the KV v2 API, sending requests with the token, and turning
//! transport failures and status codes into [`SecretsError`]s.
//!
//! Error messages name the server address, the secret (`scope/name`) and what Vault said.
//! They never hold the token or a value: the token only ever goes into a header marked
//! sensitive, and bodies holding values are never quoted.

use std::fmt::Write as _;
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use zlayer_secrets_core::{Result, SecretsError, validate_name, validate_scope};

use crate::VaultConfig;
use crate::wire::{ErrorBody, SecretBuf};

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
    token: SecretString,
    request_timeout: Duration,
    pub(crate) max_concurrency: usize,
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
        if let Some(ns) = config.namespace.as_deref().map(str::trim)
            && !ns.is_empty()
        {
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
            token,
            request_timeout: config.request_timeout,
            max_concurrency: config.max_concurrency.max(1),
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

    /// Sends one request and reads the whole answer. Fails only when no answer came.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<SecretBuf>,
        what: &str,
    ) -> Result<Reply> {
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
        if let Some(body) = body {
            request = request
                .header(
                    reqwest::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
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
        let reply = Reply { status, body };
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

    /// The error for an answer with an unexpected status. 404 and 403 get their own variants;
    /// `path` is the Vault path, named in access errors so a policy can be fixed.
    pub(crate) fn status_error(&self, reply: &Reply, what: &str, path: &str) -> SecretsError {
        match reply.status {
            StatusCode::NOT_FOUND => SecretsError::NotFound {
                name: what.to_owned(),
            },
            StatusCode::FORBIDDEN => SecretsError::AccessDenied {
                name: format!(
                    "{what} (Vault at {} refused {path}: the token has no permission on this \
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
mod tests {
    use super::*;

    fn client(address: &str, mount: &str) -> Client {
        Client::new(VaultConfig::new(address, "tok-abc").with_mount(mount)).unwrap()
    }

    #[test]
    fn urls_encode_every_segment() {
        let c = client("http://127.0.0.1:8200", "secret");
        let url = c.url("data", "a b/c%d", Some("x#y?z")).unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8200/v1/secret/data/a%20b/c%25d/x%23y%3Fz"
        );
        let url = c.url("metadata", "env:prod", None).unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8200/v1/secret/metadata/env%3Aprod/"
        );
        let url = c.url("data", "ü", Some("a..b")).unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8200/v1/secret/data/%C3%BC/a..b"
        );
    }

    #[test]
    fn dot_segments_are_refused() {
        let c = client("http://127.0.0.1:8200", "secret");
        for (scope, name) in [
            ("..", "x"),
            ("a/../b", "x"),
            ("a", ".."),
            ("a", "."),
            ("a", "b/c"),
        ] {
            let err = c.url("data", scope, Some(name)).unwrap_err();
            assert!(
                matches!(err, SecretsError::InvalidName { .. }),
                "{scope} {name}: {err}"
            );
        }
    }

    #[test]
    fn address_prefix_and_nested_mounts() {
        let c = client("https://vault.example.com:8443/proxy/", "/kv/team-a/");
        assert_eq!(c.address(), "https://vault.example.com:8443/proxy");
        assert_eq!(c.mount(), "kv/team-a");
        let url = c.url("data", "s", Some("n")).unwrap();
        assert_eq!(
            url.as_str(),
            "https://vault.example.com:8443/proxy/v1/kv/team-a/data/s/n"
        );
    }

    #[test]
    fn bad_addresses_are_explained() {
        for (address, expect) in [
            ("vault.example.com:8200", "http"),
            ("ftp://vault", "http"),
            ("not a url", "not a URL"),
            ("http://127.0.0.1:8200/?x=1", "query"),
        ] {
            let err = Client::new(VaultConfig::new(address, "tok-abc"))
                .err()
                .unwrap()
                .to_string();
            assert!(err.contains(expect), "{address}: {err}");
            assert!(!err.contains("tok-abc"), "{err}");
        }
        let err = Client::new(VaultConfig::new("http://u:pw@127.0.0.1", "tok-abc"))
            .err()
            .unwrap()
            .to_string();
        assert!(!err.contains("pw"), "{err}");
    }

    #[test]
    fn bad_mounts_and_tokens_are_explained() {
        for mount in ["", "/", "a//b", "a/../b"] {
            let err = Client::new(VaultConfig::new("http://127.0.0.1", "t").with_mount(mount))
                .err()
                .unwrap()
                .to_string();
            assert!(err.contains("mount"), "{mount}: {err}");
        }
        let err = Client::new(VaultConfig::new("http://127.0.0.1", ""))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("empty"), "{err}");
        let err = Client::new(VaultConfig::new("http://127.0.0.1", "secret-line\nbreak"))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("VAULT_TOKEN"), "{err}");
        assert!(!err.contains("secret-line"), "{err}");
    }

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("[::1]"));
        assert!(is_loopback("localhost"));
        assert!(!is_loopback("vault.example.com"));
    }
}
