//! Normalising registry hosts and Git hosts or URLs into one comparable key.
//!
//! Both forms share these rules:
//! - Surrounding whitespace is ignored; the input must not be empty.
//! - A scheme is optional (`https://ghcr.io` and `ghcr.io` are the same).
//! - Anything after the host and port (a path such as `/v1/` or `/org/repo.git`, a query, a
//!   fragment, trailing slashes) is ignored: credentials are per host.
//! - The host is compared without case (ASCII) and without a trailing dot.
//! - A port equal to the scheme's default is dropped; other ports stay part of the key
//!   (`localhost:5000` differs from `localhost`).
//! - IPv6 literals are written in brackets: `[::1]:5000`.
//! - A host holds only ASCII letters, digits, `-`, `.` and `_` (or an IPv6 literal).
//! - A backslash before the host (`https://evil.example\@github.com`) is refused: URL
//!   parsers disagree on whether it ends the host.
//! - Errors quote the input, except one that holds a `@`: it may carry a password
//!   (`https://user:password@host`), so it is never shown.
//!
//! Git's credential protocol names the scheme and the host in separate attributes; those
//! are compared as fields ([`normalize_git_host_fields`]), never by reading a URL made from
//! them, so a host such as `github.com/.evil.example` (git's decoding of
//! `github.com%2f.evil.example`) is refused instead of becoming `github.com`.

use zlayer_secrets_core::{Result, SecretsError};

/// Docker Hub's names, all keyed as `docker.io`.
const DOCKER_HUB_ALIASES: [&str; 4] = [
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "registry.hub.docker.com",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
    Ssh,
    Git,
}

impl Scheme {
    fn default_port(self) -> u16 {
        match self {
            Self::Http => 80,
            Self::Https => 443,
            Self::Ssh => 22,
            Self::Git => 9418,
        }
    }
}

fn invalid(kind: &str, input: &str, why: &str) -> SecretsError {
    if input.contains('@') {
        return SecretsError::InvalidInput(format!(
            "invalid {kind} (not shown: it holds user information, which may include a password): {why}"
        ));
    }
    let shown: String = input
        .chars()
        .take(80)
        .flat_map(char::escape_debug)
        .collect();
    SecretsError::InvalidInput(format!("invalid {kind} \"{shown}\": {why}"))
}

/// Which syntax a host is being read for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Registry,
    Git,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Self::Registry => "registry",
            Self::Git => "Git host or URL",
        }
    }

    fn schemes(self) -> &'static str {
        match self {
            Self::Registry => "the scheme must be http or https",
            Self::Git => "the scheme must be https, http, ssh or git",
        }
    }
}

fn normalize(input: &str, kind: Kind) -> Result<String> {
    let fail = |why: &str| invalid(kind.noun(), input, why);
    let s = input.trim();
    if s.is_empty() {
        return Err(fail("it is empty"));
    }
    if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(fail("whitespace and control characters are not allowed"));
    }
    let (scheme, rest) = match s.split_once("://") {
        Some((name, rest)) => (
            Some(scheme_of(name, kind).ok_or_else(|| fail(kind.schemes()))?),
            rest,
        ),
        None => (None, s),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = match authority.rsplit_once('@') {
        None => authority,
        Some((user, _)) if user.contains('\\') => {
            return Err(fail("a backslash is not allowed before the host"));
        }
        Some((_, after)) if kind == Kind::Git => after,
        Some(_) => {
            return Err(fail(
                "user names belong in the credential, not in the registry",
            ));
        }
    };
    let (host, port, scp) =
        split_host_port(host_port, scheme.is_none() && kind == Kind::Git).map_err(&fail)?;
    let host = check_host(host).map_err(&fail)?;
    let scheme = match (scheme, scp) {
        (Some(s), _) => s,
        (None, true) => Scheme::Ssh,
        (None, false) => Scheme::Https,
    };
    Ok(key(kind, scheme, host, port))
}

/// The scheme called `name` (any case), if `kind` accepts it.
fn scheme_of(name: &str, kind: Kind) -> Option<Scheme> {
    match (name.to_ascii_lowercase().as_str(), kind) {
        ("https", _) => Some(Scheme::Https),
        ("http", _) => Some(Scheme::Http),
        ("ssh" | "git+ssh" | "ssh+git", Kind::Git) => Some(Scheme::Ssh),
        ("git", Kind::Git) => Some(Scheme::Git),
        _ => None,
    }
}

