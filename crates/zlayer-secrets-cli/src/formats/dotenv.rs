//! The dotenv dialect `zlayer-secret` reads and writes.
//!
//! Written by hand rather than with a dotenv crate because import must be lossless and
//! inert: no variable expansion, every secret name (not only shell identifiers), exact
//! values including newlines and surrounding spaces, and errors that give a line number but
//! never echo the line (it may hold a secret).
//!
//! # The dialect
//!
//! - UTF-8, an optional byte-order mark, lines ending in `\n` or `\r\n`.
//! - Blank lines and lines whose first non-blank character is `#` are comments.
//! - An entry is `[export ]KEY=VALUE`. Spaces and tabs around the key and the `=` are
//!   ignored.
//! - `KEY` is either bare (everything before the first `=`, trimmed) or double-quoted with the
//!   escapes below, for names that hold `=`, `#`, quotes or start with `export `.
//! - `VALUE` is one of:
//!   - **double-quoted** `"..."`: the escapes `\\` `\"` `\$` `\n` `\r` `\t` `\'` are
//!     decoded, any other backslash sequence is an error; raw line breaks are kept, so a
//!     value may span lines;
//!   - **single-quoted** `'...'`: taken literally up to the next `'` (no escapes), may span
//!     lines;
//!   - **unquoted**: the rest of the line with surrounding blanks removed; a `#` at its
//!     start or after a blank begins a comment; backslashes and quotes inside are literal.
//!
//!   After a closing quote only blanks and a `#` comment may follow on that line.
//! - `$` never expands: `$HOME` is the five characters `$HOME`.
//!
//! The writer always double-quotes values and escapes `\`, `"`, `$`, line feeds and carriage
//! returns, so each entry is one line and reading it back gives the identical string. For
//! keys that are shell identifiers and values without carriage returns, the output is also
//! read correctly by the `dotenvy` crate.

use std::borrow::Cow;
use std::fmt;

use zeroize::Zeroizing;
use zlayer_secrets::Secret;

/// One `KEY=VALUE` entry read from a dotenv file.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The key, unvalidated: callers apply their own rules (secret name or variable name).
    pub(crate) key: String,
    /// The value.
    pub(crate) value: Secret,
    /// The line the entry starts on, from 1.
    pub(crate) line: usize,
}

/// A dotenv file that does not follow the dialect; names the line, never its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    /// The line, from 1.
    pub(crate) line: usize,
    /// What is wrong.
    pub(crate) message: Cow<'static, str>,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Reads every entry of a dotenv text; more than `max_entries` entries are an error
/// (reported at the first entry too many, before anything more is read).
pub(crate) fn parse(text: &str, max_entries: usize) -> Result<Vec<Entry>, ParseError> {
    Parser::new(text).entries(max_entries)
}

/// Appends `key` and `value` as one line of the dialect, newline included.
pub(crate) fn write_entry(out: &mut Zeroizing<String>, key: &str, value: &str) {
    if is_bare_key(key) {
        out.push_str(key);
    } else {
        push_quoted(out, key);
    }
    out.push('=');
    push_quoted(out, value);
    out.push('\n');
}

/// Whether a key can be written without quotes and read back unchanged.
fn is_bare_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn push_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '$' => out.push_str("\\$"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            other => out.push(other),
        }
    }
    out.push('"');
}

