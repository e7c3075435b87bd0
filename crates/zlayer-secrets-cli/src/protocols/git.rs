//! `zlayer-secret git-credential get|store|erase`: git's credential-helper protocol over the
//! Git credential store (personal access tokens).
//!
//! git writes `key=value` lines (LF-terminated; a blank line or the end of input ends the
//! request) and reads the same format back. The attributes used are `protocol`, `host`
//! (with its port, if any), `path` (only with `credential.useHttpPath`), `username`,
//! `password` and `url` (which sets all of them); every other attribute (such as
//! `password_expiry_utc`, `wwwauth[]` or `capability[]`) is accepted and ignored. A key
//! holds no `=`; a value may; NUL and carriage returns are refused.
//!
//! A credential is kept as one Git credential of kind PAT whose host is the URL
//! `protocol://host[/path]` (the path percent-encoded) and whose user name is git's
//! `username`; its password may be empty (a token given as the user name). Any protocol
//! is kept (`https`, and `smtp` from `git send-email`, `imap`, ...), keyed by its location
//! `protocol://host[:port]` as `normalize_git_location_fields` gives it: the protocol and
//! the host compared without case, the host without a trailing dot and without the
//! protocol's default port. A request matches a credential of the same location when,
//! only if the request has them, the path and the user name are the same; of several
//! matches the one stored last is given, as git's `credential-store` does. A credential
//! created without a scheme (`github.com`) counts as `https` with no path.
//!
//! The protocol and host are compared as the fields git sent, never through a URL made of
//! them: a `host` holding `/`, `?`, `#`, `@`, `\`, whitespace or a control character (git
//! percent-decodes `https://github.com%2f.evil.example/` into `host=github.com/.evil.example`)
//! is refused with an error, so it can neither receive nor replace `github.com`'s token.
//! Requests without a host (git's `cert` requests name only a path) are ignored.

use std::fmt;
use std::io::Write as _;

use anyhow::{Context as _, bail};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;
use zlayer_secrets::git_credentials::{
    GitCredentialDetails, GitCredentialKind, GitCredentialStore, normalize_git_location,
    normalize_git_location_fields,
};
use zlayer_secrets::{SecretsError, SecretsStore};

use super::{open_store, read_request};
use crate::backend::Location;

/// Bytes escaped in the stored path: everything but letters, digits and `-._~/`.
const PATH_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// The most bytes of a credential's label.
const MAX_LABEL: usize = 256;

/// One request of git: the attributes this helper uses.
#[derive(Default, PartialEq, Eq)]
pub(crate) struct Request {
    /// `https`, `http`, ...
    pub(crate) protocol: Option<String>,
    /// The host, with `:port` when git has one.
    pub(crate) host: Option<String>,
    /// The path of the repository (only with `credential.useHttpPath`).
    pub(crate) path: Option<String>,
    /// The user name.
    pub(crate) username: Option<String>,
    /// The password or token.
    pub(crate) password: Option<Zeroizing<String>>,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("protocol", &self.protocol)
            .field("host", &self.host)
            .field("path", &self.path)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

/// Reads one request. Errors name the line and the key, never a value.
pub(crate) fn parse(input: &[u8]) -> anyhow::Result<Request> {
    let mut request = Request::default();
    for (index, line) in input.split(|b| *b == b'\n').enumerate() {
        let number = index + 1;
        if line.is_empty() {
            break;
        }
        let line = std::str::from_utf8(line)
            .map_err(|_| anyhow::anyhow!("line {number} of the request is not UTF-8"))?;
        let Some((key, value)) = line.split_once('=') else {
            bail!("line {number} of the request has no `=` (expected key=value)");
        };
        let shown_key: String = key.chars().take(40).flat_map(char::escape_debug).collect();
        if key.is_empty() {
            bail!("line {number} of the request has an empty key");
        }
        if line.contains('\0') {
            bail!("line {number} of the request (`{shown_key}`) contains a NUL byte");
        }
        if line.contains('\r') {
            bail!("line {number} of the request (`{shown_key}`) contains a carriage return");
        }
        match key {
            "protocol" => request.protocol = Some(value.to_owned()),
            "host" => request.host = Some(value.to_owned()),
            "path" => request.path = Some(value.to_owned()),
            "username" => request.username = Some(value.to_owned()),
            "password" => request.password = Some(Zeroizing::new(value.to_owned())),
            "url" => request = from_url(value).with_context(|| format!("line {number}: url"))?,
            _ => {}
        }
    }
    // git never sends empty values for these; an empty one means "not given".
    for field in [
        &mut request.protocol,
        &mut request.host,
        &mut request.path,
        &mut request.username,
    ] {
        if field.as_deref() == Some("") {
            *field = None;
        }
    }
    Ok(request)
}

/// The attributes of a `url=` line: `protocol://[user[:password]@]host[:port][/path]`, each
/// part but the protocol percent-decoded (as git does; a host that decodes into `/`, `@`
/// and the like is refused later, when it is used).
fn from_url(url: &str) -> anyhow::Result<Request> {
    let Some((protocol, rest)) = url.split_once("://") else {
        bail!("the URL has no `://`");
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((user, host)) => (Some(user), host),
        None => (None, authority),
    };
    let decode = |s: &str| -> anyhow::Result<String> {
        Ok(percent_decode_str(s)
            .decode_utf8()
            .context("a percent-encoded part of the URL is not UTF-8")?
            .into_owned())
    };
    let (username, password) = match userinfo {
        None => (None, None),
        Some(info) => match info.split_once(':') {
            Some((u, p)) => (Some(decode(u)?), Some(Zeroizing::new(decode(p)?))),
            None => (Some(decode(info)?), None),
        },
    };
    Ok(Request {
        protocol: Some(protocol.to_owned()),
        host: Some(decode(host)?),
        path: path.map(decode).transpose()?,
        username,
        password,
    })
}

/// The stored host URL of a credential for `protocol`, `host` and `path`.
fn location_url(protocol: &str, host: &str, path: Option<&str>) -> String {
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
fn stored_path(host: &str) -> Option<String> {
    let (_, rest) = host.trim().split_once("://")?;
    rest.split_once('/')
        .map(|(_, p)| percent_decode_str(p).decode_utf8_lossy().into_owned())
        .filter(|p| !p.is_empty())
}

/// What a look-up compares: the location key, and optionally path and user name.
struct Wanted<'a> {
    protocol: String,
    host: &'a str,
    key: String,
    path: Option<&'a str>,
    username: Option<&'a str>,
}

impl<'a> Wanted<'a> {
    /// `None` when the request lacks a protocol or host. An error when the protocol is
    /// not a URL scheme or the host not a host name with an optional port.
    fn of(request: &'a Request) -> anyhow::Result<Option<Self>> {
        let (Some(protocol), Some(host)) = (request.protocol.as_deref(), request.host.as_deref())
        else {
            return Ok(None);
        };
        let key = normalize_git_location_fields(protocol, host)
            .context("git sent a protocol or host this helper refuses")?;
        Ok(Some(Self {
            protocol: protocol.to_ascii_lowercase(),
            host,
            key,
            path: request.path.as_deref(),
            username: request.username.as_deref(),
        }))
    }

