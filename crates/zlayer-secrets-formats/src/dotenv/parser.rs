//! The reader of the dotenv dialect described in [`super`].

use zeroize::Zeroizing;
use zlayer_secrets_core::Secret;

use super::Quote;
use crate::{FormatError, Warning};

/// One `KEY=VALUE` entry read from a dotenv file.
#[derive(Debug)]
pub struct Entry {
    /// The key, unvalidated: callers apply their own rules (secret name or variable name).
    pub key: String,
    /// The value.
    pub value: Secret,
    /// The line the entry starts on, from 1.
    pub line: usize,
}

/// What was read from a dotenv file: its entries and the warnings about it.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The entries, in the order of the file.
    pub entries: Vec<Entry>,
    /// What the file holds that a reader may not expect (a comment cutting an unquoted
    /// value, a line that sets nothing), in the order of the file.
    pub warnings: Vec<Warning>,
}

/// Reads every entry of a dotenv text. On failure, every bad line is reported, in the
/// order of the file; more than `max_entries` entries are an error reported at the first
/// entry too many, where reading stops.
pub fn parse(text: &str, max_entries: usize) -> Result<Parsed, Vec<FormatError>> {
    let (parsed, errors) = parse_all(text, max_entries);
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(errors)
    }
}

/// Reads a dotenv text as [`parse`] does, but returns the entries of the good lines together
/// with the errors of the bad ones (in the order of the file), so that a caller can report
/// its own problems with the good entries (an invalid name, a repeated key) beside them.
pub fn parse_all(text: &str, max_entries: usize) -> (Parsed, Vec<FormatError>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let cr_lines = lone_carriage_returns(text);
    let mut parser = Parser {
        text,
        pos: 0,
        line: 1,
        out: Parsed::default(),
        errors: cr_lines
            .iter()
            .map(|&line| FormatError::LoneCarriageReturn { line })
            .collect(),
        cr_lines,
    };
    parser.run(max_entries);
    parser.errors.sort_by_key(FormatError::line);
    (parser.out, parser.errors)
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

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
    out: Parsed,
    errors: Vec<FormatError>,
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
                        self.errors.push(FormatError::TooManyEntries {
                            line: Some(line),
                            max: max_entries,
                        });
                        return;
                    }
                    self.out.entries.push(entry);
                }
                Err(e) => {
                    if !e.line().is_some_and(|l| self.cr_lines.contains(&l)) {
                        self.errors.push(e);
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
    fn binding(&mut self, line: usize) -> Result<Option<Entry>, FormatError> {
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
            let at = self.line;
            return Err(match (key, value) {
                (Some(key), Some(_)) => FormatError::TextAfterValue { line, key, at },
                (Some(key), None) => FormatError::MissingEquals { line, key, at },
                (None, _) => FormatError::UnexpectedText { line, at },
            });
        }
        let Some(key) = key else {
            return Ok(None);
        };
        let Some(value) = value else {
            self.out.warnings.push(if exported {
                Warning::ExportWithoutValue { line, key }
            } else {
                // A bare word may be a stray value: it is not kept.
                Warning::NameWithoutValue { line }
            });
            return Ok(None);
        };
        Ok(Some(Entry { key, value, line }))
    }

    /// The key, or `None` at a comment.
    fn key(&mut self, line: usize) -> Result<Option<String>, FormatError> {
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
                    _ => Err(FormatError::BadQuotedKey { line }),
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
                    return Err(FormatError::MissingKey { line });
                }
                let key = self.rest()[..n].to_owned();
                self.advance(n);
                Ok(Some(key))
            }
        }
    }

    fn value(&mut self, line: usize, key: &str) -> Result<Secret, FormatError> {
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
            self.out.warnings.push(Warning::CommentCutsValue {
                line,
                key: key.to_owned(),
            });
        }
        Ok(secret)
    }

    /// A quoted string at the current position (its opening quote next), decoded; what
    /// follows is left for the caller.
    fn quoted(&mut self, quote: Quote, line: usize) -> Result<Zeroizing<String>, FormatError> {
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
                    return Err(match quote {
                        Quote::Single => FormatError::UnclosedSingleQuote { line },
                        Quote::Double => FormatError::UnclosedDoubleQuote { line },
                    });
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
            return Err(FormatError::AmbiguousQuote { line });
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
            self.out
                .warnings
                .push(Warning::EscapedDollar { line: self.line });
        }
        self.advance(1 + close + 1);
        Ok(out)
    }
}
