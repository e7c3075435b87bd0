//! docker's credential-helper protocol over the registry credential store, as
//! `docker-credential-zlayer` serves it.
//!
//! docker runs `docker-credential-zlayer ACTION` with no other argument and no flag, the
//! request on its standard input, and reads the answer from its standard output. The
//! actions:
//!
//! | action | stdin | stdout |
//! |---|---|---|
//! | `store` | `{"ServerURL": …, "Username": …, "Secret": …}` | nothing |
//! | `get` | the server URL | `{"ServerURL": …, "Username": …, "Secret": …}` |
//! | `erase` | the server URL | nothing |
//! | `list` | nothing | `{"<server URL>": "<user name>", …}` |
//! | `version` | nothing | the helper's name and version |
//!
//! Errors go to **stdout** (docker reads them there; a [`DockerError`] shows as the line to
//! print) with exit code 1; a missing credential is exactly [`NOT_FOUND`], and so is the
//! answer of `get` and `erase` for a server URL that is not a registry (as the reference
//! helpers answer it: docker takes anything else as a failure of the helper). The user name
//! `<token>` marks an identity token: it is stored as a
//! [`RegistryAuthType::Token`](zlayer_secrets_credentials::RegistryAuthType::Token)
//! credential without a user name and reported as `<token>` again.
//!
//! Like the reference helpers, every server URL is a key of its own, matched exactly
//! first: docker keeps Docker Hub's `https://index.docker.io/v1/access-token` and
//! `https://index.docker.io/v1/refresh-token` beside `https://index.docker.io/v1/`. A URL
//! that names a registry as a whole (its path empty, `/`, `/v1/` or `/v2/`) also matches
//! the credentials stored under another such URL of the same registry, compared through
//! `normalize_registry` (so `https://index.docker.io/v1/` and `docker.io` are one
//! registry); `store` of such a URL replaces those credentials.
//!
//! [`serve`] runs one [`Action`] on the bytes of its request; [`store`], [`get`], [`erase`]
//! and [`list`] are the actions on a store.

mod error;
mod operations;
mod registry;
mod request;

pub use error::DockerError;
pub use operations::{erase, get, list, serve, store};
pub use registry::names_registry;
pub use request::{Action, Credentials, server_url};

/// The helper's program name (docker finds it as `docker-credential-` + `credsStore`).
pub const PROGRAM: &str = "docker-credential-zlayer";

/// The error text docker recognises as "no credential".
pub const NOT_FOUND: &str = "credentials not found in native keychain";

/// The user name docker uses for identity tokens.
const TOKEN_USER: &str = "<token>";

#[cfg(test)]
mod tests;
