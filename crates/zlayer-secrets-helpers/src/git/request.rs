//! git's request: `key=value` lines.

use std::fmt;

use percent_encoding::percent_decode_str;
use zeroize::Zeroizing;

use super::{GitError, UrlError};

/// One request of git: the attributes this helper uses.
#[derive(Default, Clone, PartialEq, Eq)]
pub struct Request {
    /// `https`, `http`, ...
    pub protocol: Option<String>,
    /// The host, with `:port` when git has one.
    pub host: Option<String>,
    /// The path of the repository (only with `credential.useHttpPath`).
    pub path: Option<String>,
    /// The user name.
    pub username: Option<String>,
    /// The password or token.
    pub password: Option<Zeroizing<String>>,
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

impl Request {
    /// The request as git writes it: a `key=value` line for each attribute it has, in the
    /// order `protocol`, `host`, `path`, `username`, `password`, which [`parse`] reads back
    /// as the same request (an empty protocol, host, path or user name reads back as
    /// absent, as git means it). An attribute holding a line feed, a carriage return or NUL
    /// (possible only through a percent-encoded `url=`) cannot be written: an error names
    /// it.
    pub fn to_text(&self) -> Result<Zeroizing<String>, GitError> {
        let fields = [
            ("protocol", self.protocol.as_deref()),
            ("host", self.host.as_deref()),
            ("path", self.path.as_deref()),
            ("username", self.username.as_deref()),
            ("password", self.password.as_deref().map(String::as_str)),
        ];
        let size = fields
            .iter()
            .map(|(k, v)| v.map_or(0, |v| k.len() + v.len() + 2))
            .sum();
        let mut text = Zeroizing::new(String::with_capacity(size));
        for (field, value) in fields {
            let Some(value) = value else { continue };
            if value.contains(['\n', '\r', '\0']) {
                return Err(GitError::Unwritable { field });
            }
            text.push_str(field);
            text.push('=');
            text.push_str(value);
            text.push('\n');
        }
        Ok(text)
    }
}

/// Reads one request. Errors name the line and the key, never a value.
pub fn parse(input: &[u8]) -> Result<Request, GitError> {
    let mut request = Request::default();
    for (index, line) in input.split(|b| *b == b'\n').enumerate() {
        let number = index + 1;
        if line.is_empty() {
            break;
        }
        let line = std::str::from_utf8(line).map_err(|_| GitError::NotUtf8 { line: number })?;
        let Some((key, value)) = line.split_once('=') else {
            return Err(GitError::NoEquals { line: number });
        };
        if key.is_empty() {
            return Err(GitError::EmptyKey { line: number });
        }
        if line.contains('\0') {
            return Err(GitError::Nul {
                line: number,
                key: key.to_owned(),
            });
        }
        if line.contains('\r') {
            return Err(GitError::CarriageReturn {
                line: number,
                key: key.to_owned(),
            });
        }
        match key {
            "protocol" => request.protocol = Some(value.to_owned()),
            "host" => request.host = Some(value.to_owned()),
            "path" => request.path = Some(value.to_owned()),
            "username" => request.username = Some(value.to_owned()),
            "password" => request.password = Some(Zeroizing::new(value.to_owned())),
            "url" => {
                request = from_url(value).map_err(|source| GitError::Url {
                    line: number,
                    source,
                })?;
            }
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
fn from_url(url: &str) -> Result<Request, UrlError> {
    let Some((protocol, rest)) = url.split_once("://") else {
        return Err(UrlError::NoScheme);
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((user, host)) => (Some(user), host),
        None => (None, authority),
    };
    let decode = |s: &str| -> Result<String, UrlError> {
        Ok(percent_decode_str(s)
            .decode_utf8()
            .map_err(UrlError::NotUtf8)?
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
