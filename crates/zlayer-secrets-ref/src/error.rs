//! [`ParseError`]: where and why a reference is malformed.

use core::fmt;

use crate::parts::{MAX_PART_LEN, char_class};

/// A part of a reference, as named in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Part {
    /// The secret's name (`KEY` in the URL form).
    Name,
    /// The service of `$S:@service/name`.
    Service,
    /// The project of `$S:project:env/name`.
    Project,
    /// The environment of `$S::env/name`, `$S:project:env/name` and `$secret://env/KEY`.
    Environment,
    /// The JSON field after the name.
    Field,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Name => "secret name",
            Self::Service => "service",
            Self::Project => "project",
            Self::Environment => "environment",
            Self::Field => "field",
        })
    }
}

/// Why a reference is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The input starts with neither `$S:` nor `$secret://`: it is not a reference at all
    /// (always at offset 0).
    NotAReference,
    /// A part is empty, as the name in `$S:@svc/` or the environment in `$S::/name`.
    Empty(Part),
    /// The input ends where `/` and this part must follow, as in `$S:@svc` or `$S::env`.
    Missing(Part),
    /// A part holds a character that no part may hold (see
    /// [`is_allowed_char`](crate::is_allowed_char)); the offset is that of the character.
    ForbiddenChar {
        /// The part being read.
        part: Part,
        /// The refused character.
        ch: char,
    },
    /// A part is `.` or `..`.
    DotPart(Part),
    /// A part is longer than [`MAX_PART_LEN`] bytes.
    TooLong {
        /// The part being read.
        part: Part,
        /// Its length in bytes.
        len: usize,
    },
    /// A `/` follows the field, as in `$S:name/field/extra`: a reference has at most one
    /// field.
    ExtraSegment,
    /// A second `:` follows the environment, as in `$S:a:b:c/name`: only `project:env` holds
    /// a `:`.
    ExtraColon,
}

/// A malformed reference: the byte offset in the input where the problem is, and why.
///
/// The message never repeats the input: it names the offending character only by its code
/// point (or, for the reserved `$ / : @`, the character itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ParseError {
    offset: usize,
    kind: ParseErrorKind,
}

impl ParseError {
    pub(crate) fn new(offset: usize, kind: ParseErrorKind) -> Self {
        Self { offset, kind }
    }

    /// Byte offset in the input at which the problem was found. It is always at most the
    /// input's length and on a character boundary.
    #[must_use]
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Why the input was refused.
    #[must_use]
    pub fn kind(&self) -> ParseErrorKind {
        self.kind
    }

    /// Whether the input is simply not a reference (it starts with neither `$S:` nor
    /// `$secret://`), as opposed to a malformed one.
    #[must_use]
    pub fn is_not_a_reference(&self) -> bool {
        self.kind == ParseErrorKind::NotAReference
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind == ParseErrorKind::NotAReference {
            return f.write_str(
                "not a secret reference: it starts with neither `$S:` nor `$secret://`",
            );
        }
        write!(f, "malformed secret reference at byte {}: ", self.offset)?;
        match self.kind {
            ParseErrorKind::NotAReference => Ok(()),
            ParseErrorKind::Empty(part) => write!(f, "the {part} is empty"),
            ParseErrorKind::Missing(part) => {
                write!(f, "the {part} is missing (expected `/` and the {part})")
            }
            ParseErrorKind::ForbiddenChar { part, ch } => {
                if ch.is_ascii_graphic() {
                    write!(f, "`{ch}` is not allowed in the {part}")?;
                } else {
                    write!(
                        f,
                        "{} U+{:04X} is not allowed in the {part}",
                        char_class(ch),
                        u32::from(ch)
                    )?;
                }
                match ch {
                    ':' => f.write_str(" (`:` only separates project and environment, as in `$S:project:env/name`)"),
                    '@' => f.write_str(" (`@` only starts a service, as in `$S:@service/name`)"),
                    '$' => f.write_str(" (`$` only starts a reference)"),
                    _ => Ok(()),
                }
            }
            ParseErrorKind::DotPart(part) => write!(f, "a {part} may not be `.` or `..`"),
            ParseErrorKind::TooLong { part, len } => write!(
                f,
                "the {part} is {len} bytes long; at most {MAX_PART_LEN} are allowed"
            ),
            ParseErrorKind::ExtraSegment => {
                f.write_str("unexpected `/` after the field: a reference has at most one field")
            }
            ParseErrorKind::ExtraColon => {
                f.write_str("unexpected second `:`: only `project:environment` holds a `:`")
            }
        }
    }
}

impl core::error::Error for ParseError {}
