//! `docker-credential-zlayer`: docker's credential-helper protocol over the registry
//! credential store.
//!
//! docker runs `docker-credential-zlayer ACTION` with no other argument and no flag, so the
//! data directory comes from `ZLAYER_SECRETS_DIR` (else the platform default) and the key
//! as for `zlayer-secret`. The actions:
//!
//! | action | stdin | stdout |
//! |---|---|---|
//! | `store` | `{"ServerURL": …, "Username": …, "Secret": …}` | nothing |
//! | `get` | the server URL | `{"ServerURL": …, "Username": …, "Secret": …}` |
//! | `erase` | the server URL | nothing |
//! | `list` | nothing | `{"<server URL>": "<user name>", …}` |
//! | `version` | nothing | the helper's name and version |
//!
//! Errors go to **stdout** (docker reads them there) with exit code 1; a missing credential
//! is exactly `credentials not found in native keychain`, and so is the answer of `get` and
//! `erase` for a server URL that is not a registry (as the reference helpers answer it:
//! docker takes anything else as a failure of the helper). The user name `<token>` marks an
//! identity token: it is stored as a [`RegistryAuthType::Token`] credential without a user
//! name and reported as `<token>` again.
//!
//! Like the reference helpers, every server URL is a key of its own, matched exactly
//! first: docker keeps Docker Hub's `https://index.docker.io/v1/access-token` and
//! `https://index.docker.io/v1/refresh-token` beside `https://index.docker.io/v1/`. A URL
//! that names a registry as a whole (its path empty, `/`, `/v1/` or `/v2/`) also matches
//! the credentials stored under another such URL of the same registry, compared through
//! `normalize_registry` (so `https://index.docker.io/v1/` and `docker.io` are one
//! registry); `store` of such a URL replaces those credentials.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;
use zeroize::{Zeroize as _, Zeroizing};
use zlayer_secrets::registry_credentials::{
    RegistryAuthType, RegistryCredential, RegistryCredentialStore, normalize_registry,
};
use zlayer_secrets::{SecretsError, SecretsStore};

use super::{open_store, read_request};
use crate::backend::Location;

/// The helper's program name (docker finds it as `docker-credential-` + `credsStore`).
pub(crate) const PROGRAM: &str = "docker-credential-zlayer";

/// The user name docker uses for identity tokens.
const TOKEN_USER: &str = "<token>";

/// The error text docker recognises as "no credential".
pub(crate) const NOT_FOUND: &str = "credentials not found in native keychain";
const MISSING_URL: &str = "no credentials server URL";
const MISSING_USERNAME: &str = "no credentials username";
const USERINFO: &str = "the server URL holds user information (`user:password@`), which is not \
     allowed: give the user name as Username and the password as Secret";

/// Whether this process was started under the helper's name: by the
/// `docker-credential-zlayer` launcher, or as a link to or copy of `zlayer-secret` with
/// that name.
pub(crate) fn invoked_as_helper() -> bool {
    // Where a process cannot be given another name, the launcher says it this way.
    #[cfg(not(unix))]
    if std::env::var_os("ZLAYER_SECRETS_AS").is_some_and(|v| v == PROGRAM) {
        return true;
    }
    std::env::args_os()
        .next()
        .as_deref()
        .map(Path::new)
        .and_then(Path::file_stem)
        .is_some_and(|name| name == PROGRAM)
}

/// A failure reported to docker: its text goes to stdout.
#[derive(Debug)]
struct Failure(String);

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Self(format!("{e:#}"))
    }
}

fn fail(text: &str) -> Failure {
    Failure(text.to_owned())
}

