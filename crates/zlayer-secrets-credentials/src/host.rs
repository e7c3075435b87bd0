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
//! A Git credential helper keys credentials by location, `scheme://host[:port]`
//! ([`normalize_git_location`]): git asks helpers about other protocols too (`smtp` for
//! `git send-email`), and a credential for one protocol is never offered for another.
//!
//! Git's credential protocol names the scheme and the host in separate attributes; those
//! are compared as fields ([`normalize_git_host_fields`], [`normalize_git_location_fields`]),
//! never by reading a URL made from them, so a host such as `github.com/.evil.example`
//! (git's decoding of `github.com%2f.evil.example`) is refused instead of becoming
//! `github.com`.

use zlayer_secrets_core::{Result, SecretsError};

/// Docker Hub's names, all keyed as `docker.io`.
const DOCKER_HUB_ALIASES: [&str; 4] = [
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "registry.hub.docker.com",
];

#[derive(Clone, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
    Ssh,
    Git,
    /// Any other scheme of RFC 3986 syntax, lower-cased (Git credentials only: git asks
    /// its helpers about `smtp`, `imap`, `ftp`, ...).
    Other(String),
}

/// Schemes besides Git's whose default port is dropped from the key, as 443 is for
/// `https`.
const OTHER_DEFAULT_PORTS: [(&str, u16); 6] = [
    ("ftp", 21),
    ("ftps", 990),
    ("smtp", 25),
    ("smtps", 465),
    ("imap", 143),
    ("imaps", 993),
];

impl Scheme {
    fn default_port(&self) -> Option<u16> {
        match self {
            Self::Http => Some(80),
            Self::Https => Some(443),
            Self::Ssh => Some(22),
            Self::Git => Some(9418),
            Self::Other(name) => OTHER_DEFAULT_PORTS
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, p)| *p),
        }
    }

    /// The scheme as written in a location key.
    fn name(&self) -> &str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
            Self::Ssh => "ssh",
            Self::Git => "git",
            Self::Other(name) => name,
        }
    }
}

fn invalid(kind: &str, input: &str, why: &str) -> SecretsError {
    let what = if input.contains('@') {
        format!("{kind} (not shown: it holds user information, which may include a password)")
    } else {
        let shown: String = input
            .chars()
            .take(80)
            .flat_map(char::escape_debug)
            .collect();
        format!("{kind} \"{shown}\"")
    };
    SecretsError::InvalidInput {
        what,
        reason: why.to_owned(),
    }
}

/// Which syntax a host is being read for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Registry,
    /// A Git host: the schemes of Git remotes only.
    Git,
    /// Where a Git credential is used: any scheme (git asks its credential helpers about
    /// `smtp`, `imap`, ... too), with the host rules of [`Kind::Git`].
    GitLocation,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Self::Registry => "registry",
            Self::Git | Self::GitLocation => "Git host or URL",
        }
    }

    fn schemes(self) -> &'static str {
        match self {
            Self::Registry => "the scheme must be http or https",
            Self::Git => "the scheme must be https, http, ssh or git",
            Self::GitLocation => {
                "a scheme is a letter followed by letters, digits, `+`, `-` or `.`"
            }
        }
    }

    fn is_git(self) -> bool {
        matches!(self, Self::Git | Self::GitLocation)
    }
}

/// A checked host: its scheme, lower-cased name and port (if one was given).
struct Parsed {
    scheme: Scheme,
    host: String,
    port: Option<u16>,
}

fn parse(input: &str, kind: Kind) -> Result<Parsed> {
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
        Some((_, after)) if kind.is_git() => after,
        Some(_) => {
            return Err(fail(
                "user names belong in the credential, not in the registry",
            ));
        }
    };
    let (host, port, scp) =
        split_host_port(host_port, scheme.is_none() && kind.is_git()).map_err(&fail)?;
    let host = check_host(host).map_err(&fail)?;
    let scheme = match (scheme, scp) {
        (Some(s), _) => s,
        (None, true) => Scheme::Ssh,
        (None, false) => Scheme::Https,
    };
    Ok(Parsed { scheme, host, port })
}

/// The scheme called `name` (any case), if `kind` accepts it.
fn scheme_of(name: &str, kind: Kind) -> Option<Scheme> {
    let lower = name.to_ascii_lowercase();
    match (lower.as_str(), kind) {
        ("https", _) => Some(Scheme::Https),
        ("http", _) => Some(Scheme::Http),
        ("ssh" | "git+ssh" | "ssh+git", Kind::Git | Kind::GitLocation) => Some(Scheme::Ssh),
        ("git", Kind::Git | Kind::GitLocation) => Some(Scheme::Git),
        (_, Kind::GitLocation) if is_scheme_syntax(&lower) => Some(Scheme::Other(lower)),
        _ => None,
    }
}

