//! The operations git asks of a helper.

use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;
use zlayer_secrets_core::{SecretsError, SecretsStore};
use zlayer_secrets_credentials::git_credentials::{
    GitCredentialDetails, GitCredentialKind, GitCredentialStore, normalize_git_location,
};

use super::location::{location_url, stored_path};
use super::{GitError, Lookup, Request, parse};
use crate::StoreAccess;

/// The most bytes of a credential's label.
const MAX_LABEL: usize = 256;

/// Runs one operation on the bytes of a request (parsed, then wiped, before the store is
/// opened) and returns what to answer git: `username=` and `password=` lines for a `get`
/// that matches, nothing otherwise. Operations other than `get`, `store` and `erase` are
/// ignored, as git asks of helpers (their request is still parsed).
pub async fn serve<A: StoreAccess>(
    access: &A,
    operation: &str,
    input: Zeroizing<Vec<u8>>,
) -> Result<Option<Zeroizing<String>>, GitError> {
    let request = parse(&input)?;
    drop(input);
    match operation {
        "get" => get(access, &request).await,
        "store" => store(access, &request).await.map(|()| None),
        "erase" => erase(access, &request).await.map(|()| None),
        other => {
            tracing::debug!(operation = other, "ignoring an unknown operation");
            Ok(None)
        }
    }
}

/// The answer to `get`: `username=` and `password=` lines, or `None` when nothing matches
/// (also when there is no store).
pub async fn get<A: StoreAccess>(
    access: &A,
    request: &Request,
) -> Result<Option<Zeroizing<String>>, GitError> {
    let Some(wanted) = Lookup::of(request)? else {
        return Ok(None);
    };
    let Some(store) = access.open(false).await.map_err(GitError::Open)? else {
        return Ok(None);
    };
    let git = GitCredentialStore::new(store);
    let Some(found) = wanted.find(&git).await?.into_iter().next() else {
        return Ok(None);
    };
    let secret = match git.get_value(&found.credential.id).await {
        Ok(s) => s,
        // Deleted since the listing: nothing matches any more.
        Err(SecretsError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(GitError::Read(e)),
    };
    let mut answer = Zeroizing::new(String::new());
    if let Some(user) = &found.username {
        if user.contains(['\n', '\0']) {
            return Err(GitError::UnsendableUser);
        }
        answer.push_str("username=");
        answer.push_str(user);
        answer.push('\n');
    }
    if secret.expose().contains(['\n', '\0']) {
        return Err(GitError::UnsendableToken {
            id: found.credential.id,
        });
    }
    answer.push_str("password=");
    answer.push_str(secret.expose());
    answer.push('\n');
    Ok(Some(answer))
}

/// `store`: keeps the user name and password (which may be empty) for the protocol,
/// host and path, replacing the credential stored for exactly those (after the new one is
/// written, so a failure never leaves none), and makes it the one a look-up of the host
/// finds first. A request without protocol, host, user name or password is ignored (and
/// creates no store).
pub async fn store<A: StoreAccess>(access: &A, request: &Request) -> Result<(), GitError> {
    let (Some(protocol), Some(host), Some(username), Some(password)) = (
        request.protocol.as_deref(),
        request.host.as_deref(),
        request.username.as_deref(),
        request.password.as_ref(),
    ) else {
        tracing::debug!("store without protocol, host, user name or password: ignored");
        return Ok(());
    };
    let exact = Request {
        protocol: Some(protocol.to_owned()),
        host: Some(host.to_owned()),
        path: request.path.clone(),
        username: Some(username.to_owned()),
        password: None,
    };
    let Some(wanted) = Lookup::of(&exact)? else {
        return Ok(());
    };
    // The stored URL is made of checked fields; it must read back as the same location.
    let url = location_url(&wanted.protocol, wanted.host, request.path.as_deref());
    if normalize_git_location(&url).ok().as_deref() != Some(wanted.location()) {
        return Err(GitError::Ambiguous);
    }
    let store = access
        .open(true)
        .await
        .map_err(GitError::Open)?
        .ok_or(GitError::NotCreated)?;
    let git = GitCredentialStore::new(store);
    let here = wanted.anywhere().find(&git).await?;
    let same_place: Vec<&GitCredentialDetails> = here
        .iter()
        .filter(|d| {
            wanted.matches(d) && stored_path(d.host.as_deref().unwrap_or_default()) == request.path
        })
        .collect();
    if let [only] = same_place.as_slice()
        && let Ok(current) = git.get_value(&only.credential.id).await
        && bool::from(current.expose().as_bytes().ct_eq(password.as_bytes()))
    {
        // Already stored: it only has to be the newest of the host, as git's
        // `credential-store` puts the credential it stores first.
        if here.first().map(|d| &d.credential.id) == Some(&only.credential.id) {
            return Ok(());
        }
        match git.set_value(&only.credential.id, password).await {
            Ok(()) => return Ok(()),
            // Deleted meanwhile: store it anew.
            Err(SecretsError::NotFound { .. }) => {}
            Err(e) => return Err(GitError::Store(e)),
        }
    }
    let created = git
        .create_for_host(
            &label(username, &url),
            password,
            GitCredentialKind::Pat,
            &url,
            Some(username),
        )
        .await
        .map_err(GitError::Store)?;
    for old in same_place {
        delete(&git, &old.credential.id).await?;
    }
    tracing::debug!(id = %created.id, "stored a Git credential for git");
    Ok(())
}

/// `erase`: deletes the credentials that match (with `password` given, only those holding
/// that password). Needs at least a protocol and host: an empty request erases nothing.
pub async fn erase<A: StoreAccess>(access: &A, request: &Request) -> Result<(), GitError> {
    let Some(wanted) = Lookup::of(request)? else {
        return Ok(());
    };
    let Some(store) = access.open(false).await.map_err(GitError::Open)? else {
        return Ok(());
    };
    let git = GitCredentialStore::new(store);
    for found in wanted.find(&git).await? {
        if let Some(password) = &request.password {
            let current = match git.get_value(&found.credential.id).await {
                Ok(v) => v,
                Err(SecretsError::NotFound { .. }) => continue,
                Err(e) => return Err(GitError::Read(e)),
            };
            if !bool::from(current.expose().as_bytes().ct_eq(password.as_bytes())) {
                continue;
            }
        }
        delete(&git, &found.credential.id).await?;
    }
    Ok(())
}

/// Deletes one credential; one already gone is fine.
async fn delete<S: SecretsStore>(git: &GitCredentialStore<S>, id: &str) -> Result<(), GitError> {
    match git.delete(id).await {
        Ok(()) | Err(SecretsError::NotFound { .. }) => Ok(()),
        Err(source) => Err(GitError::Delete {
            id: id.to_owned(),
            source,
        }),
    }
}

/// The label of a credential stored for git: `git: USER @ URL`, cut to [`MAX_LABEL`] bytes.
pub(super) fn label(username: &str, url: &str) -> String {
    let mut label = format!("git: {username} @ {url}");
    if label.len() > MAX_LABEL {
        let mut end = MAX_LABEL;
        while !label.is_char_boundary(end) {
            end -= 1;
        }
        label.truncate(end);
    }
    label.trim_end().to_owned()
}
