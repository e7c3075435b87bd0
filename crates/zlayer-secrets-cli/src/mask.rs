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
//!
//! Two kinds of bytes are never replaced:
//! - values shorter than [`MIN_MASKED_CHARS`] characters are not masked at all: replacing
//!   every `ab` of the output would garble it and show where the value occurs;
//! - terminal escape sequences pass through whole: CSI (`ESC [`, parameter and
//!   intermediate bytes 0x20–0x3F, a final byte 0x40–0x7E) and OSC (`ESC ]`, text without
//!   control characters, ended by BEL or `ESC \`). A sequence is recognised only once it
//!   is complete (bytes that may become one are held back like the start of a secret);
//!   one that breaks the grammar, grows past [`MAX_SEQUENCE`] bytes or is cut off by the
//!   end of the stream is ordinary text and is masked as such. A value interrupted by a
//!   sequence (`abc ESC[1m def`) is two pieces of text and is not masked.

use zeroize::Zeroizing;

/// What a masked secret is replaced with.
pub(crate) const CONCEALED: &[u8] = b"<concealed>";

/// Values with fewer characters than this are not masked.
pub(crate) const MIN_MASKED_CHARS: usize = 4;

/// The longest escape sequence passed through whole, in bytes; a longer one is text.
pub(crate) const MAX_SEQUENCE: usize = 8192;

const ESC: u8 = 0x1b;
const BEL: u8 = 0x07;

/// The set of values to conceal.
pub(crate) struct Masker {
    /// Distinct values of at least [`MIN_MASKED_CHARS`] characters, longest first.
    patterns: Vec<Zeroizing<Vec<u8>>>,
    /// For each first byte, the indices (into `patterns`) of the values that start with it.
    by_first: Vec<Vec<usize>>,
    /// Length of the longest value.
    max_len: usize,
}

impl Masker {
    /// A masker for these values; empty values and those that are
    /// [too short](Self::too_short_to_mask) are ignored.
    pub(crate) fn new<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut patterns: Vec<Zeroizing<Vec<u8>>> = values
            .into_iter()
            .filter(|v| !v.is_empty() && !Self::too_short_to_mask(v))
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

