//! The terminal escape sequences that pass through the filter whole (see [`super`]).

use super::MAX_SEQUENCE;

pub(super) const ESC: u8 = 0x1b;
const BEL: u8 = 0x07;

/// What starts at an `ESC`.
pub(super) enum Sequence {
    /// A whole escape sequence of this many bytes.
    Complete(usize),
    /// Perhaps the start of one: more bytes decide.
    Undecided,
    /// Not an escape sequence: the `ESC` is text.
    Not,
}

/// What starts at `data[0]` (an `ESC`); `at_end` when no more bytes will come.
pub(super) fn sequence_at(data: &[u8], at_end: bool) -> Sequence {
    let undecided = || {
        if at_end || data.len() >= MAX_SEQUENCE {
            Sequence::Not
        } else {
            Sequence::Undecided
        }
    };
    let body = data.iter().enumerate().take(MAX_SEQUENCE).skip(2);
    match data.get(1) {
        None => undecided(),
        Some(b'[') => {
            for (n, &b) in body {
                match b {
                    0x20..=0x3f => {}
                    0x40..=0x7e => return Sequence::Complete(n + 1),
                    _ => return Sequence::Not,
                }
            }
            undecided()
        }
        Some(b']') => {
            for (n, &b) in body {
                match b {
                    BEL => return Sequence::Complete(n + 1),
                    ESC => {
                        return match data.get(n + 1) {
                            Some(b'\\') => Sequence::Complete(n + 2),
                            Some(_) => Sequence::Not,
                            None => undecided(),
                        };
                    }
                    b if b < 0x20 || b == 0x7f => return Sequence::Not,
                    _ => {}
                }
            }
            undecided()
        }
        Some(_) => Sequence::Not,
    }
}

/// Whether a match of `len` bytes at `data[at..]` is allowed: it may not cover the start of
/// an escape sequence. `None`: more bytes decide.
pub(super) fn match_allowed(data: &[u8], at: usize, len: usize, at_end: bool) -> Option<bool> {
    for k in at + 1..at + len {
        if data[k] == ESC {
            match sequence_at(&data[k..], at_end) {
                Sequence::Complete(_) => return Some(false),
                Sequence::Undecided => return None,
                Sequence::Not => {}
            }
        }
    }
    Some(true)
}
