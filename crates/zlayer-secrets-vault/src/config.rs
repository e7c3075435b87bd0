//! [`VaultConfig`]: where the server is, which token and mount to use, and how long to wait.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use zlayer_secrets_core::{Result, SecretsError};

use crate::VaultSecretsProvider;

/// Environment variable holding the server address (`https://vault.example.com:8200`).
pub const ENV_VAULT_ADDR: &str = "VAULT_ADDR";
/// Environment variable holding the token.
pub const ENV_VAULT_TOKEN: &str = "VAULT_TOKEN";
/// Environment variable holding the KV v2 mount path (default [`DEFAULT_MOUNT`]).
pub const ENV_VAULT_MOUNT: &str = "VAULT_MOUNT";
/// Environment variable holding the namespace, sent as the `X-Vault-Namespace` header.
pub const ENV_VAULT_NAMESPACE: &str = "VAULT_NAMESPACE";
/// Environment variable naming a PEM file of extra CA certificates to trust.
pub const ENV_VAULT_CACERT: &str = "VAULT_CACERT";
/// Environment variable holding the request timeout (`30`, `30s`, `2m`).
pub const ENV_VAULT_CLIENT_TIMEOUT: &str = "VAULT_CLIENT_TIMEOUT";

/// The KV v2 mount used when none is given.
pub const DEFAULT_MOUNT: &str = "secret";
/// How long to wait for a TCP and TLS connection, unless configured otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to wait for a whole request, unless configured otherwise.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How many requests one call sends at once (batch reads, listings), unless configured
/// otherwise.
pub const DEFAULT_MAX_CONCURRENCY: usize = 8;

/// Everything needed to talk to one Vault or OpenBao KV v2 mount.
///
/// Build one with [`VaultConfig::new`] or [`VaultConfig::from_env`], adjust it with the
/// `with_*` methods, and turn it into a provider with [`VaultConfig::build`]. The token is held
/// in a [`SecretString`]: `Debug` shows `[REDACTED]` in its place.
#[derive(Clone)]
pub struct VaultConfig {
    pub(crate) address: String,
    pub(crate) token: SecretString,
    pub(crate) mount: String,
    pub(crate) namespace: Option<String>,
    pub(crate) ca_cert_file: Option<PathBuf>,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) max_concurrency: usize,
}

impl core::fmt::Debug for VaultConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VaultConfig")
            .field("address", &self.address)
            .field("token", &"[REDACTED]")
            .field("mount", &self.mount)
            .field("namespace", &self.namespace)
            .field("ca_cert_file", &self.ca_cert_file)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("max_concurrency", &self.max_concurrency)
            .finish()
    }
}

impl VaultConfig {
    /// A configuration for the server at `address` (such as `https://vault.example.com:8200`)
    /// with `token`, the mount [`DEFAULT_MOUNT`], no namespace and the default timeouts.
    pub fn new(address: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            address: address.into(),
            token: SecretString::from(token.into()),
            mount: DEFAULT_MOUNT.to_owned(),
            namespace: None,
            ca_cert_file: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
        }
    }

    /// Reads the configuration from the variables the `vault` and `bao` command-line tools
    /// use:
    ///
    /// | variable | meaning |
    /// | --- | --- |
    /// | `VAULT_ADDR` | server address (required) |
    /// | `VAULT_TOKEN` | token (required) |
    /// | `VAULT_MOUNT` | KV v2 mount path, default `secret` |
    /// | `VAULT_NAMESPACE` | namespace, sent as `X-Vault-Namespace` |
    /// | `VAULT_CACERT` | PEM file of extra CA certificates to trust |
    /// | `VAULT_CLIENT_TIMEOUT` | request timeout: seconds (`30`) or a duration (`2m`) |
    ///
    /// A variable that is set but empty counts as unset.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| match std::env::var(name) {
            Ok(value) => Ok(Some(value)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(SecretsError::Provider(format!(
                "the environment variable {name} is not valid UTF-8"
            ))),
        })
    }

    /// [`from_env`](Self::from_env) over any source of variables.
    pub(crate) fn from_lookup(lookup: impl Fn(&str) -> Result<Option<String>>) -> Result<Self> {
        let get = |name: &str| -> Result<Option<String>> {
            Ok(lookup(name)?.filter(|value| !value.trim().is_empty()))
        };
        let address = get(ENV_VAULT_ADDR)?.ok_or_else(|| {
            SecretsError::Provider(format!(
                "{ENV_VAULT_ADDR} is not set: set it to the Vault or OpenBao server address, \
                 such as https://vault.example.com:8200"
            ))
        })?;
        let token = get(ENV_VAULT_TOKEN)?.ok_or_else(|| {
            SecretsError::Provider(format!(
                "{ENV_VAULT_TOKEN} is not set: set it to a token that may use the KV v2 mount \
                 at {address}"
            ))
        })?;
        let mut config = Self::new(address.trim(), token.trim());
        if let Some(mount) = get(ENV_VAULT_MOUNT)? {
            mount.trim().clone_into(&mut config.mount);
        }
        config.namespace = get(ENV_VAULT_NAMESPACE)?.map(|ns| ns.trim().to_owned());
        config.ca_cert_file = get(ENV_VAULT_CACERT)?.map(PathBuf::from);
        if let Some(timeout) = get(ENV_VAULT_CLIENT_TIMEOUT)? {
            config.request_timeout = parse_timeout(&timeout)?;
        }
        Ok(config)
    }

    /// Uses the KV v2 engine mounted at `mount` (such as `secret` or `kv/team-a`).
    #[must_use]
    pub fn with_mount(mut self, mount: impl Into<String>) -> Self {
        self.mount = mount.into();
        self
    }

    /// Sends every request in `namespace` (the `X-Vault-Namespace` header).
    #[must_use]
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// Trusts the CA certificates in this PEM file besides the built-in web roots.
    #[must_use]
    pub fn with_ca_cert_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_cert_file = Some(path.into());
        self
    }

    /// How long to wait for a connection, and for a whole request.
    #[must_use]
    pub fn with_timeouts(mut self, connect: Duration, request: Duration) -> Self {
        self.connect_timeout = connect;
        self.request_timeout = request;
        self
    }

    /// How many requests one call may send at once (at least 1).
    #[must_use]
    pub fn with_max_concurrency(mut self, requests: usize) -> Self {
        self.max_concurrency = requests.max(1);
        self
    }

    /// The server address as given.
    #[must_use]
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The KV v2 mount path.
    #[must_use]
    pub fn mount(&self) -> &str {
        &self.mount
    }

    /// The namespace, if any.
    #[must_use]
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// Checks the configuration and builds the provider. No request is sent yet.
    pub fn build(self) -> Result<VaultSecretsProvider> {
        VaultSecretsProvider::with_config(self)
    }
}

