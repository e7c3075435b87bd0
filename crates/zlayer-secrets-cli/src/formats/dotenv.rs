//! The dotenv files `zlayer-secret` reads and writes.
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

/// What was read from a dotenv file: its entries and the warnings about it.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    /// The entries, in the order of the file.
    pub(crate) entries: Vec<Entry>,
    /// What the file holds that a reader may not expect (a comment cutting an unquoted
    /// value, a line that sets nothing), in the order of the file.
    pub(crate) warnings: Vec<Notice>,
}

/// An error or a warning about one line; names the line and perhaps the key, never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Notice {
    /// The line, from 1.
    pub(crate) line: usize,
    /// What is wrong or worth knowing.
    pub(crate) message: Cow<'static, str>,
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Reads every entry of a dotenv text. On failure, every bad line is reported, in the
/// order of the file; more than `max_entries` entries are an error reported at the first
/// entry too many, where reading stops.
pub(crate) fn parse(text: &str, max_entries: usize) -> Result<Parsed, Vec<Notice>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let cr_lines = lone_carriage_returns(text);
    let mut parser = Parser {
        text,
        pos: 0,
        line: 1,
        out: Parsed::default(),
        errors: cr_lines
            .iter()
            .map(|&line| Notice {
                line,
                message: Cow::Borrowed(
                    "a carriage return that ends no line (\\r without \\n): old Mac line \
                     endings or a stray CR; convert the file to LF or CRLF line endings",
                ),
            })
            .collect(),
        cr_lines,
    };
    parser.run(max_entries);
    if parser.errors.is_empty() {
        Ok(parser.out)
    } else {
        parser.errors.sort_by_key(|e| e.line);
        Err(parser.errors)
    }
}

/// The lines (from 1) holding a carriage return not followed by a line feed.
fn lone_carriage_returns(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let mut line = 1;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\n' => line += 1,
            b'\r' if bytes.get(i + 1) != Some(&b'\n') && lines.last() != Some(&line) => {
                lines.push(line);
            }
            _ => {}
        }
    }
    lines
}

/// Whitespace as python-dotenv's patterns (`\s`, `str.rstrip`) see it: Unicode white
/// space and the separators U+001C to U+001F.
fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// [`is_space`] within a line: not a line feed or carriage return.
fn is_blank(c: char) -> bool {
    is_space(c) && c != '\n' && c != '\r'
}

/// A key as messages show it: escaped, at most 64 characters.
fn shown_key(key: &str) -> String {
    let mut shown: String = key.chars().take(64).flat_map(char::escape_debug).collect();
    if key.chars().nth(64).is_some() {
        shown.push('…');
    }
    shown
}

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

/// An error found while reading one binding: where, and what.
struct Bad {
    line: usize,
    message: Cow<'static, str>,
}

