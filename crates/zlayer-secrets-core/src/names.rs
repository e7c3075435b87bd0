//! The rules every backend applies to secret names and scopes.
//!
//! - A **name** is 1 to [`MAX_NAME_LEN`] bytes of UTF-8 with no control characters
//!   (including NUL and newlines) and no `/`, and is not `.` or `..`. Spaces and any other
//!   printable character are allowed; leading or trailing whitespace is refused because it
//!   is nearly always a mistake that would make the secret impossible to type back.
//! - A **scope** is 1 to [`MAX_SCOPE_LEN`] bytes: one or more segments separated by `/`
//!   (a service scope is `deployment/service`). Each segment follows the name rules.
//! - A **reserved scope** is one whose first segment is exactly [`RESERVED_SCOPE_PREFIX`]
//!   (`_zlayer`): zlayer-secrets keeps its own records there (API-key hashes, registry and
//!   Git credentials, grants). Stores hold such scopes like any other, but nothing that acts
//!   for a user or a workload may name one: the resolver refuses references that lead to
//!   one, and the CLI refuses them as deployments and hides them from listings
//!   ([`is_reserved_scope`]).

use crate::{Result, SecretsError};

/// Longest secret name accepted, in bytes.
pub const MAX_NAME_LEN: usize = 256;
/// Longest scope accepted, in bytes.
pub const MAX_SCOPE_LEN: usize = 512;

/// The first scope segment of every reserved scope: zlayer-secrets' own records.
pub const RESERVED_SCOPE_PREFIX: &str = "_zlayer";

/// Whether `scope` belongs to zlayer-secrets itself: its first segment is exactly
/// [`RESERVED_SCOPE_PREFIX`] (`_zlayer`, `_zlayer/api_keys`; not `_zlayerx` or
/// `app/_zlayer`). The resolver refuses to read such scopes, and user-facing tools refuse
/// to write them on a user's behalf and leave them out of listings.
#[must_use]
pub fn is_reserved_scope(scope: &str) -> bool {
    scope.split('/').next() == Some(RESERVED_SCOPE_PREFIX)
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

fn check_segment(segment: &str, what: &str, whole: &str) -> Result<()> {
    let fail = |why: &str| {
        Err(SecretsError::InvalidName {
            name: format!("{what} \"{}\": {why}", shown(whole)),
        })
    };
    if segment.is_empty() {
        return fail("must not be empty");
    }
    if segment == "." || segment == ".." {
        return fail("`.` and `..` are not allowed");
    }
    if segment.chars().any(char::is_control) {
        return fail("control characters (including NUL and newlines) are not allowed");
    }
    if segment.starts_with(char::is_whitespace) || segment.ends_with(char::is_whitespace) {
        return fail("leading or trailing whitespace is not allowed");
    }
    Ok(())
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
}
