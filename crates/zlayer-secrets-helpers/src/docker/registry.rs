//! Which stored credentials a server URL matches.

use zlayer_secrets_core::SecretsStore;
use zlayer_secrets_credentials::registry_credentials::{
    RegistryAuthType, RegistryCredential, RegistryCredentialStore,
};

use super::{DockerError, TOKEN_USER};

/// Whether a server URL names a registry as a whole: its path is empty, `/`, `/v1/` or
/// `/v2/` (`ghcr.io`, `https://index.docker.io/v1/`). Such URLs match every URL of the
/// same registry that does too; any other (`https://index.docker.io/v1/access-token`) is
/// a key of its own, matched exactly.
#[must_use]
pub fn names_registry(url: &str) -> bool {
    let url = url.trim();
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = rest.find(['/', '?', '#']).map_or("", |i| &rest[i..]);
    matches!(path, "" | "/" | "/v1/" | "/v2/")
}

/// The user name docker sees for a credential.
pub(super) fn docker_username(cred: &RegistryCredential) -> &str {
    if cred.auth_type == RegistryAuthType::Token
        && (cred.username.is_empty() || cred.username == TOKEN_USER)
    {
        TOKEN_USER
    } else {
        &cred.username
    }
}

/// The credentials stored for `url` (checked already), the one stored under exactly that
/// URL first: with `url` naming a registry ([`names_registry`]), also those stored under
/// another such URL of the registry.
pub(super) async fn stored_for<S: SecretsStore>(
    store: &RegistryCredentialStore<S>,
    url: &str,
) -> Result<Vec<RegistryCredential>, DockerError> {
    let whole = names_registry(url);
    let (mut exact, folded): (Vec<_>, Vec<_>) = store
        .find_by_registry(url)
        .await
        .map_err(DockerError::Lookup)?
        .into_iter()
        .filter(|c| c.registry == url || (whole && names_registry(&c.registry)))
        .partition(|c| c.registry == url);
    exact.extend(folded);
    Ok(exact)
}