/// The comparison key of a checked, lower-cased host and its port.
fn key(kind: Kind, scheme: Scheme, host: String, port: Option<u16>) -> String {
    let port = port.filter(|p| *p != scheme.default_port());
    if kind == Kind::Registry && port.is_none() && DOCKER_HUB_ALIASES.contains(&host.as_str()) {
        return DOCKER_HUB_ALIASES[0].to_owned();
    }
    match port {
        Some(p) => format!("{host}:{p}"),
        None => host,
    }
}

/// Splits `host[:port]` or `[v6][:port]`. With `scp_ok`, `host:path` (Git's scp-like
/// syntax, `git@github.com:org/repo.git`) is accepted and reported as such.
fn split_host_port(s: &str, scp_ok: bool) -> Result<(&str, Option<u16>, bool), &'static str> {
    let (host, after) = if let Some(v6) = s.strip_prefix('[') {
        let (inside, after) = v6
            .split_once(']')
            .ok_or("an IPv6 address needs its closing `]`")?;
        (&s[..inside.len() + 2], after)
    } else {
        match s.split_once(':') {
            Some((h, _)) => (h, &s[h.len()..]),
            None => (s, ""),
        }
    };
    let Some(port) = after.strip_prefix(':') else {
        return if after.is_empty() {
            Ok((host, None, false))
        } else {
            Err("unexpected text after the IPv6 address")
        };
    };
    if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
        let port: u16 = port
            .parse()
            .map_err(|_| "the port must be a number from 1 to 65535")?;
        if port == 0 {
            return Err("the port must be a number from 1 to 65535");
        }
        return Ok((host, Some(port), false));
    }
    if scp_ok {
        return Ok((host, None, true));
    }
    Err("the port must be a number from 1 to 65535")
}

fn check_host(host: &str) -> Result<String, &'static str> {
    if let Some(inside) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        if inside.is_empty()
            || !inside
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err("not a valid IPv6 address");
        }
        return Ok(format!("[{}]", inside.to_ascii_lowercase()));
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() {
        return Err("the host is missing");
    }
    if !host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
    {
        return Err("a host holds only ASCII letters, digits, `-`, `.` and `_`");
    }
    if host.starts_with(['.', '-']) || host.contains("..") {
        return Err("not a valid host name");
    }
    Ok(host.to_ascii_lowercase())
}

/// The comparison key of a registry: `https://ghcr.io/`, `ghcr.io`, `GHCR.IO:443` and
/// `ghcr.io/some/path` all give `ghcr.io`. Besides the common rules of this module:
/// - schemes: `http` or `https` (443 is the default port without a scheme or with
///   `https`, 80 with `http`);
/// - user information (`user@host`) is refused;
/// - Docker Hub's names `docker.io`, `index.docker.io`, `registry-1.docker.io` and
///   `registry.hub.docker.com` (with any path, such as `https://index.docker.io/v1/`) all
///   give `docker.io`.
pub fn normalize_registry(registry: &str) -> Result<String> {
    normalize(registry, Kind::Registry)
}

/// The comparison key of a Git host, given as a host or any Git remote URL:
/// `github.com`, `https://github.com/org/repo.git`, `ssh://git@github.com:22/org/repo` and
/// `git@github.com:org/repo.git` all give `github.com`. Besides the common rules of this
/// module:
/// - schemes: `https`, `http`, `ssh` (also `git+ssh`, `ssh+git`) and `git`, with default
///   ports 443, 80, 22 and 9418; a bare `host:port` is read as HTTPS (443 is dropped);
/// - a user name (`git@`) is ignored;
/// - the scp-like form `[user@]host:path` is read as SSH. A path that starts with digits
///   (`host:123/repo`) is read as a port, so write such remotes with `ssh://`.
pub fn normalize_git_host(host_or_url: &str) -> Result<String> {
    normalize(host_or_url, Kind::Git)
}

/// Whether `scheme` (any case) is one a Git host may have: `https`, `http`, `ssh` (also
/// `git+ssh`, `ssh+git`) or `git`.
#[must_use]
pub fn is_git_scheme(scheme: &str) -> bool {
    scheme_of(scheme, Kind::Git).is_some()
}

