//! The reserved scopes the typed stores keep their records in.
//!
//! Every scope starts with the segment [`RESERVED_SCOPE_PREFIX`] (`_zlayer`). The rule is
//! defined once, in `zlayer-secrets-core` ([`is_reserved_scope`]), and re-exported here:
//! the resolver refuses references that lead into a reserved scope, and the CLI refuses
//! reserved deployments and hides reserved scopes from `ls`, so the typed stores cannot
//! collide with user secrets on any backend and no workload reads their records.

pub use zlayer_secrets_core::{RESERVED_SCOPE_PREFIX, is_reserved_scope};

/// The scopes themselves are defined in `zlayer-secrets-core`, so that the stores know them
/// too (the audit log names what is done in them): [`API_KEYS_SCOPE`] holds the API keys of
/// [`CredentialStore`](crate::credentials::CredentialStore),
/// [`REGISTRY_CREDENTIALS_SCOPE`] the credentials of
/// [`RegistryCredentialStore`](crate::registry_credentials::RegistryCredentialStore),
/// [`GIT_CREDENTIALS_SCOPE`] those of
/// [`GitCredentialStore`](crate::git_credentials::GitCredentialStore) and [`GRANTS_SCOPE`]
/// the grants of [`GrantStore`](crate::grants::GrantStore).
pub use zlayer_secrets_core::{
    API_KEYS_SCOPE, GIT_CREDENTIALS_SCOPE, GRANTS_SCOPE, REGISTRY_CREDENTIALS_SCOPE,
};

/// Every reserved scope, in the order listed above.
pub const RESERVED_SCOPES: [&str; 4] = [
    API_KEYS_SCOPE,
    REGISTRY_CREDENTIALS_SCOPE,
    GIT_CREDENTIALS_SCOPE,
    GRANTS_SCOPE,
];

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
}
