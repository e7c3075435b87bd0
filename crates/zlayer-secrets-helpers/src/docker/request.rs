//! docker's requests: the action, a server URL, or the credentials as JSON.

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize as _, Zeroizing};
use zlayer_secrets_credentials::registry_credentials::normalize_registry;

use super::DockerError;

/// What docker asks for (the helper's one argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Keep the credentials given as JSON.
    Store,
    /// The credentials of the server URL given.
    Get,
    /// Delete the credentials of the server URL given.
    Erase,
    /// Every server URL with its user name.
    List,
    /// The helper's name and version.
    Version,
}

impl Action {
    /// The action named `name`, or [`DockerError::UnknownAction`].
    pub fn from_name(name: &str) -> Result<Self, DockerError> {
        Ok(match name {
            "store" => Self::Store,
            "get" => Self::Get,
            "erase" => Self::Erase,
            "list" => Self::List,
            "version" => Self::Version,
            other => {
                return Err(DockerError::UnknownAction {
                    action: other.to_owned(),
                });
            }
        })
    }

    /// Whether the action has a request to read (the others ignore their input).
    #[must_use]
    pub fn reads_input(self) -> bool {
        matches!(self, Self::Store | Self::Get | Self::Erase)
    }
}

/// The server URL of a `get` or `erase` request: the whole input, without surrounding
/// white space. One that is not a registry (or not UTF-8) has no credential:
/// [`DockerError::NotARegistry`], which docker reads as not found, saying why in its
/// `reason`.
pub fn server_url(input: &[u8]) -> Result<String, DockerError> {
    let Ok(text) = std::str::from_utf8(input) else {
        return Err(DockerError::NotARegistry {
            reason: "the server URL is not UTF-8".to_owned(),
        });
    };
    let url = text.trim();
    if url.is_empty() {
        return Err(DockerError::MissingServerUrl);
    }
    if let Err(why) = check_server_url(url) {
        return Err(DockerError::NotARegistry {
            reason: why.to_string(),
        });
    }
    Ok(url.to_owned())
}

/// Refuses a server URL that is not a registry, before any look-up. One with user
/// information (`https://user:password@host`) is refused without being shown: the password
/// belongs in `Secret`, and it must not reach an error message.
pub(super) fn check_server_url(url: &str) -> Result<(), DockerError> {
    if url.contains('@') {
        return Err(DockerError::UserInformation);
    }
    normalize_registry(url)
        .map(drop)
        .map_err(DockerError::InvalidRegistry)
}

/// The JSON docker exchanges for one credential: what `store` reads and `get` answers.
/// The secret is wiped on drop, and `Debug` does not show it.
#[derive(Deserialize, Serialize, PartialEq, Eq)]
pub struct Credentials {
    #[serde(rename = "ServerURL", default)]
    server_url: String,
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

impl Credentials {
    /// Credentials of `server_url` for `username` (`<token>` for an identity token).
    #[must_use]
    pub fn new(server_url: &str, username: &str, secret: &str) -> Self {
        Self {
            server_url: server_url.to_owned(),
            username: username.to_owned(),
            secret: secret.to_owned(),
        }
    }

    /// Reads the JSON object of a `store` request. Missing fields are empty; an error says
    /// only the kind and the position of the problem, never what the input holds.
    pub fn from_json(input: &[u8]) -> Result<Self, DockerError> {
        serde_json::from_slice(input).map_err(|e| {
            use serde_json::error::Category;
            DockerError::BadJson {
                kind: match e.classify() {
                    Category::Io => "Io",
                    Category::Syntax => "Syntax",
                    Category::Data => "Data",
                    Category::Eof => "Eof",
                },
                line: e.line(),
                column: e.column(),
            }
        })
    }

    /// The JSON object docker reads from `get`, and a final newline.
    #[must_use]
    pub fn to_json(&self) -> Zeroizing<String> {
        // Room for every character escaped (`\u00XX`), so that writing never reallocates
        // (which would leave a copy of the secret in freed memory).
        let fields = self.server_url.len() + self.username.len() + self.secret.len();
        let mut text = Zeroizing::new(Vec::with_capacity(6 * fields + 64));
        serde_json::to_writer(&mut *text, self).expect("an object of three strings serialises");
        text.push(b'\n');
        let text = String::from_utf8(std::mem::take(&mut *text)).expect("serde_json writes UTF-8");
        Zeroizing::new(text)
    }

    /// The server URL, as given.
    #[must_use]
    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    /// The user name, as given (`<token>` for an identity token).
    #[must_use]
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password or token.
    #[must_use]
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("server_url", &self.server_url)
            .field("username", &self.username)
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

impl Drop for Credentials {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}