/// RFC 3986: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`, here at most 64 bytes.
fn is_scheme_syntax(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// The comparison key of a checked host: `host[:port]`, without the scheme's default
/// port (and for registries, Docker Hub's names as `docker.io`).
fn host_key(kind: Kind, parsed: &Parsed) -> String {
    let port = parsed
        .port
        .filter(|p| Some(*p) != parsed.scheme.default_port());
    if kind == Kind::Registry
        && port.is_none()
        && DOCKER_HUB_ALIASES.contains(&parsed.host.as_str())
    {
        return DOCKER_HUB_ALIASES[0].to_owned();
    }
    match port {
        Some(p) => format!("{}:{p}", parsed.host),
        None => parsed.host.clone(),
    }
}

/// The location key of a checked host: `scheme://host[:port]`.
fn location_key(parsed: &Parsed) -> String {
    format!(
        "{}://{}",
        parsed.scheme.name(),
        host_key(Kind::GitLocation, parsed)
    )
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
    Ok(host_key(Kind::Registry, &parse(registry, Kind::Registry)?))
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
    Ok(host_key(Kind::Git, &parse(host_or_url, Kind::Git)?))
}

/// The location key of a Git credential: `scheme://host[:port]`, for a host or a URL of
/// any scheme (git asks its credential helpers about `smtp` for `git send-email`, and
/// about `imap`, `ftp` and others for other programs). `https://GitHub.com:443/org`,
/// `github.com` and `HTTPS://github.com.` give `https://github.com`;
/// `smtp://smtp.example.com:587` gives itself. Besides the rules of
/// [`normalize_git_host`] (of which the part after `://` is the key):
/// - the scheme is compared without case, and is any RFC 3986 scheme (a letter, then
///   letters, digits, `+`, `-` or `.`; at most 64 bytes); `git+ssh` and `ssh+git` are
///   `ssh`, a bare host is `https` and the scp-like form `ssh`;
/// - the default ports dropped are those of `https`, `http`, `ssh` and `git`, and 21 for
///   `ftp`, 990 `ftps`, 25 `smtp`, 465 `smtps`, 143 `imap` and 993 `imaps`; other schemes
///   keep every port.
pub fn normalize_git_location(host_or_url: &str) -> Result<String> {
    Ok(location_key(&parse(host_or_url, Kind::GitLocation)?))
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
    Ok(host_key(Kind::Git, &parse_fields(scheme, host, Kind::Git)?))
}

/// The location key ([`normalize_git_location`]) of a protocol and a host given as
/// separate fields, as git's credential protocol sends them: `protocol` is any scheme
/// (`smtp`, `HTTPS`, ...), and `host` is checked as in [`normalize_git_host_fields`],
/// never read as part of a URL.
pub fn normalize_git_location_fields(protocol: &str, host: &str) -> Result<String> {
    Ok(location_key(&parse_fields(
        protocol,
        host,
        Kind::GitLocation,
    )?))
}

fn parse_fields(scheme: &str, host: &str, kind: Kind) -> Result<Parsed> {
    let fail = |why: &str| invalid("Git host", host, why);
    let scheme =
        scheme_of(scheme, kind).ok_or_else(|| invalid("protocol", scheme, kind.schemes()))?;
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
    let host = check_host(name).map_err(&fail)?;
    Ok(Parsed { scheme, host, port })
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
    fn git_locations_keep_the_scheme() {
        for (input, want) in [
            ("github.com", "https://github.com"),
            ("HTTPS://GitHub.com:443/org/repo.git", "https://github.com"),
            ("https://github.com./", "https://github.com"),
            ("http://github.com:80", "http://github.com"),
            ("http://github.com:443", "http://github.com:443"),
            ("git@github.com:org/repo.git", "ssh://github.com"),
            ("git+ssh://github.com:22/x", "ssh://github.com"),
            ("smtp://smtp.example.com:587", "smtp://smtp.example.com:587"),
            ("SMTP://Smtp.Example.com:25", "smtp://smtp.example.com"),
            (
                "imaps://mail.example.com:993/INBOX",
                "imaps://mail.example.com",
            ),
            ("ftp://files.example.com:21", "ftp://files.example.com"),
            ("x-custom+v1.2://h.example:1", "x-custom+v1.2://h.example:1"),
            ("cert://h.example:443", "cert://h.example:443"),
        ] {
            assert_eq!(normalize_git_location(input).unwrap(), want, "{input}");
            // The host part is normalize_git_host's key wherever that reads the input.
            if let Ok(host) = normalize_git_host(input) {
                assert!(want.ends_with(&format!("://{host}")), "{input}");
            }
        }
        for (protocol, host, want) in [
            (
                "smtp",
                "smtp.example.com:587",
                "smtp://smtp.example.com:587",
            ),
            ("SMTP", "SMTP.example.com.", "smtp://smtp.example.com"),
            ("imap", "[::1]:143", "imap://[::1]"),
            ("HTTPS", "GitHub.com:443", "https://github.com"),
            ("git+ssh", "h.example:22", "ssh://h.example"),
        ] {
            assert_eq!(
                normalize_git_location_fields(protocol, host).unwrap(),
                want,
                "{protocol} {host}"
            );
        }
    }

    #[test]
    fn git_locations_are_as_strict_about_hosts() {
        for input in [
            "smtp://a b",
            "smtp://",
            "smtp://h.example:x",
            "1smtp://h.example",
            "sm tp://h.example",
            "s_mtp://h.example",
            "://h.example",
            "smtp://evil.example\\@h.example",
            "smtp://exämple.com",
        ] {
            assert!(normalize_git_location(input).is_err(), "{input:?}");
        }
        for host in [
            "h.example/.evil.example",
            "h.example?x",
            "h.example#x",
            "evil@h.example",
            "h.example\\x",
            " h.example",
            "h.example:",
            "",
        ] {
            let err = normalize_git_location_fields("smtp", host)
                .unwrap_err()
                .to_string();
            assert!(err.contains("invalid Git host"), "{host:?}: {err}");
        }
        for protocol in ["", "1x", "sm tp", "smtp:", "smtp/", &"x".repeat(65)] {
            let err = normalize_git_location_fields(protocol, "h.example")
                .unwrap_err()
                .to_string();
            assert!(err.contains("invalid protocol"), "{protocol:?}: {err}");
        }
        // Git hosts stay Git hosts: another scheme is not a remote.
        assert!(normalize_git_host("smtp://h.example").is_err());
        assert!(normalize_git_host_fields("smtp", "h.example").is_err());
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