    /// The same location, any path and user name.
    fn anywhere(&self) -> Self {
        Self {
            protocol: self.protocol.clone(),
            host: self.host,
            key: self.key.clone(),
            path: None,
            username: None,
        }
    }

    /// Whether a credential of the location matches (the location is already compared).
    fn matches(&self, details: &GitCredentialDetails) -> bool {
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

    /// The matching credentials, newest first.
    async fn find(
        &self,
        git: &GitCredentialStore<std::sync::Arc<dyn SecretsStore>>,
    ) -> anyhow::Result<Vec<GitCredentialDetails>> {
        Ok(git
            .find_by_location_key(&self.key)
            .await
            .context("cannot look up the Git credentials")?
            .into_iter()
            .filter(|d| self.matches(d))
            .collect())
    }
}

/// Runs one operation: reads the request from stdin, answers on stdout. Operations other
/// than `get`, `store` and `erase` are ignored, as git asks of helpers.
pub(crate) async fn run(location: &Location, operation: &str) -> anyhow::Result<()> {
    let input = read_request()?;
    let request = parse(&input)?;
    drop(input);
    match operation {
        "get" => {
            if let Some(answer) = get(location, &request).await? {
                let mut out = std::io::stdout().lock();
                out.write_all(answer.as_bytes())
                    .and_then(|()| out.flush())
                    .context("cannot write the answer to standard output")?;
            }
        }
        "store" => store(location, &request).await?,
        "erase" => erase(location, &request).await?,
        other => tracing::debug!(operation = other, "ignoring an unknown operation"),
    }
    Ok(())
}

/// The answer to `get`: `username=` and `password=` lines, or `None` when nothing matches.
pub(crate) async fn get(
    location: &Location,
    request: &Request,
) -> anyhow::Result<Option<Zeroizing<String>>> {
    let Some(wanted) = Wanted::of(request)? else {
        return Ok(None);
    };
    let Some(store) = open_store(location, false).await? else {
        return Ok(None);
    };
    let git = GitCredentialStore::new(store);
    let Some(found) = wanted.find(&git).await?.into_iter().next() else {
        return Ok(None);
    };
    let secret = match git.get_value(&found.credential.id).await {
        Ok(s) => s,
        // Deleted since the listing: nothing matches any more.
        Err(SecretsError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e).context("cannot read the Git credential"),
    };
    let mut answer = Zeroizing::new(String::new());
    if let Some(user) = &found.username {
        if user.contains(['\n', '\0']) {
            bail!("the user name of the matching credential cannot be sent to git");
        }
        answer.push_str("username=");
        answer.push_str(user);
        answer.push('\n');
    }
    if secret.expose().contains(['\n', '\0']) {
        bail!(
            "the token of the matching credential {} holds a line break or NUL, which git's protocol cannot carry",
            found.credential.id
        );
    }
    answer.push_str("password=");
    answer.push_str(secret.expose());
    answer.push('\n');
    Ok(Some(answer))
}

/// `store`: keeps the user name and password (which may be empty) for the protocol,
/// host and path, replacing the credential stored for exactly those (after the new one is
/// written, so a failure never leaves none), and makes it the one a look-up of the host
/// finds first. A request without protocol, host, user name or password is ignored.
pub(crate) async fn store(location: &Location, request: &Request) -> anyhow::Result<()> {
    let (Some(protocol), Some(host), Some(username), Some(password)) = (
        request.protocol.as_deref(),
        request.host.as_deref(),
        request.username.as_deref(),
        request.password.as_ref(),
    ) else {
        tracing::debug!("store without protocol, host, user name or password: ignored");
        return Ok(());
    };
    let exact = Request {
        protocol: Some(protocol.to_owned()),
        host: Some(host.to_owned()),
        path: request.path.clone(),
        username: Some(username.to_owned()),
        password: None,
    };
    let Some(wanted) = Wanted::of(&exact)? else {
        return Ok(());
    };
    // The stored URL is made of checked fields; it must read back as the same location.
    let url = location_url(&wanted.protocol, wanted.host, request.path.as_deref());
    if normalize_git_location(&url).ok().as_deref() != Some(wanted.key.as_str()) {
        bail!("git asked to store a credential for a host that cannot be stored unambiguously");
    }
    let store = open_store(location, true)
        .await?
        .context("the store could not be created")?;
    let git = GitCredentialStore::new(store);
    let here = wanted.anywhere().find(&git).await?;
    let same_place: Vec<&GitCredentialDetails> = here
        .iter()
        .filter(|d| {
            wanted.matches(d) && stored_path(d.host.as_deref().unwrap_or_default()) == request.path
        })
        .collect();
    if let [only] = same_place.as_slice()
        && let Ok(current) = git.get_value(&only.credential.id).await
        && bool::from(current.expose().as_bytes().ct_eq(password.as_bytes()))
    {
        // Already stored: it only has to be the newest of the host, as git's
        // `credential-store` puts the credential it stores first.
        if here.first().map(|d| &d.credential.id) == Some(&only.credential.id) {
            return Ok(());
        }
        match git.set_value(&only.credential.id, password).await {
            Ok(()) => return Ok(()),
            // Deleted meanwhile: store it anew.
            Err(SecretsError::NotFound { .. }) => {}
            Err(e) => return Err(e).context("cannot store the Git credential"),
        }
    }
    let created = git
        .create_for_host(
            &label(username, &url),
            password,
            GitCredentialKind::Pat,
            &url,
            Some(username),
        )
        .await
        .context("cannot store the Git credential")?;
    for old in same_place {
        delete(&git, &old.credential.id).await?;
    }
    tracing::debug!(id = %created.id, "stored a Git credential for git");
    Ok(())
}

/// `erase`: deletes the credentials that match (with `password` given, only those holding
/// that password). Needs at least a protocol and host: an empty request erases nothing.
pub(crate) async fn erase(location: &Location, request: &Request) -> anyhow::Result<()> {
    let Some(wanted) = Wanted::of(request)? else {
        return Ok(());
    };
    let Some(store) = open_store(location, false).await? else {
        return Ok(());
    };
    let git = GitCredentialStore::new(store);
    for found in wanted.find(&git).await? {
        if let Some(password) = &request.password {
            let current = match git.get_value(&found.credential.id).await {
                Ok(v) => v,
                Err(SecretsError::NotFound { .. }) => continue,
                Err(e) => return Err(e).context("cannot read the Git credential"),
            };
            if !bool::from(current.expose().as_bytes().ct_eq(password.as_bytes())) {
                continue;
            }
        }
        delete(&git, &found.credential.id).await?;
    }
    Ok(())
}

/// Deletes one credential; one already gone is fine.
async fn delete(
    git: &GitCredentialStore<std::sync::Arc<dyn SecretsStore>>,
    id: &str,
) -> anyhow::Result<()> {
    match git.delete(id).await {
        Ok(()) | Err(SecretsError::NotFound { .. }) => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot delete the Git credential {id}")),
    }
}

/// The label of a credential stored for git: `git: USER @ URL`, cut to [`MAX_LABEL`] bytes.
fn label(username: &str, url: &str) -> String {
    let mut label = format!("git: {username} @ {url}");
    if label.len() > MAX_LABEL {
        let mut end = MAX_LABEL;
        while !label.is_char_boundary(end) {
            end -= 1;
        }
        label.truncate(end);
    }
    label.trim_end().to_owned()
}

#[cfg(test)]
mod tests;