/// `30` (seconds) or a duration such as `30s`, `1m30s`.
fn parse_timeout(text: &str) -> Result<Duration> {
    let text = text.trim();
    let parsed = match text.parse::<u64>() {
        Ok(seconds) => Ok(Duration::from_secs(seconds)),
        Err(_) => humantime::parse_duration(text).map_err(|e| e.to_string()),
    };
    match parsed {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err(SecretsError::Provider(format!(
            "{ENV_VAULT_CLIENT_TIMEOUT} must be more than zero, not \"{text}\""
        ))),
        Err(why) => Err(SecretsError::Provider(format!(
            "{ENV_VAULT_CLIENT_TIMEOUT} \"{text}\" is not a number of seconds or a duration \
             such as 30s or 2m: {why}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from(vars: &[(&str, &str)]) -> Result<VaultConfig> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        VaultConfig::from_lookup(|name| Ok(map.get(name).cloned()))
    }

    #[test]
    fn missing_address_is_named() {
        let err = from(&[("VAULT_TOKEN", "tok-123")]).unwrap_err().to_string();
        assert!(err.contains("VAULT_ADDR"), "{err}");
        assert!(!err.contains("tok-123"), "{err}");
    }

    #[test]
    fn missing_token_is_named_and_empty_counts_as_missing() {
        for vars in [
            &[("VAULT_ADDR", "http://127.0.0.1:8200")][..],
            &[
                ("VAULT_ADDR", "http://127.0.0.1:8200"),
                ("VAULT_TOKEN", "  "),
            ][..],
        ] {
            let err = from(vars).unwrap_err().to_string();
            assert!(err.contains("VAULT_TOKEN"), "{err}");
            assert!(err.contains("http://127.0.0.1:8200"), "{err}");
        }
    }

    #[test]
    fn defaults_and_overrides() {
        let c = from(&[
            ("VAULT_ADDR", "http://127.0.0.1:8200"),
            ("VAULT_TOKEN", "tok"),
        ])
        .unwrap();
        assert_eq!(c.mount(), "secret");
        assert_eq!(c.namespace(), None);
        assert_eq!(c.request_timeout, DEFAULT_REQUEST_TIMEOUT);

        let c = from(&[
            ("VAULT_ADDR", "http://127.0.0.1:8200"),
            ("VAULT_TOKEN", "tok"),
            ("VAULT_MOUNT", "kv/team"),
            ("VAULT_NAMESPACE", "ns1/"),
            ("VAULT_CLIENT_TIMEOUT", "2m"),
            ("VAULT_CACERT", "/etc/ca.pem"),
        ])
        .unwrap();
        assert_eq!(c.mount(), "kv/team");
        assert_eq!(c.namespace(), Some("ns1/"));
        assert_eq!(c.request_timeout, Duration::from_secs(120));
        assert_eq!(c.ca_cert_file, Some(PathBuf::from("/etc/ca.pem")));
    }

    #[test]
    fn timeouts_parse() {
        assert_eq!(parse_timeout("45").unwrap(), Duration::from_secs(45));
        assert_eq!(parse_timeout("1m30s").unwrap(), Duration::from_secs(90));
        for bad in ["0", "soon", "-3"] {
            let err = parse_timeout(bad).unwrap_err().to_string();
            assert!(err.contains("VAULT_CLIENT_TIMEOUT"), "{err}");
        }
    }

    #[test]
    fn debug_hides_the_token() {
        let c = VaultConfig::new("http://127.0.0.1:8200", "s.very-secret-token");
        let shown = format!("{c:?}");
        assert!(!shown.contains("very-secret-token"), "{shown}");
        assert!(shown.contains("[REDACTED]"), "{shown}");
    }
}
