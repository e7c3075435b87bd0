//! What each part of a reference (name, service, project, environment, field) may hold.

use crate::error::{ParseErrorKind, Part};

/// Longest part of a reference accepted, in bytes (UTF-8). The same limit as a secret name.
pub const MAX_PART_LEN: usize = 256;

/// Whether `c` may appear inside a part of a reference.
///
/// Refused are:
/// - the characters the grammar gives a meaning to: `$`, `/`, `:` and `@`;
/// - whitespace of any kind ([`char::is_whitespace`]: spaces, tabs, newlines, no-break and
///   ideographic spaces, ...);
/// - control characters ([`char::is_control`], including NUL and DEL);
/// - invisible characters that would make two different references look the same: the
///   Unicode default-ignorable code points (soft hyphen, zero-width spaces and joiners,
///   bidirectional controls, word joiners, variation selectors, the byte-order mark, tag
///   characters, ...) and the interlinear annotation controls.
///
/// Everything else is allowed, including non-ASCII letters and ASCII punctuation such as
/// `.`, `-`, `_`, `+`, `%`, `#` or `=`.
#[must_use]
pub fn is_allowed_char(c: char) -> bool {
    !(is_structural(c) || c.is_whitespace() || c.is_control() || is_invisible(c))
}

/// The characters the grammar gives a meaning to.
pub(crate) fn is_structural(c: char) -> bool {
    matches!(c, '$' | '/' | ':' | '@')
}

/// The characters that end a part: the separators of the grammar.
pub(crate) fn is_separator(c: char) -> bool {
    matches!(c, '/' | ':')
}

/// Unicode default-ignorable code points plus the interlinear annotation controls: they
/// render as nothing (or change how neighbouring text renders), so a reference holding one
/// cannot be told apart from one without it.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFB}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// How a character refused by [`is_allowed_char`] is described in an error message.
pub(crate) fn char_class(c: char) -> &'static str {
    if is_structural(c) {
        "reserved character"
    } else if c.is_whitespace() {
        "whitespace"
    } else if c.is_control() {
        "control character"
    } else {
        "invisible character"
    }
}

/// Checks one part against the rules, returning the byte offset inside `run` of the problem.
pub(crate) fn check(run: &str, part: Part) -> Result<(), (usize, ParseErrorKind)> {
    if run.is_empty() {
        return Err((0, ParseErrorKind::Empty(part)));
    }
    if let Some((at, ch)) = run.char_indices().find(|&(_, c)| !is_allowed_char(c)) {
        return Err((at, ParseErrorKind::ForbiddenChar { part, ch }));
    }
    if run == "." || run == ".." {
        return Err((0, ParseErrorKind::DotPart(part)));
    }
    if run.len() > MAX_PART_LEN {
        return Err((
            0,
            ParseErrorKind::TooLong {
                part,
                len: run.len(),
            },
        ));
    }
    Ok(())
}
