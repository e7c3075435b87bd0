//! What can go wrong answering git.

use zlayer_secrets_core::SecretsError;

use crate::OpenError;

/// Why a request of git cannot be answered. Names the line and the attribute, the host or
/// the credential concerned, never a password or token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GitError {
    /// A line of the request is not UTF-8.
    #[error("line {line} of the request is not UTF-8")]
    NotUtf8 {
        /// The line, from 1.
        line: usize,
    },
    /// A line of the request is not `key=value`.
    #[error("line {line} of the request has no `=` (expected key=value)")]
    NoEquals {
        /// The line, from 1.
        line: usize,
    },
    /// A line of the request starts with `=`.
    #[error("line {line} of the request has an empty key")]
    EmptyKey {
        /// The line, from 1.
        line: usize,
    },
    /// A line of the request holds a NUL byte.
    #[error(
        "line {line} of the request (`{}`) contains a NUL byte",
        shown_key(key)
    )]
    Nul {
        /// The line, from 1.
        line: usize,
        /// Its attribute.
        key: String,
    },
    /// A line of the request holds a carriage return.
    #[error(
        "line {line} of the request (`{}`) contains a carriage return",
        shown_key(key)
    )]
    CarriageReturn {
        /// The line, from 1.
        line: usize,
        /// Its attribute.
        key: String,
    },
    /// The `url=` line of the request cannot be read.
    #[error("line {line}: url")]
    Url {
        /// The line, from 1.
        line: usize,
        /// What is wrong with the URL.
        #[source]
        source: UrlError,
    },
    /// An attribute of a request holds a line break, a carriage return or NUL (which only a
    /// percent-encoded `url=` can give it), so it cannot be written as a request.
    #[error(
        "the {field} of the request holds a line break, carriage return or NUL, which git's \
         protocol cannot carry"
    )]
    Unwritable {
        /// The attribute.
        field: &'static str,
    },
    /// The protocol is not a URL scheme or the host not a host name with an optional port.
    #[error("git sent a protocol or host this helper refuses")]
    RefusedLocation(#[source] SecretsError),
    /// The store could not be opened.
    #[error(transparent)]
    Open(OpenError),
    /// The store to keep a credential in could not be created.
    #[error("the store could not be created")]
    NotCreated,
    /// Looking up the credentials of the location failed.
    #[error("cannot look up the Git credentials")]
    Lookup(#[source] SecretsError),
    /// Reading the token of the matching credential failed.
    #[error("cannot read the Git credential")]
    Read(#[source] SecretsError),
    /// The user name of the matching credential holds a line break or NUL.
    #[error("the user name of the matching credential cannot be sent to git")]
    UnsendableUser,
    /// The token of the matching credential holds a line break or NUL.
    #[error(
        "the token of the matching credential {id} holds a line break or NUL, which git's \
         protocol cannot carry"
    )]
    UnsendableToken {
        /// The credential's id.
        id: String,
    },
    /// The credential would be stored under a URL that reads back as another location.
    #[error("git asked to store a credential for a host that cannot be stored unambiguously")]
    Ambiguous,
    /// Storing the credential failed.
    #[error("cannot store the Git credential")]
    Store(#[source] SecretsError),
    /// Deleting a credential failed.
    #[error("cannot delete the Git credential {id}")]
    Delete {
        /// The credential's id.
        id: String,
        /// Why.
        #[source]
        source: SecretsError,
    },
}

impl GitError {
    /// This error and its sources, joined by `: `, as a program shows it.
    #[must_use]
    pub fn full_message(&self) -> String {
        crate::message::full_message(self)
    }
}

/// Why the URL of a `url=` line cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// No `://` after the protocol.
    #[error("the URL has no `://`")]
    NoScheme,
    /// A percent-encoded part decodes into bytes that are not UTF-8.
    #[error("a percent-encoded part of the URL is not UTF-8")]
    NotUtf8(#[source] std::str::Utf8Error),
}

/// An attribute as messages show it: escaped, at most 40 characters.
fn shown_key(key: &str) -> String {
    key.chars().take(40).flat_map(char::escape_debug).collect()
}
