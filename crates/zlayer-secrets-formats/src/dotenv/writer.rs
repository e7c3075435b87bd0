//! The writer of the dotenv dialect described in [`super`]: one form every common reader
//! reads back unchanged, or a refusal saying why there is none.

use std::fmt;

use zeroize::Zeroizing;

use super::Quote;

/// Why an entry cannot be written so that every common dotenv reader reads it back
/// unchanged. Says what the key or value holds, never the value itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unwritable {
    /// The key needs quotes, which the readers take in different ways.
    Key,
    /// The value holds `${...}`, which python-dotenv expands inside any quotes.
    Interpolated,
    /// The value holds a carriage return.
    CarriageReturn,
    /// The value ends with a backslash.
    FinalBackslash,
    /// The value holds a `$` together with a `'` or `\\`.
    DollarAndQuote,
}

impl fmt::Display for Unwritable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Key => {
                "the name needs quotes (only letters, digits, `_`, `.` and `-` are written \
                 bare), and python-dotenv, dotenvy and zlayer-secret read quoted names \
                 differently"
            }
            Self::Interpolated => {
                "the value holds `${...}`, which python-dotenv replaces with a variable even \
                 inside quotes"
            }
            Self::CarriageReturn => {
                "the value holds a carriage return, which python-dotenv reads as a line feed \
                 and dotenvy cannot read"
            }
            Self::FinalBackslash => {
                "the value ends with a backslash, which python-dotenv reads as escaping the \
                 closing quote"
            }
            Self::DollarAndQuote => {
                "the value holds `$` together with `'` or `\\\\`, which no quoting carries \
                 for both python-dotenv and dotenvy"
            }
        })
    }
}

impl std::error::Error for Unwritable {}

/// Appends `key` and `value` as one entry, newline included, in the form python-dotenv
/// (with or without interpolation), dotenvy and [`parse`](super::parse) all read back as `value`, or
/// says why there is none (then nothing is appended).
pub fn write_entry(out: &mut Zeroizing<String>, key: &str, value: &str) -> Result<(), Unwritable> {
    if !is_bare_key(key) {
        return Err(Unwritable::Key);
    }
    let quote = value_quote(value)?;
    out.push_str(key);
    out.push('=');
    match quote {
        Quote::Single => {
            out.push('\'');
            out.push_str(value);
            out.push('\'');
        }
        Quote::Double => {
            out.push('"');
            for c in value.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '"' => out.push_str("\\\""),
                    '\n' => out.push_str("\\n"),
                    other => out.push(other),
                }
            }
            out.push('"');
        }
    }
    out.push('\n');
    Ok(())
}

/// Whether a key can be written without quotes and read back unchanged by every reader.
fn is_bare_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The quotes `value` is written in.
fn value_quote(value: &str) -> Result<Quote, Unwritable> {
    if python_interpolates(value) {
        return Err(Unwritable::Interpolated);
    }
    if value.contains('\r') {
        return Err(Unwritable::CarriageReturn);
    }
    if value.ends_with('\\') {
        return Err(Unwritable::FinalBackslash);
    }
    let single = !value.contains('\'') && !value.contains("\\\\");
    let double = !value.contains('$');
    let control = value.chars().any(char::is_control);
    match (single, double) {
        (true, _) if !control => Ok(Quote::Single),
        (_, true) => Ok(Quote::Double),
        (true, false) => Ok(Quote::Single),
        (false, false) => Err(Unwritable::DollarAndQuote),
    }
}

/// Whether python-dotenv's interpolation (`${NAME}`, `${NAME:-default}`) finds a variable
/// in `value`: `${`, then a name without `}` and `:`, then `}` or `:-` and a later `}`.
pub(super) fn python_interpolates(value: &str) -> bool {
    value.match_indices("${").any(|(i, _)| {
        let after = &value[i + 2..];
        match after.find(['}', ':']) {
            Some(j) if after[j..].starts_with('}') => true,
            Some(j) => after[j + 1..]
                .strip_prefix('-')
                .is_some_and(|default| default.contains('}')),
            None => false,
        }
    })
}
