//! [`Template`]: text with secret references in `{{ }}` placeholders.
//!
//! A placeholder is `{{`, a reference (`$S:...` or `$secret://...`), and `}}`, with spaces
//! or tabs allowed around the reference: `{{ $S:pw }}`, `{{$secret://prod/KEY}}`. Everything
//! else is text and comes out unchanged:
//!
//! - `\{{` is a literal `{{` (the backslash is dropped): `\{{ $S:pw }}` renders as
//!   `{{ $S:pw }}`. No other backslash means anything.
//! - `{{ ... }}` whose content does not start like a reference is text, so that other
//!   template languages' placeholders (`{{ .Values.x }}`) pass through untouched.
//! - A `{{` without a `}}` after it is text.
//!
//! A placeholder whose content starts like a reference but is malformed is an error, never
//! passed through. Text that mentions `$S:` or `$secret://` outside any placeholder stays as
//! it is; [`Template::stray_reference`] tells, for callers to warn about it (the resolver
//! logs it; `zlayer-secret` prints a warning naming the variable, never the value).

use std::fmt;

use zlayer_secrets_ref::ParseError;

use crate::SecretRef;

/// Text with `{{ reference }}` placeholders, parsed.
///
/// A placeholder is `{{`, a reference (`$S:...` or `$secret://...`), and `}}`, with spaces
/// or tabs allowed around the reference: `{{ $S:pw }}`, `{{$secret://prod/KEY}}`. Everything
/// else is text and comes out unchanged: `\{{` is a literal `{{` (the backslash is dropped;
/// no other backslash means anything); `{{ ... }}` whose content does not start like a
/// reference is text (other template languages' placeholders pass through); a `{{` without
/// a `}}` after it is text. A placeholder whose content starts like a reference but is
/// malformed is an error ([`TemplateError`]). [`stray_reference`](Self::stray_reference)
/// tells whether the text mentions a reference outside any placeholder.
///
/// ```
/// use zlayer_secrets_core::{SecretRef, Template};
///
/// let t = Template::parse(r"postgres://app:{{ $S:pw }}@db/app \{{ kept }}")?;
/// assert_eq!(t.references().collect::<Vec<_>>(), [&SecretRef::new("pw")]);
/// let out = t.render(|_| "s3cr3t");
/// assert_eq!(out.as_str(), "postgres://app:s3cr3t@db/app {{ kept }}");
/// # Ok::<(), zlayer_secrets_core::TemplateError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Template<'a> {
    pieces: Vec<Piece<'a>>,
}

#[derive(Clone, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Reference(SecretRef),
}

/// A placeholder of a [`Template`] holds a malformed reference.
///
/// It says where (line and column, counted from 1, the column in characters) and why; it
/// never repeats the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateError {
    line: usize,
    column: usize,
    error: ParseError,
}

impl TemplateError {
    /// The line of the malformed reference, from 1.
    #[must_use]
    pub fn line(&self) -> usize {
        self.line
    }

    /// The column (in characters, from 1) at which the problem was found.
    #[must_use]
    pub fn column(&self) -> usize {
        self.column
    }

    /// Why the reference was refused (its offset is within the reference).
    #[must_use]
    pub fn parse_error(&self) -> ParseError {
        self.error
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "placeholder at line {}, column {}: {}",
            self.line, self.column, self.error
        )
    }
}

impl std::error::Error for TemplateError {}

const OPEN: &str = "{{";
const CLOSE: &str = "}}";

impl<'a> Template<'a> {
    /// Parses `text`; fails on the first placeholder holding a malformed reference.
    pub fn parse(text: &'a str) -> Result<Self, TemplateError> {
        let mut pieces = Vec::new();
        // `text[start..]` is not yet in `pieces`; the search for `{{` resumes at `at`.
        let mut start = 0;
        let mut at = 0;
        while let Some(found) = text[at..].find(OPEN) {
            let open = at + found;
            if text[..open].ends_with('\\') {
                // `\{{`: the text up to the backslash, then `{{` as text.
                push_text(&mut pieces, &text[start..open - 1]);
                start = open;
                at = open + OPEN.len();
                continue;
            }
            let inner_start = open + OPEN.len();
            let Some(close) = text[inner_start..].find(CLOSE).map(|c| inner_start + c) else {
                break;
            };
            let inner = &text[inner_start..close];
            if let Some(nested) = inner.find(OPEN) {
                // `{{ a {{ $S:x }}`: the first `{{` is text; try again from the second.
                at = inner_start + nested;
                continue;
            }
            let trimmed = inner.trim_start_matches([' ', '\t']);
            let lead = inner.len() - trimmed.len();
            let trimmed = trimmed.trim_end_matches([' ', '\t']);
            if !SecretRef::looks_like_reference(trimmed) {
                at = close + CLOSE.len();
                continue;
            }
            let reference = SecretRef::try_parse(trimmed).map_err(|error| {
                let (line, column) = position(text, inner_start + lead + error.offset());
                TemplateError {
                    line,
                    column,
                    error,
                }
            })?;
            push_text(&mut pieces, &text[start..open]);
            let end = close + CLOSE.len();
            pieces.push(Piece::Reference(reference));
            start = end;
            at = end;
        }
        push_text(&mut pieces, &text[start..]);
        Ok(Self { pieces })
    }

