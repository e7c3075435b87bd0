//! The reserved scopes the typed stores keep their records in.
//!
//! Every scope starts with the segment [`RESERVED_SCOPE_PREFIX`] (`_zlayer`). Deployment,
//! service and environment scopes chosen by users never start with that segment when they
//! go through the CLI (it refuses them and hides reserved scopes from `ls`), so the typed
//! stores cannot collide with user secrets on any backend.

/// The first scope segment of every reserved scope.
pub const RESERVED_SCOPE_PREFIX: &str = "_zlayer";

/// API keys of [`CredentialStore`](crate::credentials::CredentialStore): one record per key,
/// named by the key.
pub const API_KEYS_SCOPE: &str = "_zlayer/api_keys";

/// Registry credentials of
/// [`RegistryCredentialStore`](crate::registry_credentials::RegistryCredentialStore): one
/// record per credential, named by its id.
pub const REGISTRY_CREDENTIALS_SCOPE: &str = "_zlayer/registry_credentials";

/// Git credentials of [`GitCredentialStore`](crate::git_credentials::GitCredentialStore): one
/// record per credential, named by its id.
pub const GIT_CREDENTIALS_SCOPE: &str = "_zlayer/git_credentials";

/// Grants of [`GrantStore`](crate::grants::GrantStore): one record per environment, named by
/// the environment.
pub const GRANTS_SCOPE: &str = "_zlayer/grants";

/// Every reserved scope, in the order listed above.
pub const RESERVED_SCOPES: [&str; 4] = [
    API_KEYS_SCOPE,
    REGISTRY_CREDENTIALS_SCOPE,
    GIT_CREDENTIALS_SCOPE,
    GRANTS_SCOPE,
];

/// Whether `scope` belongs to zlayer-secrets itself: its first segment is exactly
/// [`RESERVED_SCOPE_PREFIX`]. User-facing tools refuse to write such scopes on a user's
/// behalf and leave them out of listings.
#[must_use]
pub fn is_reserved_scope(scope: &str) -> bool {
    scope.split('/').next() == Some(RESERVED_SCOPE_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_scopes_are_valid_and_reserved() {
        for scope in RESERVED_SCOPES {
            zlayer_secrets_core::validate_scope(scope).unwrap();
            assert!(is_reserved_scope(scope), "{scope}");
        }
    }

    #[test]
    fn user_scopes_are_not_reserved() {
        for scope in [
            "default",
            "default/api",
            "env:prod",
            "project:p:env:e",
            "_zlayerx",
            "zlayer",
            "app/_zlayer",
        ] {
            assert!(!is_reserved_scope(scope), "{scope}");
        }
        assert!(is_reserved_scope("_zlayer"));
    }
}