fn bad(line: usize, message: impl Into<Cow<'static, str>>) -> Bad {
    Bad {
        line,
        message: message.into(),
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
    out: Parsed,
    errors: Vec<Notice>,
    /// Lines already reported for a lone carriage return: no second error there.
    cr_lines: Vec<usize>,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    /// Consumes `n` bytes, counting the lines they end.
    fn advance(&mut self, n: usize) {
        let consumed = &self.text[self.pos..self.pos + n];
        self.line += consumed.bytes().filter(|b| *b == b'\n').count();
        self.pos += n;
    }

    /// Consumes the characters `keep` accepts; returns how many bytes.
    fn skip_while(&mut self, keep: impl Fn(char) -> bool) -> usize {
        let n = self.rest().find(|c| !keep(c)).unwrap_or(self.rest().len());
        self.advance(n);
        n
    }

    fn warn(&mut self, line: usize, message: String) {
        self.out.warnings.push(Notice {
            line,
            message: Cow::Owned(message),
        });
    }

    fn run(&mut self, max_entries: usize) {
        loop {
            self.skip_while(is_space);
            if self.rest().is_empty() {
                return;
            }
            let line = self.line;
            match self.binding(line) {
                Ok(None) => {}
                Ok(Some(entry)) => {
                    if self.out.entries.len() == max_entries {
                        self.errors.push(Notice {
                            line,
                            message: Cow::Owned(format!(
                                "more than {max_entries} entries, the most one file may hold"
                            )),
                        });
                        return;
                    }
                    self.out.entries.push(entry);
                }
                Err(e) => {
                    if !self.cr_lines.contains(&e.line) {
                        self.errors.push(Notice {
                            line: e.line,
                            message: e.message,
                        });
                    }
                    // Go on after the rest of the line, as python-dotenv does.
                    self.skip_while(|c| c != '\n' && c != '\r');
                    self.eat_line_end();
                }
            }
        }
    }

    /// Consumes `\r\n`, `\n` or `\r`; false if none is next.
    fn eat_line_end(&mut self) -> bool {
        let n = if self.rest().starts_with("\r\n") {
            2
        } else if self.rest().starts_with(['\n', '\r']) {
            1
        } else {
            return false;
        };
        self.advance(n);
        true
    }

    /// One binding, starting at a non-blank character: an entry, or `None` for a comment
    /// or a key without a value.
    fn binding(&mut self, line: usize) -> Result<Option<Entry>, Bad> {
        let exported = self
            .rest()
            .strip_prefix("export")
            .is_some_and(|after| after.starts_with(is_blank));
        if exported {
            self.advance("export".len());
            self.skip_while(is_blank);
        }
        let key = self.key(line)?;
        self.skip_while(is_blank);
        let value = if self.rest().starts_with('=') {
            self.advance(1);
            self.skip_while(is_blank);
            Some(self.value(line, key.as_deref().unwrap_or_default())?)
        } else {
            None
        };
        self.skip_while(is_blank);
        if self.rest().starts_with('#') {
            self.skip_while(|c| c != '\n' && c != '\r');
        }
        if !self.eat_line_end() && !self.rest().is_empty() {
            // Reported at the line the entry starts on, which names its key.
            let on = if self.line == line {
                String::new()
            } else {
                format!(" on line {}", self.line)
            };
            return Err(bad(
                line,
                match (&key, &value) {
                    (Some(k), Some(_)) => format!(
                        "`{}`: unexpected text after the value's closing quote{on}",
                        shown_key(k)
                    ),
                    (Some(k), None) => {
                        format!("`{}`: expected `=` after the key{on}", shown_key(k))
                    }
                    (None, _) => format!("unexpected text{on}"),
                },
            ));
        }
        let Some(key) = key else {
            return Ok(None);
        };
        let Some(value) = value else {
            let message = if exported {
                format!(
                    "`export {}` has no `=` and sets nothing; skipped",
                    shown_key(&key)
                )
            } else {
                // A bare word may be a stray value: it is not shown.
                "a line with a name but no `=` sets nothing; skipped".to_owned()
            };
            self.warn(line, message);
            return Ok(None);
        };
        Ok(Some(Entry { key, value, line }))
    }

    /// The key, or `None` at a comment.
    fn key(&mut self, line: usize) -> Result<Option<String>, Bad> {
        match self.rest().chars().next() {
            Some('#') => Ok(None),
            Some('\'') => {
                let body = &self.rest()[1..];
                match body.find('\'') {
                    Some(end) if end > 0 => {
                        let key = body[..end].to_owned();
                        self.advance(end + 2);
                        Ok(Some(key))
                    }
                    _ => Err(bad(line, "a single-quoted key is empty or never closed")),
                }
            }
            Some('"') => {
                let key = self.quoted(Quote::Double, line)?;
                Ok(Some(key.as_str().to_owned()))
            }
            _ => {
                let n = self
                    .rest()
                    .find(|c: char| c == '=' || c == '#' || is_space(c))
                    .unwrap_or(self.rest().len());
                if n == 0 {
                    return Err(bad(line, "expected `KEY=VALUE`, found no key before `=`"));
                }
                let key = self.rest()[..n].to_owned();
                self.advance(n);
                Ok(Some(key))
            }
        }
    }

    fn value(&mut self, line: usize, key: &str) -> Result<Secret, Bad> {
        if self.rest().starts_with('\'') {
            let mut value = self.quoted(Quote::Single, line)?;
            return Ok(Secret::new(std::mem::take(&mut *value)));
        }
        if self.rest().starts_with('"') {
            let mut value = self.quoted(Quote::Double, line)?;
            return Ok(Secret::new(std::mem::take(&mut *value)));
        }
        // Unquoted: the rest of the line, up to a `#` after a blank.
        let rest = self.rest();
        let part = &rest[..rest.find(['\n', '\r']).unwrap_or(rest.len())];
        let mut comment = None;
        let mut run_start = None;
        for (i, c) in part.char_indices() {
            if c == '#'
                && let Some(start) = run_start
            {
                comment = Some(start);
                break;
            }
            if is_space(c) {
                run_start.get_or_insert(i);
            } else {
                run_start = None;
            }
        }
        let value = part[..comment.unwrap_or(part.len())].trim_end_matches(is_space);
        let secret = Secret::new(value);
        let consumed = part.len();
        self.advance(consumed);
        if comment.is_some() {
            self.warn(
                line,
                format!(
                    "the unquoted value of `{}` ends before ` #`, which starts a comment; \
                     quote the value if the `#` and what follows belong to it",
                    shown_key(key)
                ),
            );
        }
        Ok(secret)
    }

    /// A quoted string at the current position (its opening quote next), decoded; what
    /// follows is left for the caller.
    fn quoted(&mut self, quote: Quote, line: usize) -> Result<Zeroizing<String>, Bad> {
        let q = quote.char();
        let text: &'a str = self.text;
        let body = &text[self.pos + 1..];
        let bytes = body.as_bytes();
        // As python-dotenv's pattern `'((?:\\'|[^'])*)'` finds it: `\` + quote is part of
        // the string, unless no other quote follows, where the last one closes it.
        let mut i = 0;
        let mut last_escaped_quote = None;
        let close = loop {
            match bytes.get(i) {
                None => {
                    if let Some(at) = last_escaped_quote {
                        break at;
                    }
                    let what = match quote {
                        Quote::Single => "a single-quoted string is never closed",
                        Quote::Double => "a double-quoted string is never closed",
                    };
                    return Err(bad(line, what));
                }
                Some(b'\\') if bytes.get(i + 1) == Some(&(q as u8)) => {
                    last_escaped_quote = Some(i + 1);
                    i += 2;
                }
                Some(&b) if b == q as u8 => break i,
                Some(_) => i += 1,
            }
        };
        // Where a reader that takes every backslash as escaping the next character (dotenvy,
        // shells, earlier versions of this one) ends the string. Where that is elsewhere
        // (a `\\"`, as in `"C:\\dir\\"`), the file means one thing to python-dotenv and
        // another to those: refused rather than read either way.
        let mut j = 0;
        let other_close = loop {
            match bytes.get(j) {
                None => break None,
                Some(b'\\') => j += 2,
                Some(&b) if b == q as u8 => break Some(j),
                Some(_) => j += 1,
            }
        };
        if other_close != Some(close) {
            return Err(bad(
                line,
                "a backslash right before a quote makes it unclear where this quoted string \
                 ends (python-dotenv ends it at another quote than other readers do); write \
                 the value without a backslash right before a quote",
            ));
        }
        let raw = &body[..close];
        // Decoded once into a buffer of the raw size: never reallocated (which would leave
        // copies of the value in freed memory).
        let mut out = Zeroizing::new(String::with_capacity(raw.len()));
        let mut escaped_dollar = false;
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.peek().and_then(|&next| quote.escape(next)) {
                    Some(decoded) => {
                        chars.next();
                        escaped_dollar |= decoded == '$';
                        out.push(decoded);
                    }
                    None => out.push('\\'),
                },
                // A CRLF line end inside the value is a line feed, as for python-dotenv.
                '\r' if chars.peek() == Some(&'\n') => {}
                other => out.push(other),
            }
        }
        if escaped_dollar {
            self.warn(
                self.line,
                "`\\$` in a double-quoted value is read as `$`, as earlier versions of \
                 `zlayer-secret export` meant it (python-dotenv keeps the backslash)"
                    .to_owned(),
            );
        }
        self.advance(1 + close + 1);
        Ok(out)
    }
}

/// Why an entry cannot be written so that every common dotenv reader reads it back
/// unchanged. Says what the key or value holds, never the value itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unwritable {
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

/// Appends `key` and `value` as one entry, newline included, in the form python-dotenv
/// (with or without interpolation), dotenvy and [`parse`] all read back as `value`, or
/// says why there is none (then nothing is appended).
pub(crate) fn write_entry(
    out: &mut Zeroizing<String>,
    key: &str,
    value: &str,
) -> Result<(), Unwritable> {
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
fn python_interpolates(value: &str) -> bool {
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

#[cfg(test)]
mod tests;