/// The comparison key of a Git host given as separate fields, as git's credential protocol
/// sends them: the `scheme` (as [`is_git_scheme`] accepts) and the `host` (`host`,
/// `host:port` or `[v6]:port`). It is the key [`normalize_git_host`] gives for
/// `scheme://host`, but the fields are checked as fields and never read as a URL: a `host`
/// that holds anything a URL gives meaning to (`/`, `?`, `#`, `@`, `\`), whitespace or a
/// control character is refused, and so is a port that is not a number. The host is taken
/// exactly as given (no trimming).
pub fn normalize_git_host_fields(scheme: &str, host: &str) -> Result<String> {
    let fail = |why: &str| invalid("Git host", host, why);
    let scheme = scheme_of(scheme, Kind::Git).ok_or_else(|| fail(Kind::Git.schemes()))?;
    if host.is_empty() {
        return Err(fail("it is empty"));
    }
    if host.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(fail("whitespace and control characters are not allowed"));
    }
    if host.contains(['/', '?', '#', '@', '\\']) {
        return Err(fail("a host cannot contain `/`, `?`, `#`, `@` or `\\`"));
    }
    let (name, port, _) = split_host_port(host, false).map_err(&fail)?;
    let name = check_host(name).map_err(&fail)?;
    Ok(key(Kind::Git, scheme, name, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_forms_that_match() {
        for input in [
            "ghcr.io",
            "https://ghcr.io/",
            "GHCR.IO:443",
            "https://GHCR.io:443/v2/",
            "ghcr.io/org/image",
            "  ghcr.io  ",
            "ghcr.io.",
            "HTTPS://ghcr.io",
        ] {
            assert_eq!(normalize_registry(input).unwrap(), "ghcr.io", "{input}");
        }
    }

    #[test]
    fn docker_hub_aliases() {
        for input in [
            "docker.io",
            "index.docker.io",
            "https://index.docker.io/v1/",
            "registry-1.docker.io",
            "registry.hub.docker.com",
            "DOCKER.IO:443",
        ] {
            assert_eq!(normalize_registry(input).unwrap(), "docker.io", "{input}");
        }
        assert_eq!(
            normalize_registry("index.docker.io:5000").unwrap(),
            "index.docker.io:5000"
        );
    }

    #[test]
    fn registry_ports() {
        assert_eq!(
            normalize_registry("localhost:5000").unwrap(),
            "localhost:5000"
        );
        assert_eq!(
            normalize_registry("http://localhost:5000/").unwrap(),
            "localhost:5000"
        );
        assert_eq!(
            normalize_registry("http://reg.local:80").unwrap(),
            "reg.local"
        );
        assert_eq!(normalize_registry("reg.local:80").unwrap(), "reg.local:80");
        assert_eq!(normalize_registry("[::1]:5000").unwrap(), "[::1]:5000");
        assert_eq!(normalize_registry("[::1]").unwrap(), "[::1]");
        assert_eq!(normalize_registry("10.0.0.1:443").unwrap(), "10.0.0.1");
    }

    #[test]
    fn bad_registries_are_refused_clearly() {
        for (input, why) in [
            ("", "empty"),
            ("   ", "empty"),
            ("ftp://ghcr.io", "scheme"),
            ("ssh://ghcr.io", "scheme"),
            ("user@ghcr.io", "user names"),
            ("ghcr.io:abc", "port"),
            ("ghcr.io:0", "port"),
            ("ghcr.io:70000", "port"),
            ("ghcr io", "whitespace"),
            ("gh\u{0}cr.io", "control"),
            ("https://", "missing"),
            ("ghcr.io:", "port"),
            ("[::1", "IPv6"),
            ("[zz]", "IPv6"),
            ("ex ample.com", "whitespace"),
            ("exämple.com", "ASCII"),
            (".ghcr.io", "host name"),
        ] {
            let msg = normalize_registry(input).unwrap_err().to_string();
            assert!(msg.contains(why), "{input:?}: {msg}");
            assert!(msg.contains("invalid registry"), "{input:?}: {msg}");
        }
    }

    #[test]
    fn git_forms_that_match() {
        for input in [
            "github.com",
            "GitHub.com",
            "https://github.com/org/repo.git",
            "https://github.com:443/org/repo",
            "http://github.com:80/",
            "ssh://git@github.com/org/repo.git",
            "ssh://git@github.com:22/org/repo.git",
            "git+ssh://github.com/org/repo",
            "git://github.com/org/repo",
            "git@github.com:org/repo.git",
            "github.com:org/repo.git",
            "github.com:443",
            "https://user:pw@github.com/org",
        ] {
            assert_eq!(normalize_git_host(input).unwrap(), "github.com", "{input}");
        }
    }

    #[test]
    fn git_non_default_ports_stay() {
        assert_eq!(
            normalize_git_host("ssh://git@git.example.com:2222/repo").unwrap(),
            "git.example.com:2222"
        );
        assert_eq!(
            normalize_git_host("https://git.example.com:8443/").unwrap(),
            "git.example.com:8443"
        );
        assert_eq!(
            normalize_git_host("git.example.com:22").unwrap(),
            "git.example.com:22"
        );
    }

    #[test]
    fn normalising_twice_changes_nothing() {
        for input in [
            "ghcr.io",
            "https://GHCR.io:443/v2/",
            "index.docker.io",
            "localhost:5000",
            "http://reg.local:80",
            "reg.local:80",
            "[::1]:5000",
            "[::1]",
            "[FE80::1]:443",
        ] {
            let once = normalize_registry(input).unwrap();
            assert_eq!(normalize_registry(&once).unwrap(), once, "{input}");
        }
        for input in [
            "git@github.com:org/repo.git",
            "ssh://git@git.example.com:2222/repo",
            "https://git.example.com:8443/",
            "git.example.com:22",
            "git://host:9418/x",
        ] {
            let once = normalize_git_host(input).unwrap();
            assert_eq!(normalize_git_host(&once).unwrap(), once, "{input}");
        }
    }

    #[test]
    fn bad_git_hosts_are_refused() {
        for input in [
            "",
            "ftp://github.com",
            "https:///org",
            "git@:org/repo",
            "a b",
        ] {
            let msg = normalize_git_host(input).unwrap_err().to_string();
            assert!(msg.contains("invalid Git host or URL"), "{input:?}: {msg}");
        }
    }

    #[test]
    fn git_fields_are_compared_as_fields() {
        for (scheme, host, want) in [
            ("https", "github.com", "github.com"),
            ("HTTPS", "GitHub.com:443", "github.com"),
            ("http", "h.example:443", "h.example:443"),
            ("http", "h.example:80", "h.example"),
            ("ssh", "h.example:22", "h.example"),
            ("https", "[::1]:8443", "[::1]:8443"),
            ("https", "h.example.", "h.example"),
        ] {
            assert_eq!(
                normalize_git_host_fields(scheme, host).unwrap(),
                want,
                "{scheme} {host}"
            );
            // The same key as the URL made of the fields, where that URL is unambiguous.
            assert_eq!(
                normalize_git_host(&format!("{scheme}://{host}")).unwrap(),
                want
            );
        }
    }

    #[test]
    fn git_host_fields_with_url_syntax_are_refused() {
        for host in [
            "github.com/.evil.example",
            "github.com?.evil.example",
            "github.com#.evil.example",
            "github.com@evil.example",
            "evil.example@github.com",
            "github.com\\.evil.example",
            "github.com x",
            " github.com",
            "github.com\t",
            "github.com\n",
            "github.com:x",
            "github.com:",
            "github.com%2f.evil.example",
            "",
        ] {
            let err = normalize_git_host_fields("https", host)
                .unwrap_err()
                .to_string();
            assert!(err.contains("invalid Git host"), "{host:?}: {err}");
        }
        let err = normalize_git_host_fields("cert", "github.com")
            .unwrap_err()
            .to_string();
        assert!(err.contains("scheme"), "{err}");
        assert!(is_git_scheme("git+ssh") && is_git_scheme("HTTPS") && !is_git_scheme("smtp"));
    }

    #[test]
    fn user_information_is_never_echoed() {
        for input in [
            "https://bob:pw-secret@registry.example.com",
            "bob:pw-secret@registry.example.com:5000/v2/",
            "https://bob:pw-secret@bad host",
        ] {
            let err = normalize_registry(input).unwrap_err().to_string();
            assert!(!err.contains("pw-secret"), "{err}");
            assert!(!err.contains("bob"), "{err}");
            assert!(err.contains("invalid registry"), "{err}");
        }
        let err = normalize_git_host("https://bob:pw-secret@bad host/x")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("pw-secret"), "{err}");
        let err = normalize_git_host_fields("https", "bob:pw-secret@github.com")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("pw-secret"), "{err}");
        // Without a `@`, the input is shown.
        let err = normalize_registry("ftp://x").unwrap_err().to_string();
        assert!(err.contains("ftp://x"), "{err}");
    }

    #[test]
    fn a_backslash_before_the_host_is_refused() {
        for input in [
            "https://evil.example\\@github.com/x",
            "https://a\\b@github.com",
        ] {
            let err = normalize_git_host(input).unwrap_err().to_string();
            assert!(err.contains("backslash"), "{input}: {err}");
        }
        assert!(normalize_registry("https://ghcr.io\\.evil.example").is_err());
    }
}
