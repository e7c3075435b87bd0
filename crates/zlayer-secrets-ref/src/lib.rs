//! The secret-reference grammar of zlayer-secrets: `$S:name`, `$S:@service/name`,
//! `$S::env/name`, `$S:project:env/name` (each with an optional `/field`) and
//! `$secret://env/KEY[/field]`.
//!
//! Depend on this crate only if you need to recognise references without resolving them
//! (it is `#![no_std]` and needs only `alloc`); everything else should use
//! `zlayer-secrets-core`, which re-exports it.
//!
//! # Forms
//!
//! | text | shape |
//! |---|---|
//! | `$S:name` | deployment-level |
//! | `$S:name/field` | deployment-level, JSON field `field` |
//! | `$S:@service/name[/field]` | service-scoped |
//! | `$S::env/name[/field]` | environment-scoped, no project |
//! | `$S:project:env/name[/field]` | project-scoped environment |
//! | `$secret://env/KEY[/field]` | environment-scoped, no project (URL form) |
//!
//! The URL form gives the same [`SecretRef`] as `$S::env/KEY`, except that it remembers its
//! [`Syntax`] so that it displays as it was written (the marker takes no part in equality,
//! hashing or serde: see [`SecretRef`]).
//!
//! # What a part may hold
//!
//! Every part (name, service, project, environment, field) is 1 to [`MAX_PART_LEN`] bytes,
//! is not `.` or `..`, and holds only characters allowed by [`is_allowed_char`]: no `$`,
//! `/`, `:` or `@` (the grammar's own characters), no whitespace, no control characters and
//! no invisible (default-ignorable) characters. Other Unicode is fine: `$S:clé-ünïcode` is a
//! reference. Prefixes are case-sensitive, and nothing is trimmed: `" $S:x"` is not a
//! reference and `"$S:x\n"` is a malformed one.
//!
//! # Parsing
//!
//! [`SecretRef::parse`] keeps the original `Option` signature; [`SecretRef::try_parse`]
//! (and [`str::parse`] through [`FromStr`](core::str::FromStr)) returns a [`ParseError`]
//! with the byte offset and the reason. [`SecretRef::looks_like_reference`] tells a plain
//! value from a malformed reference.
//!
//! ```
//! use zlayer_secrets_ref::SecretRef;
//!
//! for text in ["$S:db", "$S:@api/db/password", "$S:shop:prod/db", "$secret://prod/API_KEY"] {
//!     let r: SecretRef = text.parse()?;
//!     assert_eq!(r.to_string(), text);
//! }
//! let url = SecretRef::parse("$secret://prod/API_KEY").unwrap();
//! assert_eq!(url, SecretRef::for_environment("prod", "API_KEY"));
//!
//! let err = SecretRef::try_parse("$S:db password").unwrap_err();
//! assert_eq!(err.offset(), 5);
//! assert_eq!(
//!     err.to_string(),
//!     "malformed secret reference at byte 5: whitespace U+0020 is not allowed in the secret name"
//! );
//! # Ok::<(), zlayer_secrets_ref::ParseError>(())
//! ```
//!
//! # Laws
//!
//! For every `input: &str` (the property tests check these, and a fuzz target can check
//! them on `str::from_utf8` of its bytes):
//! - [`SecretRef::try_parse`] never panics, and `parse`, `try_parse` and `str::parse` agree;
//! - `Ok(r)` implies `r.to_string() == input` and `SecretRef::parse(&r.to_string()) ==
//!   Some(r)`;
//! - `Err(e)` implies `e.offset() <= input.len()`, `input.is_char_boundary(e.offset())`, and
//!   `e.is_not_a_reference() == !SecretRef::looks_like_reference(input)`.
#![no_std]

extern crate alloc;

mod error;
mod parser;
mod parts;
mod scope;
mod secret_ref;

pub use error::{ParseError, ParseErrorKind, Part};
pub use parts::{MAX_PART_LEN, is_allowed_char};
pub use scope::SecretScope;
pub use secret_ref::{SecretRef, Syntax};
