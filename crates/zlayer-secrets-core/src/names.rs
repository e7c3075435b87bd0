//! The rules every backend applies to secret names and scopes, and how messages name a
//! secret.
//!
//! - A **name** is 1 to [`MAX_NAME_LEN`] bytes of UTF-8 with no control characters
//!   (including NUL and newlines) and no `/`, and is not `.` or `..`. Spaces and any other
//!   printable character are allowed; leading or trailing whitespace is refused because it
//!   is nearly always a mistake that would make the secret impossible to type back.
//! - A **scope** is 1 to [`MAX_SCOPE_LEN`] bytes: one or more segments separated by `/`
//!   (a service scope is `deployment/service`). Each segment follows the name rules.
//! - A **scope part** (a deployment, service, environment or project name, from which
//!   tools build scopes such as `shop/api` or `project:shop:env:prod`) follows the stricter
//!   rule of a part of a reference ([`validate_scope_part`]): every character is one
//!   [`is_allowed_char`](zlayer_secrets_ref::is_allowed_char) accepts (no `$ / : @`, no
//!   whitespace, no control or invisible characters), so that a reference can name it and
//!   no `:` can make `env:x` a deployment.
//! - A **reserved scope** is one whose first segment is exactly [`RESERVED_SCOPE_PREFIX`]
//!   (`_zlayer`): zlayer-secrets keeps its own records there (API-key hashes, registry and
//!   Git credentials, grants). Stores hold such scopes like any other, but nothing that acts
//!   for a user or a workload may name one: the resolver refuses references that lead to
//!   one, and the CLI refuses them as deployments and hides them from listings
//!   ([`is_reserved_scope`]).
//!
//! Messages name a secret as `scope/name` ([`label`]).

use zlayer_secrets_ref::{MAX_PART_LEN, is_allowed_char};

use crate::{Result, SecretsError};

/// Longest secret name accepted, in bytes: the limit of a part of a reference
/// ([`MAX_PART_LEN`](zlayer_secrets_ref::MAX_PART_LEN)), so that every name short enough to
/// store is short enough to reference.
pub const MAX_NAME_LEN: usize = MAX_PART_LEN;
/// Longest scope accepted, in bytes.
pub const MAX_SCOPE_LEN: usize = 512;

/// The first scope segment of every reserved scope: zlayer-secrets' own records.
pub const RESERVED_SCOPE_PREFIX: &str = "_zlayer";

/// The reserved scope of API keys: one record per key, named by the key.
pub const API_KEYS_SCOPE: &str = "_zlayer/api_keys";

/// The reserved scope of registry credentials: one record per credential, named by its id.
pub const REGISTRY_CREDENTIALS_SCOPE: &str = "_zlayer/registry_credentials";

/// The reserved scope of Git credentials: one record per credential, named by its id.
pub const GIT_CREDENTIALS_SCOPE: &str = "_zlayer/git_credentials";

/// The reserved scope of grants: one record per environment, named by the environment.
pub const GRANTS_SCOPE: &str = "_zlayer/grants";

/// Whether `scope` belongs to zlayer-secrets itself: its first segment is exactly
/// [`RESERVED_SCOPE_PREFIX`] (`_zlayer`, `_zlayer/api_keys`; not `_zlayerx` or
/// `app/_zlayer`). The resolver refuses to read such scopes, and user-facing tools refuse
/// to write them on a user's behalf and leave them out of listings.
#[must_use]
pub fn is_reserved_scope(scope: &str) -> bool {
    scope.split('/').next() == Some(RESERVED_SCOPE_PREFIX)
}

/// How messages and errors name the secret `name` of `scope`: `scope/name`.
#[must_use]
pub fn label(scope: &str, name: &str) -> String {
    format!("{scope}/{name}")
}

/// Printable form of a rejected input: long inputs are cut and control characters escaped,
/// so that an error message stays one readable line.
fn shown(input: &str) -> String {
    let mut out: String = input
        .chars()
        .take(64)
        .flat_map(char::escape_debug)
        .collect();
    if input.chars().count() > 64 {
        out.push_str("...");
    }
    out
}

/// What is wrong with one segment under the name rules, if anything.
fn segment_problem(segment: &str) -> Option<&'static str> {
    if segment.is_empty() {
        Some("must not be empty")
    } else if segment == "." || segment == ".." {
        Some("`.` and `..` are not allowed")
    } else if segment.chars().any(char::is_control) {
        Some("control characters (including NUL and newlines) are not allowed")
    } else if segment.starts_with(char::is_whitespace) || segment.ends_with(char::is_whitespace) {
        Some("leading or trailing whitespace is not allowed")
    } else {
        None
    }
}

fn check_segment(segment: &str, what: &str, whole: &str) -> Result<()> {
    match segment_problem(segment) {
        Some(why) => Err(SecretsError::InvalidName {
            name: format!("{what} \"{}\": {why}", shown(whole)),
        }),
        None => Ok(()),
    }
}

/// Checks a secret name against the rules above.
pub fn validate_name(name: &str) -> Result<()> {
    if name.len() > MAX_NAME_LEN {
        return Err(SecretsError::InvalidName {
            name: format!(
                "name \"{}\": {} bytes is longer than the limit of {MAX_NAME_LEN}",
                shown(name),
                name.len()
            ),
        });
    }
    if name.contains('/') {
        return Err(SecretsError::InvalidName {
            name: format!("name \"{}\": `/` is not allowed in a name", shown(name)),
        });
    }
    check_segment(name, "name", name)
}

