//! Where a credential is kept for git, and which credentials a request matches.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use zlayer_secrets_core::SecretsStore;
use zlayer_secrets_credentials::git_credentials::{
    GitCredentialDetails, GitCredentialKind, GitCredentialStore, normalize_git_location_fields,
};

use super::{GitError, Request};

/// Bytes escaped in the stored path: everything but letters, digits and `-._~/`.
const PATH_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// The stored host URL of a credential for `protocol`, `host` and `path`.
pub(super) fn location_url(protocol: &str, host: &str, path: Option<&str>) -> String {
    let protocol = protocol.to_ascii_lowercase();
    match path {
        Some(p) => format!(
            "{protocol}://{host}/{}",
            utf8_percent_encode(p, PATH_ESCAPES)
        ),
        None => format!("{protocol}://{host}"),
    }
}

/// The path of a stored host, percent-decoded (none without a scheme or a path).
pub(super) fn stored_path(host: &str) -> Option<String> {
    let (_, rest) = host.trim().split_once("://")?;
    rest.split_once('/')
        .map(|(_, p)| percent_decode_str(p).decode_utf8_lossy().into_owned())
        .filter(|p| !p.is_empty())
}

/// What a look-up compares: the location (protocol, host and port, as
/// `normalize_git_location_fields` keys them), and only when the request has them the
/// path and the user name.
#[derive(Debug, Clone)]
pub struct Lookup<'a> {
    pub(super) protocol: String,
    pub(super) host: &'a str,
    pub(super) key: String,
    pub(super) path: Option<&'a str>,
    username: Option<&'a str>,
}

impl<'a> Lookup<'a> {
    /// `None` when the request lacks a protocol or host (nothing to look up). An error when
    /// the protocol is not a URL scheme or the host not a host name with an optional port.
    pub fn of(request: &'a Request) -> Result<Option<Self>, GitError> {
        let (Some(protocol), Some(host)) = (request.protocol.as_deref(), request.host.as_deref())
        else {
            return Ok(None);
        };
        let key =
            normalize_git_location_fields(protocol, host).map_err(GitError::RefusedLocation)?;
        Ok(Some(Self {
            protocol: protocol.to_ascii_lowercase(),
            host,
            key,
            path: request.path.as_deref(),
            username: request.username.as_deref(),
        }))
    }

    /// The location key, `protocol://host[:port]`.
    #[must_use]
    pub fn location(&self) -> &str {
        &self.key
    }

    /// The same location, any path and user name.
    #[must_use]
    pub fn anywhere(&self) -> Self {
        Self {
            path: None,
            username: None,
            ..self.clone()
        }
    }

    /// Whether a credential of the location matches (the location is already compared):
    /// a token (kind PAT) with a host, and the path and user name asked for, if any.
    #[must_use]
    pub fn matches(&self, details: &GitCredentialDetails) -> bool {
        if details.credential.kind != GitCredentialKind::Pat {
            return false;
        }
        let Some(host) = details.host.as_deref() else {
            return false;
        };
        self.path
            .is_none_or(|p| stored_path(host).as_deref() == Some(p))
            && self
                .username
                .is_none_or(|u| details.username.as_deref() == Some(u))
    }

    /// The matching credentials of `git`, newest first.
    pub async fn find<S: SecretsStore>(
        &self,
        git: &GitCredentialStore<S>,
    ) -> Result<Vec<GitCredentialDetails>, GitError> {
        Ok(git
            .find_by_location_key(&self.key)
            .await
            .map_err(GitError::Lookup)?
            .into_iter()
            .filter(|d| self.matches(d))
            .collect())
    }
}
