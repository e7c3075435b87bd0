//! What can be wrong with a file, and what is worth knowing about one that reads.

use std::fmt;

/// Why a dotenv or JSON text cannot be read. Every variant names where: the line of a
/// dotenv file (the line its entry starts on), the position or the key in a JSON document.
/// None holds or shows a value; a key is shown escaped, a dotenv key cut to 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// dotenv: a carriage return not followed by a line feed (old Mac line endings, which
    /// readers split differently).
    #[error(
        "line {line}: a carriage return that ends no line (\\r without \\n): old Mac line \
         endings or a stray CR; convert the file to LF or CRLF line endings"
    )]
    LoneCarriageReturn {
        /// The line holding it, from 1.
        line: usize,
    },
    /// dotenv: `=` with no key before it.
    #[error("line {line}: expected `KEY=VALUE`, found no key before `=`")]
    MissingKey {
        /// The line, from 1.
        line: usize,
    },
    /// dotenv: a single-quoted key that is empty or has no closing quote.
    #[error("line {line}: a single-quoted key is empty or never closed")]
    BadQuotedKey {
        /// The line, from 1.
        line: usize,
    },
    /// dotenv: a single-quoted string without its closing quote.
    #[error("line {line}: a single-quoted string is never closed")]
    UnclosedSingleQuote {
        /// The line the string starts on, from 1.
        line: usize,
    },
    /// dotenv: a double-quoted string without its closing quote.
    #[error("line {line}: a double-quoted string is never closed")]
    UnclosedDoubleQuote {
        /// The line the string starts on, from 1.
        line: usize,
    },
    /// dotenv: a backslash right before a quote, where python-dotenv ends the string at
    /// another quote than readers that take every backslash as an escape.
    #[error(
        "line {line}: a backslash right before a quote makes it unclear where this quoted \
         string ends (python-dotenv ends it at another quote than other readers do); write \
         the value without a backslash right before a quote"
    )]
    AmbiguousQuote {
        /// The line the string starts on, from 1.
        line: usize,
    },
    /// dotenv: more text after a value's closing quote (only blanks and a `#` comment may
    /// follow it).
    #[error(
        "line {line}: `{}`: unexpected text after the value's closing quote{}",
        shown_key(key),
        on_line(*line, *at)
    )]
    TextAfterValue {
        /// The line the entry starts on, from 1.
        line: usize,
        /// The entry's key.
        key: String,
        /// The line the unexpected text is on.
        at: usize,
    },
    /// dotenv: a key followed by something other than `=`.
    #[error(
        "line {line}: `{}`: expected `=` after the key{}",
        shown_key(key),
        on_line(*line, *at)
    )]
    MissingEquals {
        /// The line the entry starts on, from 1.
        line: usize,
        /// The key.
        key: String,
        /// The line the unexpected text is on.
        at: usize,
    },
    /// dotenv: text that starts no entry.
    #[error("line {line}: unexpected text{}", on_line(*line, *at))]
    UnexpectedText {
        /// The line, from 1.
        line: usize,
        /// The line the unexpected text is on.
        at: usize,
    },
    /// More entries than the caller allows. Reading stops at the first one too many.
    #[error(
        "{}more than {max} entries, the most one file may hold",
        line.map(|l| format!("line {l}: ")).unwrap_or_default()
    )]
    TooManyEntries {
        /// dotenv: the line of the first entry too many.
        line: Option<usize>,
        /// The limit.
        max: usize,
    },
    /// JSON: the text is not JSON.
    #[error("not valid JSON: {kind} at line {line} column {column}")]
    InvalidJson {
        /// What kind of problem.
        kind: JsonSyntax,
        /// The line, from 1.
        line: usize,
        /// The column, from 1.
        column: usize,
    },
    /// JSON: the document is not an object.
    #[error("expected a JSON object of name/string pairs, found {found}")]
    NotAnObject {
        /// What it is instead.
        found: JsonType,
    },
    /// JSON: a key given twice.
    #[error("the key \"{}\" appears more than once", key.escape_debug())]
    DuplicateKey {
        /// The key.
        key: String,
    },
    /// JSON: a value that is not a string.
    #[error("the value of \"{}\" is {found}, expected a string", key.escape_debug())]
    NotAString {
        /// Its key.
        key: String,
        /// What it is instead.
        found: JsonType,
    },
}

