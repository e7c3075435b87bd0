//! [`RemoteConfig`]: which server, which API key, which CA.

use std::fmt;
use std::path::Path;

use zlayer_secrets_core::{Secret, SecretsError};

/// The variable naming the server's URL (`https://secrets.example.com:8790`).
pub const ENV_SERVER: &str = "ZLAYER_SECRETS_SERVER";
/// The variable holding the API key's id (`zk_...`).
pub const ENV_API_KEY: &str = "ZLAYER_SECRETS_API_KEY";
/// The variable holding the API key's secret.
pub const ENV_API_SECRET: &str = "ZLAYER_SECRETS_API_SECRET";
/// The variable naming a PEM file of CA certificates to trust for the server.
pub const ENV_SERVER_CA: &str = "ZLAYER_SECRETS_SERVER_CA";

/// Where a secrets server is and how to authenticate to it.
///
/// `Debug` shows the URL and the key's id, never the secret, and only the size of the CA.
#[derive(Clone)]
pub struct RemoteConfig {
    /// The server's base URL, `http://` or `https://` (a path prefix is kept, for a server
    /// behind a proxy).
    pub url: String,
    /// The API key's id, as `zlayer-secret api-key create` printed it.
    pub api_key: String,
    /// The API key's secret.
    pub api_secret: Secret,
    /// PEM certificates trusted as roots besides the built-in web roots (for a server whose
    /// certificate a private CA signed); only used with `https`.
    pub ca_pem: Option<Vec<u8>>,
}

impl fmt::Debug for RemoteConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteConfig")
            .field("url", &self.url)
            .field("api_key", &self.api_key)
            .field("api_secret", &"[REDACTED]")
            .field(
                "ca_pem",
                &self
                    .ca_pem
                    .as_ref()
                    .map(|pem| format!("{} bytes", pem.len())),
            )
            .finish()
    }
}

/// An error about the configuration: `invalid configuration of the secrets server: ...`.
fn config_error(reason: String) -> SecretsError {
    SecretsError::InvalidInput {
        what: "configuration of the secrets server".to_owned(),
        reason,
    }
}

impl RemoteConfig {
    /// A configuration for the server at `url` with the API key `api_key` and its secret,
    /// trusting only the built-in web roots.
    pub fn new(url: impl Into<String>, api_key: impl Into<String>, api_secret: Secret) -> Self {
        Self {
            url: url.into(),
            api_key: api_key.into(),
            api_secret,
            ca_pem: None,
        }
    }

    /// Reads the configuration from the environment:
    ///
    /// | variable | meaning |
    /// | --- | --- |
    /// | `ZLAYER_SECRETS_SERVER` | the server's URL (required) |
    /// | `ZLAYER_SECRETS_API_KEY` | the API key's id (required) |
    /// | `ZLAYER_SECRETS_API_SECRET` | the API key's secret (required) |
    /// | `ZLAYER_SECRETS_SERVER_CA` | a PEM file of CA certificates to trust (optional) |
    ///
    /// A variable that is set but empty counts as unset; the error names the variable that
    /// is missing.
    pub fn from_env() -> zlayer_secrets_core::Result<Self> {
        Self::from_lookup(env_lookup)
    }

    /// The key pair from `ZLAYER_SECRETS_API_KEY` and `ZLAYER_SECRETS_API_SECRET`, for the
    /// server at `url` (given some other way, such as a command-line option); no CA.
    pub fn key_from_env(url: impl Into<String>) -> zlayer_secrets_core::Result<Self> {
        Self::key_from_lookup(url.into(), env_lookup)
    }

    /// Trusts the CA certificates of the PEM file at `path` (read now).
    pub fn with_ca_file(mut self, path: &Path) -> zlayer_secrets_core::Result<Self> {
        let pem = std::fs::read(path).map_err(|e| SecretsError::File {
            operation: "read the CA certificate file of the secrets server".to_owned(),
            path: path.to_path_buf(),
            source: e,
        })?;
        self.ca_pem = Some(pem);
        Ok(self)
    }

    /// [`from_env`](Self::from_env) over any source of variables.
    pub(crate) fn from_lookup(
        lookup: impl Fn(&str) -> zlayer_secrets_core::Result<Option<String>>,
    ) -> zlayer_secrets_core::Result<Self> {
        let url = non_empty(&lookup, ENV_SERVER)?.ok_or_else(|| {
            config_error(format!(
                "{ENV_SERVER} is not set: set it to the server's URL, such as \
                 https://secrets.example.com:8790"
            ))
        })?;
        let config = Self::key_from_lookup(url.trim().to_owned(), &lookup)?;
        match non_empty(&lookup, ENV_SERVER_CA)? {
            Some(path) => config.with_ca_file(Path::new(path.trim())),
            None => Ok(config),
        }
    }