fn err(line: usize, message: &'static str) -> ParseError {
    ParseError {
        line,
        message: Cow::Borrowed(message),
    }
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

struct Parser<'a> {
    rest: &'a str,
    line: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            rest: text.strip_prefix('\u{feff}').unwrap_or(text),
            line: 1,
        }
    }

    fn entries(mut self, max_entries: usize) -> Result<Vec<Entry>, ParseError> {
        let mut out = Vec::new();
        while !self.rest.is_empty() {
            self.skip_blanks();
            if self.eat_line_end() {
                continue;
            }
            if self.rest.starts_with('#') {
                self.skip_comment();
                continue;
            }
            let line = self.line;
            if out.len() == max_entries {
                return Err(ParseError {
                    line,
                    message: Cow::Owned(format!(
                        "more than {max_entries} entries, the most one file may hold"
                    )),
                });
            }
            let key = self.key()?;
            self.skip_blanks();
            if !self.eat('=') {
                return Err(err(line, "expected `=` after the key"));
            }
            self.skip_blanks();
            let value = self.value(line)?;
            out.push(Entry { key, value, line });
        }
        Ok(out)
    }

    fn eat(&mut self, c: char) -> bool {
        if let Some(rest) = self.rest.strip_prefix(c) {
            self.rest = rest;
            true
        } else {
            false
        }
    }

    fn skip_blanks(&mut self) {
        self.rest = self.rest.trim_start_matches(is_blank);
    }

    /// Consumes a line ending (or the end of the text); false if something else is next.
    fn eat_line_end(&mut self) -> bool {
        if self.rest.is_empty() {
            return true;
        }
        for ending in ["\r\n", "\n"] {
            if let Some(rest) = self.rest.strip_prefix(ending) {
                self.rest = rest;
                self.line += 1;
                return true;
            }
        }
        false
    }

    /// Skips a `#` comment up to and including the line ending.
    fn skip_comment(&mut self) {
        match self.rest.find('\n') {
            Some(i) => {
                self.rest = &self.rest[i + 1..];
                self.line += 1;
            }
            None => self.rest = "",
        }
    }

    /// After a value: blanks, an optional comment, then the end of the line.
    fn end_of_entry(&mut self, line: usize) -> Result<(), ParseError> {
        self.skip_blanks();
        if self.rest.starts_with('#') {
            self.skip_comment();
            return Ok(());
        }
        if self.eat_line_end() {
            Ok(())
        } else {
            Err(err(line, "unexpected text after the closing quote"))
        }
    }

    fn key(&mut self) -> Result<String, ParseError> {
        let line = self.line;
        if let Some(after) = self.rest.strip_prefix("export")
            && after.starts_with(is_blank)
        {
            let trimmed = after.trim_start_matches(is_blank);
            // `export =x` is the key `export`; `export KEY=x` is the key `KEY`.
            if !trimmed.starts_with('=') {
                self.rest = trimmed;
            }
        }
        if self.rest.starts_with('"') {
            self.rest = &self.rest[1..];
            let key = self.double_quoted(line)?;
            return Ok(key.to_string());
        }
        if self.rest.starts_with('\'') {
            return Err(err(
                line,
                "keys may be bare or double-quoted, not single-quoted",
            ));
        }
        let end = self.rest.find(['=', '\n', '\r']).unwrap_or(self.rest.len());
        if !self.rest[end..].starts_with('=') {
            return Err(err(line, "expected `KEY=VALUE`, found no `=`"));
        }
        let key = self.rest[..end].trim_end_matches(is_blank);
        if key.is_empty() {
            return Err(err(line, "the key before `=` is empty"));
        }
        self.rest = &self.rest[key.len()..];
        Ok(key.to_owned())
    }

    fn value(&mut self, line: usize) -> Result<Secret, ParseError> {
        if let Some(rest) = self.rest.strip_prefix('"') {
            self.rest = rest;
            let mut value = self.double_quoted(line)?;
            self.end_of_entry(line)?;
            return Ok(Secret::new(std::mem::take(&mut *value)));
        }
        if let Some(rest) = self.rest.strip_prefix('\'') {
            let Some(end) = rest.find('\'') else {
                return Err(err(line, "a single-quoted value is never closed"));
            };
            let value = rest[..end].to_owned();
            self.line += value.matches('\n').count();
            self.rest = &rest[end + 1..];
            self.end_of_entry(line)?;
            return Ok(Secret::new(value));
        }
        // Unquoted: up to the end of the line or a comment that follows a blank.
        let (text, rest, newline) = match self.rest.find('\n') {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..], true),
            None => (self.rest, "", false),
        };
        let mut end = text.len();
        let mut prev_blank = true;
        for (i, c) in text.char_indices() {
            if c == '#' && prev_blank {
                end = i;
                break;
            }
            prev_blank = is_blank(c);
        }
        let value = text[..end]
            .strip_suffix('\r')
            .unwrap_or(&text[..end])
            .trim_end_matches(is_blank)
            .to_owned();
        self.rest = rest;
        if newline {
            self.line += 1;
        }
        Ok(Secret::new(value))
    }

    /// Reads a double-quoted string whose opening quote is consumed.
    fn double_quoted(&mut self, line: usize) -> Result<Zeroizing<String>, ParseError> {
        // Find the closing quote first, so the decoded value is allocated once and never
        // reallocated (which would leave copies of it in freed memory).
        let bytes = self.rest.as_bytes();
        let mut i = 0;
        let close = loop {
            match bytes.get(i) {
                None => {
                    return Err(err(line, "a double-quoted string is never closed"));
                }
                Some(b'\\') => i += 2,
                Some(b'"') => break i,
                Some(_) => i += 1,
            }
        };
        let raw = &self.rest[..close];
        let mut out = Zeroizing::new(String::with_capacity(raw.len()));
        let mut chars = raw.chars();
        let mut here = self.line;
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    let decoded = match chars.next() {
                        Some('\\') => '\\',
                        Some('"') => '"',
                        Some('$') => '$',
                        Some('\'') => '\'',
                        Some('n') => '\n',
                        Some('r') => '\r',
                        Some('t') => '\t',
                        Some('\n') => {
                            return Err(err(here, "a backslash at the end of a line"));
                        }
                        _ => {
                            return Err(err(
                                here,
                                "unknown escape in a double-quoted string (use \\\\ \\\" \\$ \\n \\r \\t)",
                            ));
                        }
                    };
                    out.push(decoded);
                }
                '\n' => {
                    here += 1;
                    out.push('\n');
                }
                other => out.push(other),
            }
        }
        self.line = here;
        self.rest = &self.rest[close + 1..];
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
