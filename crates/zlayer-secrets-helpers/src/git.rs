//! git's credential-helper protocol (`get`, `store`, `erase`) over the Git credential store
//! (personal access tokens), as `zlayer-secret git-credential` serves it.
//!
//! git writes `key=value` lines (LF-terminated; a blank line or the end of input ends the
//! request) and reads the same format back. The attributes used are `protocol`, `host`
//! (with its port, if any), `path` (only with `credential.useHttpPath`), `username`,
//! `password` and `url` (which sets all of them); every other attribute (such as
//! `password_expiry_utc`, `wwwauth[]` or `capability[]`) is accepted and ignored. A key
//! holds no `=`; a value may; NUL and carriage returns are refused.
//!
//! A credential is kept as one Git credential of kind PAT whose host is the URL
//! `protocol://host[/path]` (the path percent-encoded) and whose user name is git's
//! `username`; its password may be empty (a token given as the user name). Any protocol
//! is kept (`https`, and `smtp` from `git send-email`, `imap`, ...), keyed by its location
//! `protocol://host[:port]` as `normalize_git_location_fields` gives it: the protocol and
//! the host compared without case, the host without a trailing dot and without the
//! protocol's default port. A request matches a credential of the same location when,
//! only if the request has them, the path and the user name are the same; of several
//! matches the one stored last is given, as git's `credential-store` does. A credential
//! created without a scheme (`github.com`) counts as `https` with no path.
//!
//! The protocol and host are compared as the fields git sent, never through a URL made of
//! them: a `host` holding `/`, `?`, `#`, `@`, `\`, whitespace or a control character (git
//! percent-decodes `https://github.com%2f.evil.example/` into `host=github.com/.evil.example`)
//! is refused with an error, so it can neither receive nor replace `github.com`'s token.
//! Requests without a host (git's `cert` requests name only a path) are ignored.
//!
//! [`serve`] runs one operation on the bytes of a request; [`parse`], [`get`], [`store`]
//! and [`erase`] are its steps.

mod error;
mod location;
mod operations;
mod request;

pub use error::{GitError, UrlError};
pub use location::Lookup;
pub use operations::{erase, get, serve, store};
pub use request::{Request, parse};

#[cfg(test)]
mod tests;