/// The helper's entry point.
pub(crate) fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let result = match args.as_slice() {
        [action] => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")
            .map_err(Failure::from)
            .and_then(|rt| rt.block_on(serve(action))),
        _ => Err(Failure(format!(
            "Usage: {PROGRAM} <store|get|erase|list|version>"
        ))),
    };
    let mut out = std::io::stdout().lock();
    let written = match &result {
        Ok(text) => out.write_all(text.as_bytes()),
        Err(Failure(text)) => writeln!(out, "{text}"),
    };
    if written.and_then(|()| out.flush()).is_err() || result.is_err() {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Runs `action` against the data directory of `ZLAYER_SECRETS_DIR`; returns what to
/// print on success.
async fn serve(action: &str) -> Result<Zeroizing<String>, Failure> {
    let location = Location::from_env()?;
    match action {
        "store" => {
            let input = read_request()?;
            store(&location, &input).await?;
            Ok(Zeroizing::new(String::new()))
        }
        "get" => {
            let input = read_request()?;
            get(&location, &server_url(&input)?).await
        }
        "erase" => {
            let input = read_request()?;
            erase(&location, &server_url(&input)?).await?;
            Ok(Zeroizing::new(String::new()))
        }
        "list" => list(&location).await,
        "version" => Ok(Zeroizing::new(format!(
            "{PROGRAM} (zlayer-secrets) v{}\n",
            env!("CARGO_PKG_VERSION")
        ))),
        other => Err(Failure(format!("Unknown credential action `{other}`"))),
    }
}

/// The server URL of a `get` or `erase` request: the whole input, without surrounding
/// white space. One that is not a registry (or not UTF-8) has no credential: the answer
/// is [`NOT_FOUND`], as the reference helpers give it (docker takes any other error for a
/// broken helper); why is said on stderr, which docker does not show.
fn server_url(input: &[u8]) -> Result<String, Failure> {
    let Ok(text) = std::str::from_utf8(input) else {
        eprintln!("{PROGRAM}: the server URL is not UTF-8; answered as not found");
        return Err(fail(NOT_FOUND));
    };
    let url = text.trim();
    if url.is_empty() {
        return Err(fail(MISSING_URL));
    }
    if let Err(Failure(why)) = check_server_url(url) {
        eprintln!("{PROGRAM}: {why}; answered as not found");
        return Err(fail(NOT_FOUND));
    }
    Ok(url.to_owned())
}

/// Whether a server URL names a registry as a whole: its path is empty, `/`, `/v1/` or
/// `/v2/` (`ghcr.io`, `https://index.docker.io/v1/`). Such URLs match every URL of the
/// same registry that does too; any other (`https://index.docker.io/v1/access-token`) is
/// a key of its own, matched exactly.
fn names_registry(url: &str) -> bool {
    let url = url.trim();
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = rest.find(['/', '?', '#']).map_or("", |i| &rest[i..]);
    matches!(path, "" | "/" | "/v1/" | "/v2/")
}

/// Refuses a server URL that is not a registry, before any look-up. One with user
/// information (`https://user:password@host`) is refused without being shown: the password
/// belongs in `Secret`, and it must not reach an error message.
fn check_server_url(url: &str) -> Result<(), Failure> {
    if url.contains('@') {
        return Err(fail(USERINFO));
    }
    normalize_registry(url)
        .map(drop)
        .map_err(|e| Failure(e.to_string()))
}

/// The JSON docker exchanges for one credential.
#[derive(Deserialize, Serialize)]
struct Credentials {
    #[serde(rename = "ServerURL", default)]
    server_url: String,
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

impl Drop for Credentials {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

/// Opens the registry store (creating it only for `store`).
async fn registries(
    location: &Location,
    create: bool,
) -> anyhow::Result<Option<RegistryCredentialStore<Arc<dyn SecretsStore>>>> {
    Ok(open_store(location, create)
        .await?
        .map(RegistryCredentialStore::new))
}

/// The user name docker sees for a credential.
fn docker_username(cred: &RegistryCredential) -> &str {
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
async fn stored_for(
    store: &RegistryCredentialStore<Arc<dyn SecretsStore>>,
    url: &str,
) -> anyhow::Result<Vec<RegistryCredential>> {
    let whole = names_registry(url);
    let (mut exact, folded): (Vec<_>, Vec<_>) = store
        .find_by_registry(url)
        .await
        .context("cannot look up the registry")?
        .into_iter()
        .filter(|c| c.registry == url || (whole && names_registry(&c.registry)))
        .partition(|c| c.registry == url);
    exact.extend(folded);
    Ok(exact)
}

async fn store(location: &Location, input: &[u8]) -> Result<(), Failure> {
    // serde_json's own message may quote a value of the input (which may be the secret):
    // only its kind and position are reported.
    let creds: Credentials = serde_json::from_slice(input).map_err(|e| {
        Failure(format!(
            "the credentials on standard input are not the expected JSON object \
             {{\"ServerURL\", \"Username\", \"Secret\"}} ({:?} error at line {}, column {})",
            e.classify(),
            e.line(),
            e.column()
        ))
    })?;
    if creds.server_url.is_empty() {
        return Err(fail(MISSING_URL));
    }
    check_server_url(&creds.server_url)?;
    if creds.username.is_empty() {
        return Err(fail(MISSING_USERNAME));
    }
    let (username, auth_type) = if creds.username == TOKEN_USER {
        ("", RegistryAuthType::Token)
    } else {
        (creds.username.as_str(), RegistryAuthType::Basic)
    };
    let store = registries(location, true)
        .await?
        .context("the store could not be created")?;
    let existing = stored_for(&store, creds.server_url.trim()).await?;
    if let [only] = existing.as_slice()
        && only.username == username
        && only.auth_type == auth_type
        && let Ok(current) = store.get_password(&only.id).await
        && bool::from(current.expose().as_bytes().ct_eq(creds.secret.as_bytes()))
    {
        return Ok(());
    }
    store
        .create(creds.server_url.trim(), username, &creds.secret, auth_type)
        .await
        .context("cannot store the registry credential")?;
    for old in existing {
        delete(&store, &old.id).await?;
    }
    Ok(())
}

async fn get(location: &Location, url: &str) -> Result<Zeroizing<String>, Failure> {
    let Some(store) = registries(location, false).await? else {
        return Err(fail(NOT_FOUND));
    };
    let found = stored_for(&store, url).await?;
    let Some(cred) = found.first() else {
        return Err(fail(NOT_FOUND));
    };
    let secret = match store.get_password(&cred.id).await {
        Ok(s) => s,
        Err(SecretsError::NotFound { .. }) => return Err(fail(NOT_FOUND)),
        Err(e) => {
            return Err(anyhow::Error::new(e)
                .context("cannot read the registry credential")
                .into());
        }
    };
    let answer = Credentials {
        server_url: url.to_owned(),
        username: docker_username(cred).to_owned(),
        secret: secret.expose().to_owned(),
    };
    let mut text = Zeroizing::new(
        serde_json::to_string(&answer).context("cannot write the credentials as JSON")?,
    );
    text.push('\n');
    Ok(text)
}

async fn erase(location: &Location, url: &str) -> Result<(), Failure> {
    let Some(store) = registries(location, false).await? else {
        return Err(fail(NOT_FOUND));
    };
    let found = stored_for(&store, url).await?;
    if found.is_empty() {
        return Err(fail(NOT_FOUND));
    }
    for cred in found {
        delete(&store, &cred.id).await?;
    }
    Ok(())
}

async fn list(location: &Location) -> Result<Zeroizing<String>, Failure> {
    let mut map = BTreeMap::new();
    if let Some(store) = registries(location, false).await? {
        for cred in store
            .list()
            .await
            .context("cannot list the registry credentials")?
        {
            let user = docker_username(&cred).to_owned();
            map.entry(cred.registry).or_insert(user);
        }
    }
    let mut text = serde_json::to_string(&map).context("cannot write the list as JSON")?;
    text.push('\n');
    Ok(Zeroizing::new(text))
}

/// Deletes one credential; one already gone is fine.
async fn delete(
    store: &RegistryCredentialStore<Arc<dyn SecretsStore>>,
    id: &str,
) -> anyhow::Result<()> {
    match store.delete(id).await {
        Ok(()) | Err(SecretsError::NotFound { .. }) => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot delete the registry credential {id}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_trimmed_and_required() {
        assert_eq!(
            server_url(b" https://ghcr.io \n").unwrap(),
            "https://ghcr.io"
        );
        assert_eq!(server_url(b"\n").unwrap_err().0, MISSING_URL);
        for bad in [&b"\xff"[..], b"https://bob:hunter2@ghcr.io", b"ghcr.io\\x"] {
            assert_eq!(server_url(bad).unwrap_err().0, NOT_FOUND);
        }
        assert_eq!(
            check_server_url("https://bob:hunter2@ghcr.io")
                .unwrap_err()
                .0,
            USERINFO
        );
    }

    #[test]
    fn urls_that_name_a_registry_as_a_whole() {
        for url in [
            "ghcr.io",
            "https://ghcr.io",
            "https://ghcr.io/",
            "https://index.docker.io/v1/",
            "registry.example.com:5000/v2/",
            " docker.io ",
        ] {
            assert!(names_registry(url), "{url}");
        }
        for url in [
            "https://index.docker.io/v1/access-token",
            "https://index.docker.io/v1/refresh-token",
            "https://index.docker.io/v1",
            "https://ghcr.io/org",
            "https://ghcr.io/?x",
            "https://ghcr.io#x",
            "ghcr.io//",
        ] {
            assert!(!names_registry(url), "{url}");
        }
    }

    #[test]
    fn tokens_show_as_the_token_user() {
        let mut cred = RegistryCredential {
            id: "i".into(),
            registry: "ghcr.io".into(),
            username: String::new(),
            auth_type: RegistryAuthType::Token,
        };
        assert_eq!(docker_username(&cred), TOKEN_USER);
        cred.username = "ci-bot".into();
        assert_eq!(docker_username(&cred), "ci-bot");
        cred.auth_type = RegistryAuthType::Basic;
        assert_eq!(docker_username(&cred), "ci-bot");
    }
}