/// Checks a scope against the rules above.
pub fn validate_scope(scope: &str) -> Result<()> {
    if scope.len() > MAX_SCOPE_LEN {
        return Err(SecretsError::InvalidName {
            name: format!(
                "scope \"{}\": {} bytes is longer than the limit of {MAX_SCOPE_LEN}",
                shown(scope),
                scope.len()
            ),
        });
    }
    scope
        .split('/')
        .try_for_each(|segment| check_segment(segment, "scope", scope))
}

/// Checks a scope part: a deployment, service, environment or project name (`what` says
/// which, for the message) from which a scope is built.
///
/// The rule is that of a part of a reference: 1 to [`MAX_NAME_LEN`] bytes, not `.` or
/// `..`, and only characters [`is_allowed_char`](zlayer_secrets_ref::is_allowed_char)
/// accepts. Every scope part is therefore also a valid name and scope segment. The error is
/// [`SecretsError::InvalidName`] whose `name` reads `{what} name `{part}`: {why}`.
pub fn validate_scope_part(what: &str, part: &str) -> Result<()> {
    let fail = |why: String| {
        Err(SecretsError::InvalidName {
            name: format!("{what} name `{}`: {why}", shown(part)),
        })
    };
    if part.len() > MAX_NAME_LEN {
        return fail(format!(
            "{} bytes is longer than the limit of {MAX_NAME_LEN}",
            part.len()
        ));
    }
    if let Some(why) = segment_problem(part) {
        return fail(why.to_owned());
    }
    match part.chars().find(|&c| !is_allowed_char(c)) {
        Some(c) if c.is_ascii_graphic() => fail(format!("`{c}` is not allowed")),
        Some(c) => fail(format!(
            "U+{:04X} is not allowed (no whitespace or invisible characters)",
            u32::from(c)
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for n in [
            "db-password",
            "API_KEY",
            "a",
            "with space",
            "ünïcode",
            "x.y",
            "a:b",
            "%#?",
        ] {
            validate_name(n).unwrap();
        }
        validate_name(&"n".repeat(MAX_NAME_LEN)).unwrap();
    }

    #[test]
    fn rejects_bad_names() {
        for n in [
            "",
            ".",
            "..",
            "a/b",
            "nul\0",
            "line\nbreak",
            "tab\t",
            " lead",
            "trail ",
            "\u{7f}",
        ] {
            let err = validate_name(n).unwrap_err();
            assert!(matches!(err, SecretsError::InvalidName { .. }), "{n:?}");
        }
        let long = "n".repeat(MAX_NAME_LEN + 1);
        let msg = validate_name(&long).unwrap_err().to_string();
        assert!(msg.contains("longer than"), "{msg}");
        assert!(msg.len() < 200, "message stays short: {msg}");
    }

    #[test]
    fn scopes_have_segments() {
        for s in [
            "default",
            "prod/api",
            "env:prod",
            "project:p:env:e",
            "a/b/c",
        ] {
            validate_scope(s).unwrap();
        }
        for s in ["", "/", "a/", "/a", "a//b", "a/../b", "a/./b", "a\0"] {
            assert!(validate_scope(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn reserved_scopes_are_those_whose_first_segment_is_the_prefix() {
        for scope in [
            "_zlayer",
            "_zlayer/api_keys",
            "_zlayer/grants",
            "_zlayer/a/b",
        ] {
            assert!(is_reserved_scope(scope), "{scope}");
        }
        for scope in [
            "default",
            "default/api",
            "env:prod",
            "project:p:env:e",
            "_zlayerx",
            "_ZLAYER",
            "zlayer",
            "app/_zlayer",
            "",
        ] {
            assert!(!is_reserved_scope(scope), "{scope}");
        }
    }

    #[test]
    fn scope_parts_follow_the_reference_part_rule() {
        for p in ["default", "shop", "api-v2", "prod_eu", "clé", "a.b", "x%#"] {
            validate_scope_part("environment", p).unwrap();
        }
        for (p, why) in [
            ("", "must not be empty"),
            ("..", "`.` and `..`"),
            ("a:b", "`:` is not allowed"),
            ("a/b", "`/` is not allowed"),
            ("@svc", "`@` is not allowed"),
            ("$x", "`$` is not allowed"),
            ("with space", "U+0020 is not allowed"),
            ("zero\u{200B}width", "U+200B is not allowed"),
            (" lead", "leading or trailing whitespace"),
            ("nul\0", "control characters"),
        ] {
            let msg = validate_scope_part("environment", p)
                .unwrap_err()
                .to_string();
            assert!(msg.contains("environment name `"), "{p:?}: {msg}");
            assert!(msg.contains(why), "{p:?}: {msg}");
        }
        let long = "p".repeat(MAX_NAME_LEN + 1);
        assert!(validate_scope_part("project", &long).is_err());
        validate_scope_part("project", &long[1..]).unwrap();
    }

    #[test]
    fn every_scope_part_is_a_valid_name() {
        for c in ['a', 'é', '-', '.', '%', ' ', ':', '/', '\u{7f}', '\u{ad}'] {
            let part = format!("x{c}y");
            if validate_scope_part("deployment", &part).is_ok() {
                validate_name(&part).unwrap();
                validate_scope(&part).unwrap();
            }
        }
    }

    #[test]
    fn labels_are_scope_slash_name() {
        assert_eq!(label("shop/api", "db"), "shop/api/db");
    }
}