    /// Whether a value is left unmasked for being shorter than [`MIN_MASKED_CHARS`]
    /// characters (the empty value cannot show and does not count).
    pub(crate) fn too_short_to_mask(value: &str) -> bool {
        !value.is_empty() && value.chars().nth(MIN_MASKED_CHARS - 1).is_none()
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

/// What starts at an `ESC`.
enum Sequence {
    /// A whole escape sequence of this many bytes.
    Complete(usize),
    /// Perhaps the start of one: more bytes decide.
    Undecided,
    /// Not an escape sequence: the `ESC` is text.
    Not,
}

/// What starts at `data[0]` (an `ESC`); `at_end` when no more bytes will come.
fn sequence_at(data: &[u8], at_end: bool) -> Sequence {
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

/// The state of one masked stream (stdout or stderr of the child).
pub(crate) struct MaskStream<'m> {
    masker: &'m Masker,
    /// Bytes read but not yet released; may hold the beginning of a secret or of an escape
    /// sequence.
    pending: Zeroizing<Vec<u8>>,
}

/// Whether a match of `len` bytes at `data[at..]` is allowed: it may not cover the start of
/// an escape sequence. `None`: more bytes decide.
fn match_allowed(data: &[u8], at: usize, len: usize, at_end: bool) -> Option<bool> {
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

impl MaskStream<'_> {
    /// Feeds bytes read from the child; appends to `out` everything that is safe to show.
    pub(crate) fn push(&mut self, input: &[u8], out: &mut Vec<u8>) {
        if self.masker.patterns.is_empty() {
            out.extend_from_slice(input);
            return;
        }
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
        let escapes = chunks.iter().any(|c| c.contains(&ESC));
        for chunk in chunks {
            stream.push(chunk, &mut out);
            if escapes {
                assert!(stream.held() <= masker.max_len() + MAX_SEQUENCE);
            } else {
                assert!(stream.held() < masker.max_len().max(1));
            }
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
            mask_chunks(&["abcd", "abcdefgh"], &[b"abcd", b"efgh"]),
            b"<concealed>"
        );
        assert_eq!(
            mask_chunks(&["abcd", "abcdefgh"], &[b"abcd", b"efg!"]),
            b"<concealed>efg!"
        );
        assert_eq!(
            mask_chunks(&["abcd", "abcdefgh"], &[b"abcde"]),
            b"<concealed>e"
        );
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

    #[test]
    fn values_shorter_than_four_characters_are_not_masked() {
        // Masking `ab` would mangle every `ab` of the output and show where it occurs.
        assert_eq!(
            mask_chunks(&["ab", "x"], &[b"cab taxi abc"]),
            b"cab taxi abc"
        );
        assert_eq!(mask_chunks(&["abc"], &[b"abcd"]), b"abcd");
        // Four characters are masked, also when they take more bytes.
        assert_eq!(mask_chunks(&["abcd"], &[b"xabcdx"]), b"x<concealed>x");
        assert_eq!(
            mask_chunks(&["\u{e9}t\u{e9}"], &["\u{e9}t\u{e9}".as_bytes()]),
            "\u{e9}t\u{e9}".as_bytes()
        );
        assert_eq!(
            mask_chunks(&["\u{e9}t\u{e9}s"], &["\u{e9}t\u{e9}s".as_bytes()]),
            b"<concealed>"
        );
        assert!(Masker::too_short_to_mask("abc"));
        assert!(!Masker::too_short_to_mask(""));
        assert!(!Masker::too_short_to_mask("abcd"));
    }

    #[test]
    fn escape_sequences_are_never_masked_inside() {
        let secrets = ["31;1", "0;title", "example.com/x"];
        for (input, want) in [
            // CSI: parameters, intermediates, a final byte.
            (&b"\x1b[31;1mred\x1b[0m"[..], &b"\x1b[31;1mred\x1b[0m"[..]),
            (b"\x1b[?25h31;1", b"\x1b[?25h<concealed>"),
            // OSC, ended by BEL or by ESC \.
            (b"\x1b]0;title\x07", b"\x1b]0;title\x07"),
            (
                b"\x1b]8;;https://example.com/x\x1b\\link\x1b]8;;\x1b\\ example.com/x",
                b"\x1b]8;;https://example.com/x\x1b\\link\x1b]8;;\x1b\\ <concealed>",
            ),
            // Not a sequence (a byte CSI cannot hold, an OSC never ended): plain text, masked.
            (b"\x1b[31;1\n", b"\x1b[<concealed>\n"),
            (b"\x1b]0;title", b"\x1b]<concealed>"),
            (b"\x1b]0;title\n\x07", b"\x1b]<concealed>\n\x07"),
            (b"\x1bx0;title", b"\x1bx<concealed>"),
        ] {
            assert_eq!(
                String::from_utf8_lossy(&mask_chunks(&secrets, &[input])),
                String::from_utf8_lossy(want),
                "{}",
                String::from_utf8_lossy(input).escape_debug()
            );
            // The same, one byte per read.
            let bytes: Vec<&[u8]> = input.chunks(1).collect();
            assert_eq!(mask_chunks(&secrets, &bytes), want);
        }
        // A secret around a sequence is text on both sides: the sequence interrupts it.
        assert_eq!(
            mask_chunks(&["abcdef"], &[b"abc\x1b[1mdef abcdef"]),
            b"abc\x1b[1mdef <concealed>"
        );
    }

    /// The well-formed escape sequences of `bytes` and the text between them, by the same
    /// grammar as the filter but written independently of it.
    fn split_sequences(bytes: &[u8]) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let (mut sequences, mut texts, mut text) = (Vec::new(), Vec::new(), Vec::new());
        let mut i = 0;
        while i < bytes.len() {
            let len = match bytes[i..] {
                [0x1b, b'[', ..] => bytes[i + 2..]
                    .iter()
                    .position(|b| !(0x20..=0x3f).contains(b))
                    .filter(|&n| (0x40..=0x7e).contains(&bytes[i + 2 + n]))
                    .map(|n| n + 3),
                [0x1b, b']', ..] => {
                    let body = &bytes[i + 2..];
                    let end = body
                        .iter()
                        .position(|b| *b < 0x20 || *b == 0x7f)
                        .filter(|&n| body[n] == 0x07 || body[n..].starts_with(b"\x1b\\"));
                    end.map(|n| n + 2 + if body[n] == 0x07 { 1 } else { 2 })
                }
                _ => None,
            };
            if let Some(len) = len {
                texts.push(std::mem::take(&mut text));
                sequences.push(bytes[i..i + len].to_vec());
                i += len;
            } else {
                text.push(bytes[i]);
                i += 1;
            }
        }
        texts.push(text);
        (sequences, texts)
    }

    /// Pieces of generated output: text, secrets' letters, and escape sequences, whole,
    /// broken and unterminated.
    fn piece() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "a",
            "b",
            "c",
            "ab",
            " ",
            "\n",
            "\x1b[31m",
            "\x1b[0m",
            "\x1b[1;2H",
            "\x1b[?25l",
            "\x1b]0;ab\x07",
            "\x1b]8;;abab\x1b\\",
            "\x1b]8;;\x1b\\",
            "\x1b[",
            "\x1b]",
            "\x1b",
            "[",
            "]",
            "\x07",
            "\\",
            "m",
            ";",
            "1",
        ])
    }

    /// Secrets: random ones, and ones that also occur inside the sequences of [`piece`].
    fn secret() -> impl Strategy<Value = String> {
        prop_oneof![
            "[ab;1\\[m]{4,7}",
            prop::sample::select(vec![
                "abab", "8;;a", "0;ab", "[31m", "1;2H", "?25l", "ab\\a"
            ])
            .prop_map(str::to_owned),
        ]
    }

    proptest! {
        /// However the output is cut into reads, no secret gets through outside an escape
        /// sequence, every well-formed sequence gets through untouched, and everything
        /// else does too, in order.
        #[test]
        fn chunking_does_not_matter(
            secrets in prop::collection::vec(secret(), 1..4),
            pieces in prop::collection::vec(piece(), 0..40),
            cuts in prop::collection::vec(0usize..200, 0..8),
        ) {
            let text = pieces.concat();
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

            let (sequences_in, _) = split_sequences(text.as_bytes());
            let (sequences_out, texts) = split_sequences(&whole);
            prop_assert_eq!(sequences_in, sequences_out);
            for t in texts {
                let shown = String::from_utf8(t).unwrap().replace("<concealed>", "|");
                for s in &secrets {
                    prop_assert!(!shown.contains(s.as_str()), "{} in {:?}", s, shown);
                }
            }
        }
    }
}
