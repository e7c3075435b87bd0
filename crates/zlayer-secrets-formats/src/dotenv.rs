//! The dotenv files zlayer-secrets reads and writes.
//!
//! Written by hand rather than with a dotenv crate because import must be lossless and
//! inert: no variable expansion, every secret name (not only shell identifiers), exact
//! values including newlines and surrounding spaces, and errors that give a line number and
//! a key but never echo a value.
//!
//! # Reading
//!
//! Files are read as python-dotenv 1.2 reads them (`dotenv_values(path,
//! interpolate=False)`), the most common reader, so that a file written for it imports
//! with the same values; the differences are listed in `docs/cli.md`:
//!
//! - UTF-8; an optional byte-order mark is skipped. Lines end in `\n` or `\r\n`; a `\r\n`
//!   inside a quoted value is a `\n` of the value. A carriage return that ends no line is
//!   an error (python-dotenv would read it as a line feed, so a file with old Mac line
//!   endings would be read as one mangled value by readers that do not).
//! - Blank lines, and lines whose first non-blank character is `#`, are comments.
//! - An entry is `[export ]KEY=VALUE`; blanks after the key, after `=` and after the value
//!   are ignored. `KEY` is bare (up to `=`, `#` or a blank), single-quoted (`'KEY'`, no
//!   escapes) or double-quoted (with the escapes of values; python-dotenv keeps the quotes
//!   as part of the key).
//! - `VALUE` is
//!   - **double-quoted** `"..."`: the escapes `\\` `\'` `\"` `\a` `\b` `\f` `\n` `\r` `\t`
//!     `\v` and (unlike python-dotenv, which keeps the backslash) `\$` are decoded; a
//!     backslash before any other character is kept as it is (`"^\d+$"` is `^\d+$`); the
//!     value may span lines. It ends where python-dotenv ends it: a `\"` is a quote of the
//!     value, except the last one of the file when no other quote follows. Where a reader
//!     that takes every backslash as escaping the next character ends it at another quote
//!     (`"C:\dir\\"` followed by more quotes), the entry is refused as ambiguous;
//!   - **single-quoted** `'...'`: `\\` and `\'` are decoded, everything else is literal;
//!     may span lines, and ends by the same rules;
//!   - **unquoted**: the rest of the line up to a `#` that follows a blank (a comment; a
//!     warning says so), without trailing blanks; backslashes and quotes are literal.
//!
//!   After a closing quote only blanks and a `#` comment may follow on that line.
//! - A line that is only a key (`export K`, `K`) sets nothing: it is skipped with a warning.
//! - `$` never expands: `${HOME}` is the seven characters `${HOME}`.
//! - Every bad line is reported (line and key, never the content), not only the first.
//!
//! # Writing
//!
//! [`write_entry`] writes a form that python-dotenv (with and without interpolation),
//! dotenvy and this reader all read as the same string, or refuses the entry
//! ([`Unwritable`]):
//!
//! - keys bare, made of letters, digits, `_`, `.` and `-` (a quoted key is read three
//!   different ways);
//! - values single-quoted when they hold no `'`, no `\\` (python-dotenv decodes it in
//!   single quotes) and no control character; otherwise double-quoted with only the
//!   escapes all three decode alike, `\\`, `\"` and `\n`, when they hold no `$` (dotenvy
//!   expands `$` in double quotes unless escaped, python-dotenv keeps the backslash of
//!   `\$`); otherwise single-quoted with their control characters as they are;
//! - refused: values holding a `${...}` that python-dotenv would expand (it does so inside
//!   any quotes), a carriage return (python-dotenv reads it as a line feed, dotenvy has no
//!   escape for it), a final backslash (python-dotenv takes `\"` or `\'` for an escaped
//!   quote and reads on into the next line), or both a `$` and a `'` or `\\` (no quoting
//!   carries them for both python-dotenv and dotenvy).

mod parser;
mod writer;

pub use parser::{Entry, Parsed, parse, parse_all};
pub use writer::{Unwritable, write_entry};

/// Which quote a quoted string ends with, and so which escapes it has.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    Single,
    Double,
}

impl Quote {
    fn char(self) -> char {
        match self {
            Self::Single => '\'',
            Self::Double => '"',
        }
    }

    /// What `\` followed by `c` stands for, `None` for a backslash kept as it is.
    fn escape(self, c: char) -> Option<char> {
        match (self, c) {
            (_, '\\') => Some('\\'),
            (_, '\'') => Some('\''),
            (Self::Double, '"') => Some('"'),
            (Self::Double, '$') => Some('$'),
            (Self::Double, 'a') => Some('\u{7}'),
            (Self::Double, 'b') => Some('\u{8}'),
            (Self::Double, 'f') => Some('\u{c}'),
            (Self::Double, 'n') => Some('\n'),
            (Self::Double, 'r') => Some('\r'),
            (Self::Double, 't') => Some('\t'),
            (Self::Double, 'v') => Some('\u{b}'),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
