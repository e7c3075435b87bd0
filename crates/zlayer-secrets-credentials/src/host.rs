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
        Some((name, rest)) => {
            let scheme = match (name.to_ascii_lowercase().as_str(), kind) {
                ("https", _) => Scheme::Https,
                ("http", _) => Scheme::Http,
                ("ssh" | "git+ssh" | "ssh+git", Kind::Git) => Scheme::Ssh,
                ("git", Kind::Git) => Scheme::Git,
                _ => {
                    return Err(fail(match kind {
                        Kind::Registry => "the scheme must be http or https",
                        Kind::Git => "the scheme must be https, http, ssh or git",
                    }));
                }
            };
            (Some(scheme), rest)
        }
        None => (None, s),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = match authority.rsplit_once('@') {
        None => authority,
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
    let port = port.filter(|p| *p != scheme.default_port());
    if kind == Kind::Registry && port.is_none() && DOCKER_HUB_ALIASES.contains(&host.as_str()) {
        return Ok(DOCKER_HUB_ALIASES[0].to_owned());
    }
    Ok(match port {
        Some(p) => format!("{host}:{p}"),
        None => host,
    })
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
}
