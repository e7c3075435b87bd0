//! The environment variables through which `zlayer-secret` receives its own credentials.
//!
//! `run` removes every one of them from the environment it passes on, so that the program
//! it starts gets its secrets and never the credentials that reach all of them (the store's
//! key, the Vault token, an API key). **Every variable that gives this tool a key, a
//! password, a token or an API key belongs in [`CREDENTIAL_VARIABLES`].** A user who wants
//! the program to have one of them says so with `run --keep-env NAME`.
//!
//! Against a secrets server (`--server`), the API key pair is what this tool authenticates
//! with; the bearer token the server gives for it lives only in the memory of the
//! `RemoteStore` (wiped when `run` closes the store, before the program starts) and never in
//! a variable, so there is nothing more to remove. The server's URL and CA file
//! (`ZLAYER_SECRETS_SERVER`, `ZLAYER_SECRETS_SERVER_CA`) are no credentials and pass on.

use zlayer_secrets::crypto::{ENV_KEY, ENV_PASSWORD};

/// The variables that hold credentials of `zlayer-secret` itself.
pub(crate) const CREDENTIAL_VARIABLES: &[&str] = &[
    // The local store's key (64 hex digits) and the password it can be derived from.
    ENV_KEY,
    ENV_PASSWORD,
    // The Vault / OpenBao token of `--backend vault`.
    "VAULT_TOKEN",
    // The key id and secret of API-key authentication (`--server`).
    zlayer_secrets_client::ENV_API_KEY,
    zlayer_secrets_client::ENV_API_SECRET,
];

/// Whether `name` is one of [`CREDENTIAL_VARIABLES`].
pub(crate) fn is_credential_variable(name: &std::ffi::OsStr) -> bool {
    CREDENTIAL_VARIABLES.iter().any(|v| name == *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_key_the_vault_token_and_the_api_key_are_listed() {
        for name in [
            "ZLAYER_SECRETS_KEY",
            "ZLAYER_SECRETS_PASSWORD",
            "VAULT_TOKEN",
            "ZLAYER_SECRETS_API_KEY",
            "ZLAYER_SECRETS_API_SECRET",
        ] {
            assert!(is_credential_variable(name.as_ref()), "{name}");
        }
        assert!(!is_credential_variable("VAULT_ADDR".as_ref()));
        assert!(!is_credential_variable("ZLAYER_SECRETS_SERVER".as_ref()));
        assert!(!is_credential_variable("vault_token".as_ref()));
    }
}