    /// The references of the placeholders, in order (a reference used twice comes twice).
    pub fn references(&self) -> impl Iterator<Item = &SecretRef> {
        self.pieces.iter().filter_map(|piece| match piece {
            Piece::Reference(reference) => Some(reference),
            Piece::Text(_) => None,
        })
    }

    /// Whether any placeholder holds a reference.
    #[must_use]
    pub fn has_references(&self) -> bool {
        self.references().next().is_some()
    }

    /// Whether the text outside the placeholders mentions `$S:` or `$secret://`: most
    /// likely a reference meant to be replaced that is not, because it is neither the whole
    /// value nor inside `{{ }}`. A reference between an escaped `\{{` and its `}}` is
    /// meant to stay and does not count.
    #[must_use]
    pub fn stray_reference(&self) -> bool {
        self.pieces.iter().any(|piece| match piece {
            Piece::Text(text) => has_stray(text),
            Piece::Reference(_) => false,
        })
    }

    /// The text with each placeholder replaced by `value(reference)`, in a buffer that is
    /// wiped when dropped.
    pub fn render<'v>(
        &self,
        mut value: impl FnMut(&SecretRef) -> &'v str,
    ) -> zeroize::Zeroizing<String> {
        let mut out = zeroize::Zeroizing::new(String::new());
        let mut pieces = Vec::with_capacity(self.pieces.len());
        for piece in &self.pieces {
            pieces.push(match piece {
                Piece::Text(text) => *text,
                Piece::Reference(reference) => value(reference),
            });
        }
        // One allocation of the final size: growing would leave copies of values behind.
        out.reserve_exact(pieces.iter().map(|p| p.len()).sum());
        for piece in pieces {
            out.push_str(piece);
        }
        out
    }

    /// Like [`render`](Self::render), with a value lookup that can fail: the first error
    /// is returned and nothing rendered is kept.
    pub fn try_render<'v, E>(
        &self,
        mut value: impl FnMut(&SecretRef) -> Result<&'v str, E>,
    ) -> Result<zeroize::Zeroizing<String>, E> {
        let mut values = Vec::new();
        for reference in self.references() {
            values.push(value(reference)?);
        }
        let mut values = values.into_iter();
        Ok(self.render(|_| values.next().unwrap_or_default()))
    }
}

impl fmt::Debug for Template<'_> {
    /// The references and the size of the text; never the text, which may be a rendered
    /// configuration file.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text: usize = self
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.len(),
                Piece::Reference(_) => 0,
            })
            .sum();
        f.debug_struct("Template")
            .field("references", &self.references().collect::<Vec<_>>())
            .field("text_bytes", &text)
            .finish()
    }
}

/// Whether `text` mentions a reference outside any `{{ ... }}` it holds (text only holds
/// such a span after an escape, or when its content is no reference).
fn has_stray(text: &str) -> bool {
    [SecretRef::PREFIX, SecretRef::URL_PREFIX]
        .iter()
        .any(|prefix| {
            text.match_indices(prefix).any(|(at, _)| {
                let before = &text[..at];
                let opened = before.rfind(OPEN);
                let enclosed = opened.is_some_and(|open| {
                    before.rfind(CLOSE).is_none_or(|close| close < open)
                        && text[at..].contains(CLOSE)
                });
                !enclosed
            })
        })
}

fn push_text<'a>(pieces: &mut Vec<Piece<'a>>, text: &'a str) {
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
}

/// Line and column (from 1; the column in characters) of byte `offset` of `text`.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests;
