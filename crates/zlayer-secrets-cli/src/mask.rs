//! Output masking for `run`: replaces every resolved secret value in a byte stream with
//! [`CONCEALED`], also when a value arrives split across several reads.
//!
//! The stream keeps back only the bytes that could still be the start of a secret (at most
//! the longest secret's length minus one) and passes everything else through at once, so
//! interactive output is not held up by line buffering or timers. What is held back is
//! released when the next byte rules the secret out, or at the end of the stream.
//!
//! Where two secrets could match at the same place, the longer one wins: the stream waits
//! for enough bytes to decide, so a short secret that is the prefix of a longer one never
//! lets the longer one's tail through.

use zeroize::Zeroizing;

/// What a masked secret is replaced with.
pub(crate) const CONCEALED: &[u8] = b"<concealed>";

/// The set of values to conceal.
pub(crate) struct Masker {
    /// Distinct non-empty values, longest first.
    patterns: Vec<Zeroizing<Vec<u8>>>,
    /// For each first byte, the indices (into `patterns`) of the values that start with it.
    by_first: Vec<Vec<usize>>,
    /// Length of the longest value.
    max_len: usize,
}

impl Masker {
    /// A masker for these values; empty values are ignored.
    pub(crate) fn new<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut patterns: Vec<Zeroizing<Vec<u8>>> = values
            .into_iter()
            .filter(|v| !v.is_empty())
            .map(|v| Zeroizing::new(v.as_bytes().to_vec()))
            .collect();
        patterns.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a[..].cmp(&b[..])));
        patterns.dedup_by(|a, b| a[..] == b[..]);
        let mut by_first = vec![Vec::new(); 256];
        for (i, p) in patterns.iter().enumerate() {
            by_first[usize::from(p[0])].push(i);
        }
        let max_len = patterns.first().map_or(0, |p| p.len());
        Self {
            patterns,
            by_first,
            max_len,
        }
    }

    /// The longest value's length in bytes.
    #[cfg(test)]
    fn max_len(&self) -> usize {
        self.max_len
    }

    /// A new stream filter over this set.
    pub(crate) fn stream(&self) -> MaskStream<'_> {
        MaskStream {
            masker: self,
            pending: Zeroizing::new(Vec::new()),
        }
    }
}

/// The state of one masked stream (stdout or stderr of the child).
pub(crate) struct MaskStream<'m> {
    masker: &'m Masker,
    /// Bytes read but not yet released; may hold the beginning of a secret.
    pending: Zeroizing<Vec<u8>>,
}

impl MaskStream<'_> {
    /// Feeds bytes read from the child; appends to `out` everything that is safe to show.
    pub(crate) fn push(&mut self, input: &[u8], out: &mut Vec<u8>) {
        self.reserve(input.len());
        self.pending.extend_from_slice(input);
        self.process(false, out);
    }

    /// The stream has ended: releases what was held back (masking whole matches).
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
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
            // Candidates are longest first, so the first full match is the longest.
            if let Some(&c) = candidates
                .iter()
                .find(|&&c| rest.starts_with(&masker.patterns[c]))
            {
                out.extend_from_slice(&data[plain_from..i]);
                out.extend_from_slice(CONCEALED);
                i += masker.patterns[c].len();
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

    /// How many bytes are currently held back (never more than the longest secret minus one).
    #[cfg(test)]
    fn held(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn mask_chunks(secrets: &[&str], chunks: &[&[u8]]) -> Vec<u8> {
        let masker = Masker::new(secrets.iter().copied());
        let mut stream = masker.stream();
        let mut out = Vec::new();
        for chunk in chunks {
            stream.push(chunk, &mut out);
            assert!(stream.held() < masker.max_len().max(1));
        }
        stream.finish(&mut out);
        out
    }

    #[test]
    fn masks_whole_and_split_values() {
        assert_eq!(
            mask_chunks(&["abcdef"], &[b"x abcdef y"]),
            b"x <concealed> y"
        );
        assert_eq!(
            mask_chunks(&["abcdef"], &[b"x abc", b"def y"]),
            b"x <concealed> y"
        );
        assert_eq!(
            mask_chunks(&["abcdef"], &[b"a", b"b", b"c", b"d", b"e", b"f"]),
            b"<concealed>"
        );
        assert_eq!(mask_chunks(&["abcdef"], &[b"abcde"]), b"abcde");
        assert_eq!(mask_chunks(&["abcdef"], &[b"abcabcdef"]), b"abc<concealed>");
        assert_eq!(mask_chunks(&[""], &[b"text"]), b"text");
    }

    #[test]
    fn the_longer_secret_wins() {
        assert_eq!(
            mask_chunks(&["abc", "abcdef"], &[b"abc", b"def"]),
            b"<concealed>"
        );
        assert_eq!(
            mask_chunks(&["abc", "abcdef"], &[b"abc", b"de!"]),
            b"<concealed>de!"
        );
        assert_eq!(mask_chunks(&["abc", "abcdef"], &[b"abcd"]), b"<concealed>d");
    }

    #[test]
    fn releases_what_cannot_be_a_secret_at_once() {
        let masker = Masker::new(["password123"]);
        let mut stream = masker.stream();
        let mut out = Vec::new();
        stream.push(b"Enter value: ", &mut out);
        assert_eq!(out, b"Enter value: ");
        stream.push(b"pass", &mut out);
        assert_eq!(out, b"Enter value: ");
        stream.push(b"ive\n", &mut out);
        assert_eq!(out, b"Enter value: passive\n");
    }

    proptest! {
        /// However the output is cut into reads, no secret gets through and everything else
        /// does, in order.
        #[test]
        fn chunking_does_not_matter(
            secrets in prop::collection::vec("[ab]{1,6}", 1..4),
            text in "[abc]{0,60}",
            cuts in prop::collection::vec(0usize..61, 0..8),
        ) {
            let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
            let whole = mask_chunks(&refs, &[text.as_bytes()]);
            let mut cuts: Vec<usize> = cuts.into_iter().filter(|&c| c <= text.len()).collect();
            cuts.sort_unstable();
            let mut chunks = Vec::new();
            let mut last = 0;
            for c in cuts {
                chunks.push(&text.as_bytes()[last..c]);
                last = c;
            }
            chunks.push(&text.as_bytes()[last..]);
            prop_assert_eq!(&mask_chunks(&refs, &chunks), &whole);
            let shown = String::from_utf8(whole).unwrap().replace("<concealed>", "|");
            for s in &secrets {
                prop_assert!(!shown.contains(s.as_str()), "{} in {}", s, shown);
            }
        }
    }
}