    fn key_from_lookup(
        url: String,
        lookup: impl Fn(&str) -> zlayer_secrets_core::Result<Option<String>>,
    ) -> zlayer_secrets_core::Result<Self> {
        let api_key = non_empty(&lookup, ENV_API_KEY)?.ok_or_else(|| {
            config_error(format!(
                "{ENV_API_KEY} is not set: set it to the id (zk_...) of an API key that \
                 `zlayer-secret api-key create` made on the server's host"
            ))
        })?;
        let api_secret = non_empty(&lookup, ENV_API_SECRET)?.ok_or_else(|| {
            config_error(format!(
                "{ENV_API_SECRET} is not set: set it to the secret of the API key {}",
                api_key.trim()
            ))
        })?;
        // The secret is taken as it is: whitespace may belong to it.
        Ok(Self::new(url, api_key.trim(), Secret::new(api_secret)))
    }
}

/// A variable of the process environment; an error if it is not UTF-8.
fn env_lookup(name: &str) -> zlayer_secrets_core::Result<Option<String>> {
    match std::env::var(name) {
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(config_error(format!(
            "the environment variable {name} is not valid UTF-8"
        ))),
    }
}

/// A variable's value, `None` when unset or only whitespace.
fn non_empty(
    lookup: &impl Fn(&str) -> zlayer_secrets_core::Result<Option<String>>,
    name: &str,
) -> zlayer_secrets_core::Result<Option<String>> {
    Ok(lookup(name)?.filter(|v| !v.trim().is_empty()))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from(vars: &[(&str, &str)]) -> zlayer_secrets_core::Result<RemoteConfig> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        RemoteConfig::from_lookup(|name| Ok(vars.get(name).cloned()))
    }

    const FULL: [(&str, &str); 3] = [
        (ENV_SERVER, " https://secrets.example.com:8790 "),
        (ENV_API_KEY, "zk_abc\n"),
        (ENV_API_SECRET, " s3cr3t "),
    ];

    #[test]
    fn all_three_variables_make_a_configuration() {
        let config = from(&FULL).unwrap();
        assert_eq!(config.url, "https://secrets.example.com:8790");
        assert_eq!(config.api_key, "zk_abc");
        assert_eq!(config.api_secret.expose(), " s3cr3t ");
        assert!(config.ca_pem.is_none());
    }

    #[test]
    fn each_missing_variable_is_named() {
        for missing in [ENV_SERVER, ENV_API_KEY, ENV_API_SECRET] {
            for unset in [None, Some("  ")] {
                let mut vars: Vec<(&str, &str)> = FULL
                    .iter()
                    .copied()
                    .filter(|(k, _)| *k != missing)
                    .collect();
                if let Some(blank) = unset {
                    vars.push((missing, blank));
                }
                let err = from(&vars).unwrap_err();
                let text = err.to_string();
                assert!(
                    matches!(err, SecretsError::InvalidInput { .. }),
                    "{missing}: {text}"
                );
                assert!(text.contains(&format!("{missing} is not set")), "{text}");
                assert!(!text.contains("s3cr3t"), "{text}");
            }
        }
    }

    #[test]
    fn the_ca_file_is_read_and_a_missing_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, b"-----BEGIN CERTIFICATE-----\n").unwrap();
        let shown = path.display().to_string();
        let mut vars = FULL.to_vec();
        vars.push((ENV_SERVER_CA, &shown));
        let config = from(&vars).unwrap();
        assert_eq!(
            config.ca_pem.as_deref(),
            Some(&b"-----BEGIN CERTIFICATE-----\n"[..])
        );

        let gone = dir.path().join("gone.pem").display().to_string();
        let mut vars = FULL.to_vec();
        vars.push((ENV_SERVER_CA, &gone));
        let err = from(&vars).unwrap_err();
        assert!(matches!(err, SecretsError::File { .. }), "{err}");
        assert!(err.to_string().contains("gone.pem"), "{err}");
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let mut config = from(&FULL).unwrap();
        config.ca_pem = Some(vec![0; 12]);
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(
            shown.contains("zk_abc") && shown.contains("12 bytes"),
            "{shown}"
        );
    }

    #[test]
    fn key_from_env_keeps_the_url_given() {
        let config = RemoteConfig::key_from_lookup("http://127.0.0.1:1".to_owned(), |name| {
            Ok(match name {
                ENV_API_KEY => Some("zk_1".to_owned()),
                ENV_API_SECRET => Some("x".to_owned()),
                _ => Some("http://elsewhere".to_owned()),
            })
        })
        .unwrap();
        assert_eq!(config.url, "http://127.0.0.1:1");
    }
}
