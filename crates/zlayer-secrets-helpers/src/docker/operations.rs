//! The actions docker asks of a helper.

use std::collections::BTreeMap;

use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;
use zlayer_secrets_core::{SecretsError, SecretsStore};
use zlayer_secrets_credentials::registry_credentials::{RegistryAuthType, RegistryCredentialStore};

use super::registry::{docker_username, stored_for};
use super::request::check_server_url;
use super::{Action, Credentials, DockerError, PROGRAM, TOKEN_USER, server_url};
use crate::StoreAccess;

/// Runs `action` on the bytes of its request (ignored by `list` and `version`) and returns
/// what to print on stdout on success.
pub async fn serve<A: StoreAccess>(
    access: &A,
    action: Action,
    input: &[u8],
) -> Result<Zeroizing<String>, DockerError> {
    match action {
        Action::Store => {
            store(access, &Credentials::from_json(input)?).await?;
            Ok(Zeroizing::new(String::new()))
        }
        Action::Get => Ok(get(access, &server_url(input)?).await?.to_json()),
        Action::Erase => {
            erase(access, &server_url(input)?).await?;
            Ok(Zeroizing::new(String::new()))
        }
        Action::List => {
            let list = list(access).await?;
            let mut text =
                serde_json::to_string(&list).expect("a map of strings to strings serialises");
            text.push('\n');
            Ok(Zeroizing::new(text))
        }
        Action::Version => Ok(Zeroizing::new(format!(
            "{PROGRAM} (zlayer-secrets) v{}\n",
            env!("CARGO_PKG_VERSION")
        ))),
    }
}

/// Opens the registry store (creating it only for `store`).
async fn registries<A: StoreAccess>(
    access: &A,
    create: bool,
) -> Result<Option<RegistryCredentialStore<A::Store>>, DockerError> {
    Ok(access
        .open(create)
        .await
        .map_err(DockerError::Open)?
        .map(RegistryCredentialStore::new))
}

/// `store`: keeps the credentials for their server URL, replacing those stored for it
/// (after the new one is written, so a failure never leaves none). Storing what is stored
/// already changes nothing.
pub async fn store<A: StoreAccess>(access: &A, creds: &Credentials) -> Result<(), DockerError> {
    if creds.server_url().is_empty() {
        return Err(DockerError::MissingServerUrl);
    }
    check_server_url(creds.server_url())?;
    if creds.username().is_empty() {
        return Err(DockerError::MissingUsername);
    }
    let (username, auth_type) = if creds.username() == TOKEN_USER {
        ("", RegistryAuthType::Token)
    } else {
        (creds.username(), RegistryAuthType::Basic)
    };
    let store = registries(access, true)
        .await?
        .ok_or(DockerError::NotCreated)?;
    let url = creds.server_url().trim();
    let existing = stored_for(&store, url).await?;
    if let [only] = existing.as_slice()
        && only.username == username
        && only.auth_type == auth_type
        && let Ok(current) = store.get_password(&only.id).await
        && bool::from(current.expose().as_bytes().ct_eq(creds.secret().as_bytes()))
    {
        return Ok(());
    }
    store
        .create(url, username, creds.secret(), auth_type)
        .await
        .map_err(DockerError::Store)?;
    for old in existing {
        delete(&store, &old.id).await?;
    }
    Ok(())
}

/// `get`: the credentials stored for `url` (a server URL from [`server_url`]), or
/// [`DockerError::NotFound`].
pub async fn get<A: StoreAccess>(access: &A, url: &str) -> Result<Credentials, DockerError> {
    let Some(store) = registries(access, false).await? else {
        return Err(DockerError::NotFound);
    };
    let found = stored_for(&store, url).await?;
    let Some(cred) = found.first() else {
        return Err(DockerError::NotFound);
    };
    let secret = match store.get_password(&cred.id).await {
        Ok(s) => s,
        Err(SecretsError::NotFound { .. }) => return Err(DockerError::NotFound),
        Err(e) => return Err(DockerError::Read(e)),
    };
    Ok(Credentials::new(
        url,
        docker_username(cred),
        secret.expose(),
    ))
}

/// `erase`: deletes the credentials stored for `url` (a server URL from [`server_url`]),
/// or [`DockerError::NotFound`] when there are none.
pub async fn erase<A: StoreAccess>(access: &A, url: &str) -> Result<(), DockerError> {
    let Some(store) = registries(access, false).await? else {
        return Err(DockerError::NotFound);
    };
    let found = stored_for(&store, url).await?;
    if found.is_empty() {
        return Err(DockerError::NotFound);
    }
    for cred in found {
        delete(&store, &cred.id).await?;
    }
    Ok(())
}

/// `list`: every server URL stored, with the user name docker sees for it (the first in
/// the store's order where several are stored under one URL).
pub async fn list<A: StoreAccess>(access: &A) -> Result<BTreeMap<String, String>, DockerError> {
    let mut map = BTreeMap::new();
    if let Some(store) = registries(access, false).await? {
        for cred in store.list().await.map_err(DockerError::List)? {
            let user = docker_username(&cred).to_owned();
            map.entry(cred.registry).or_insert(user);
        }
    }
    Ok(map)
}

/// Deletes one credential; one already gone is fine.
async fn delete<S: SecretsStore>(
    store: &RegistryCredentialStore<S>,
    id: &str,
) -> Result<(), DockerError> {
    match store.delete(id).await {
        Ok(()) | Err(SecretsError::NotFound { .. }) => Ok(()),
        Err(source) => Err(DockerError::Delete {
            id: id.to_owned(),
            source,
        }),
    }
}
