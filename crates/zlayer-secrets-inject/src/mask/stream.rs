//! One masked stream: the filter state between reads.

use std::fmt;

use zeroize::Zeroizing;

use super::escape::{ESC, Sequence, match_allowed, sequence_at};
use super::{CONCEALED, Masker};

/// The state of one masked stream (such as a child's stdout), from [`Masker::stream`].
pub struct MaskStream<'m> {
    pub(super) masker: &'m Masker,
    /// Bytes read but not yet released; may hold the beginning of a secret or of an escape
    /// sequence.
    pub(super) pending: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for MaskStream<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MaskStream")
            .field("held", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl MaskStream<'_> {
    /// Feeds bytes read from the stream; appends to `out` everything that is safe to show.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) {
        if self.masker.patterns.is_empty() {
            out.extend_from_slice(input);
            return;
        }
        self.reserve(input.len());
        self.pending.extend_from_slice(input);
        self.process(false, out);
    }

    /// The stream has ended: releases what was held back (masking whole matches).
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.process(true, out);
    }

    /// Grows `pending` only ahead of time, so extending it never reallocates (and leaves
    /// a copy of a partial secret in freed memory).
    fn reserve(&mut self, more: usize) {
        let need = self.pending.len() + more;
        if need > self.pending.capacity() {
            let mut bigger =
                Zeroizing::new(Vec::with_capacity(need.max(self.masker.max_len + 8192)));
            bigger.extend_from_slice(&self.pending);
            self.pending = bigger;
        }
    }

    fn process(&mut self, at_end: bool, out: &mut Vec<u8>) {
        let masker = self.masker;
        let data = &self.pending[..];
        let mut i = 0;
        let mut plain_from = 0;
        'scan: while i < data.len() {
            if data[i] == ESC {
                match sequence_at(&data[i..], at_end) {
                    Sequence::Complete(len) => {
                        i += len;
                        continue;
                    }
                    Sequence::Undecided => break 'scan,
                    Sequence::Not => {}
                }
            }
            let candidates = &masker.by_first[usize::from(data[i])];
            if candidates.is_empty() {
                i += 1;
                continue;
            }
            let rest = &data[i..];
            if !at_end {
                // A longer secret may still complete here: wait for more bytes.
                for &c in candidates {
                    let p = &masker.patterns[c];
                    if p.len() > rest.len() && p.starts_with(rest) {
                        break 'scan;
                    }
                }
            }
            // Candidates are longest first, so the first allowed full match is the longest.
            let mut matched = None;
            for &c in candidates {
                let len = masker.patterns[c].len();
                if !rest.starts_with(&masker.patterns[c]) {
                    continue;
                }
                match match_allowed(data, i, len, at_end) {
                    Some(true) => {
                        matched = Some(len);
                        break;
                    }
                    Some(false) => {}
                    None => break 'scan,
                }
            }
            if let Some(len) = matched {
                out.extend_from_slice(&data[plain_from..i]);
                out.extend_from_slice(CONCEALED);
                i += len;
                plain_from = i;
            } else {
                i += 1;
            }
        }
        out.extend_from_slice(&data[plain_from..i]);
        // Keep the undecided tail at the front of the buffer, overwriting what was released.
        self.pending.copy_within(i.., 0);
        let keep = self.pending.len() - i;
        self.pending[keep..].iter_mut().for_each(|b| *b = 0);
        self.pending.truncate(keep);
    }

    /// How many bytes are currently held back: fewer than the longest secret, unless an
    /// escape sequence may be starting (then at most that and [`MAX_SEQUENCE`] more).
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.pending.len()
    }
}
