//! What can go wrong answering docker.

use zlayer_secrets_core::SecretsError;

use super::{NOT_FOUND, PROGRAM};
use crate::OpenError;

/// Why docker's request cannot be answered. Its text (with its sources, joined by `: `) is
/// the line docker reads on stdout; none holds a password or token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DockerError {
    /// Not exactly one argument, the action.
    #[error("Usage: {PROGRAM} <store|get|erase|list|version>")]
    Usage,
    /// An action docker does not define.
    #[error("Unknown credential action `{action}`")]
    UnknownAction {
        /// The action given.
        action: String,
    },
    /// No credential for the server URL.
    #[error("{NOT_FOUND}")]
    NotFound,
    /// The server URL of `get` or `erase` is not a registry: answered as [`NOT_FOUND`],
    /// as the reference helpers answer it (docker takes any other answer for a broken
    /// helper); `reason` is for a log docker does not show.
    #[error("{NOT_FOUND}")]
    NotARegistry {
        /// Why the server URL is not a registry.
        reason: String,
    },
    /// An empty server URL.
    #[error("no credentials server URL")]
    MissingServerUrl,
    /// An empty user name in `store`.
    #[error("no credentials username")]
    MissingUsername,
    /// A server URL with `user:password@` (which is not shown).
    #[error(
        "the server URL holds user information (`user:password@`), which is not allowed: \
         give the user name as Username and the password as Secret"
    )]
    UserInformation,
    /// A server URL that is not a registry, in `store`.
    #[error("{0}")]
    InvalidRegistry(SecretsError),
    /// The input of `store` is not the JSON object docker sends; only the kind and the
    /// position of the problem are kept (`serde_json`'s message may quote the secret).
    #[error(
        "the credentials on standard input are not the expected JSON object \
         {{\"ServerURL\", \"Username\", \"Secret\"}} ({kind} error at line {line}, column \
         {column})"
    )]
    BadJson {
        /// `Syntax`, `Data`, `Eof` or `Io`.
        kind: &'static str,
        /// The line, from 1.
        line: usize,
        /// The column, from 1.
        column: usize,
    },
    /// The store could not be opened.
    #[error(transparent)]
    Open(OpenError),
    /// The store to keep a credential in could not be created.
    #[error("the store could not be created")]
    NotCreated,
    /// Looking up the credentials of the registry failed.
    #[error("cannot look up the registry")]
    Lookup(#[source] SecretsError),
    /// Reading the password of the matching credential failed.
    #[error("cannot read the registry credential")]
    Read(#[source] SecretsError),
    /// Listing the credentials failed.
    #[error("cannot list the registry credentials")]
    List(#[source] SecretsError),
    /// Storing the credential failed.
    #[error("cannot store the registry credential")]
    Store(#[source] SecretsError),
    /// Deleting a credential failed.
    #[error("cannot delete the registry credential {id}")]
    Delete {
        /// The credential's id.
        id: String,
        /// Why.
        #[source]
        source: SecretsError,
    },
}

impl DockerError {
    /// The line docker reads: this error's text and its sources', joined by `: `.
    #[must_use]
    pub fn answer(&self) -> String {
        crate::message::full_message(self)
    }
}