impl FormatError {
    /// The dotenv line the error is about (the line its entry starts on), if it is about
    /// one.
    #[must_use]
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::LoneCarriageReturn { line }
            | Self::MissingKey { line }
            | Self::BadQuotedKey { line }
            | Self::UnclosedSingleQuote { line }
            | Self::UnclosedDoubleQuote { line }
            | Self::AmbiguousQuote { line }
            | Self::TextAfterValue { line, .. }
            | Self::MissingEquals { line, .. }
            | Self::UnexpectedText { line, .. } => Some(*line),
            Self::TooManyEntries { line, .. } => *line,
            Self::InvalidJson { .. }
            | Self::NotAnObject { .. }
            | Self::DuplicateKey { .. }
            | Self::NotAString { .. } => None,
        }
    }
}

/// The kind of a JSON syntax problem (from `serde_json`, whose own messages can quote the
/// input and are not used).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonSyntax {
    /// The text could not be read.
    Io,
    /// Not JSON syntax.
    Syntax,
    /// Well-formed, but not what was expected.
    Data,
    /// The text ends in the middle of the document.
    Eof,
}

impl fmt::Display for JsonSyntax {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Io => "read error",
            Self::Syntax => "syntax error",
            Self::Data => "unexpected data",
            Self::Eof => "unexpected end of input",
        })
    }
}

/// What a JSON value is, for errors about a value of the wrong type (its content is never
/// kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonType {
    /// A string.
    String,
    /// A number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// `null`.
    Null,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl fmt::Display for JsonType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::String => "a string",
            Self::Number => "a number",
            Self::Boolean => "a boolean",
            Self::Null => "null",
            Self::Array => "an array",
            Self::Object => "an object",
        })
    }
}

/// Something a dotenv file holds that a reader may not expect, though it reads: shown as
/// `line N: ...`, naming the key where that says nothing of a value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// `export KEY` without `=`: sets nothing, skipped.
    ExportWithoutValue {
        /// The line, from 1.
        line: usize,
        /// The key.
        key: String,
    },
    /// A bare word without `=`: sets nothing, skipped. The word is not kept (it may be a
    /// stray value).
    NameWithoutValue {
        /// The line, from 1.
        line: usize,
    },
    /// An unquoted value cut short by ` #`, which starts a comment.
    CommentCutsValue {
        /// The line, from 1.
        line: usize,
        /// The entry's key.
        key: String,
    },
    /// `\$` in a double-quoted value, read as `$` (python-dotenv keeps the backslash).
    EscapedDollar {
        /// The line the value starts on, from 1.
        line: usize,
    },
}

impl Warning {
    /// The line the warning is about, from 1.
    #[must_use]
    pub fn line(&self) -> usize {
        match self {
            Self::ExportWithoutValue { line, .. }
            | Self::NameWithoutValue { line }
            | Self::CommentCutsValue { line, .. }
            | Self::EscapedDollar { line } => *line,
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: ", self.line())?;
        match self {
            Self::ExportWithoutValue { key, .. } => write!(
                f,
                "`export {}` has no `=` and sets nothing; skipped",
                shown_key(key)
            ),
            Self::NameWithoutValue { .. } => {
                f.write_str("a line with a name but no `=` sets nothing; skipped")
            }
            Self::CommentCutsValue { key, .. } => write!(
                f,
                "the unquoted value of `{}` ends before ` #`, which starts a comment; quote \
                 the value if the `#` and what follows belong to it",
                shown_key(key)
            ),
            Self::EscapedDollar { .. } => f.write_str(
                "`\\$` in a double-quoted value is read as `$`, as earlier versions of \
                 `zlayer-secret export` meant it (python-dotenv keeps the backslash)",
            ),
        }
    }
}

/// A dotenv key as messages show it: escaped, at most 64 characters.
fn shown_key(key: &str) -> String {
    let mut shown: String = key.chars().take(64).flat_map(char::escape_debug).collect();
    if key.chars().nth(64).is_some() {
        shown.push('…');
    }
    shown
}

/// ` on line N` when the problem is on another line than the entry's first.
fn on_line(line: usize, at: usize) -> String {
    if at == line {
        String::new()
    } else {
        format!(" on line {at}")
    }
}
