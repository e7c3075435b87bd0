//! Output masking: for arbitrary secret values and arbitrary output cut into arbitrary writes, no masked value (one not too short to mask) shows in the text outside escape sequences, the output does not depend on how it was cut into writes, and output holding no masked value passes unchanged.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use zlayer_secrets_inject::{CONCEALED, Masker};

/// Terminal escape sequences, whole and broken, for the output to hold.
const SEQUENCES: [&[u8]; 8] = [
    b"\x1b[31m",
    b"\x1b[0m",
    b"\x1b[?25l",
    b"\x1b]0;title\x07",
    b"\x1b]8;;https://example.com\x1b\\",
    b"\x1b[",
    b"\x1b]",
    b"\x1b",
];

#[derive(Debug, Arbitrary)]
enum Piece {
    /// Any bytes.
    Bytes(Vec<u8>),
    /// One of the secrets (by index), as it is.
    Secret(u8),
    /// The start of one of the secrets (by index), cut at some byte.
    SecretStart(u8, u8),
    /// One of [`SEQUENCES`].
    Sequence(u8),
}

#[derive(Debug, Arbitrary)]
struct Input {
    secrets: Vec<String>,
    pieces: Vec<Piece>,
    /// Where the output is cut into writes (positions modulo its length).
    cuts: Vec<u16>,
}

/// The output of `chunks` written one after the other through a stream of `masker`.
fn masked(masker: &Masker, chunks: &[&[u8]]) -> Vec<u8> {
    let mut stream = masker.stream();
    let mut out = Vec::new();
    for chunk in chunks {
        stream.push(chunk, &mut out);
    }
    stream.finish(&mut out);
    out
}

/// How many bytes of well-formed escape sequence start at `bytes[0]`, by the grammar of the
/// masker's docs, written again here: `ESC [`, bytes 0x20–0x3F, a final byte 0x40–0x7E; or
/// `ESC ]`, bytes without control characters, then BEL or `ESC \`. (Without the masker's
/// length limit: a longer sequence it reads as text is left unchecked here.)
fn sequence_len(bytes: &[u8]) -> Option<usize> {
    let [0x1b, kind @ (b'[' | b']'), body @ ..] = bytes else {
        return None;
    };
    for (n, &byte) in body.iter().enumerate() {
        let whole = n + 3;
        match (kind, byte) {
            (b'[', 0x20..=0x3f) => {}
            (b'[', 0x40..=0x7e) | (b']', 0x07) => return Some(whole),
            (b']', 0x1b) => return (body.get(n + 1) == Some(&b'\\')).then_some(whole + 1),
            (b']', b) if b >= 0x20 && b != 0x7f => {}
            _ => return None,
        }
    }
    None
}

/// The runs of text of `bytes` between its escape sequences.
fn texts(bytes: &[u8]) -> Vec<&[u8]> {
    let mut runs = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        match sequence_len(&bytes[i..]) {
            Some(n) => {
                runs.push(&bytes[start..i]);
                i += n;
                start = i;
            }
            None => i += 1,
        }
    }
    runs.push(&bytes[start..]);
    runs
}

/// The pieces of `bytes` between its `<concealed>` marks.
fn between_marks(bytes: &[u8]) -> Vec<&[u8]> {
    let mut pieces = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        if bytes[i..].starts_with(CONCEALED) {
            pieces.push(&bytes[start..i]);
            i += CONCEALED.len();
            start = i;
        } else {
            i += 1;
        }
    }
    pieces.push(&bytes[start..]);
    pieces
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fuzz_target!(|input: Input| {
    let Input {
        secrets,
        pieces,
        cuts,
    } = input;
    if secrets.is_empty() || secrets.len() > 16 {
        return;
    }
    let mut output = Vec::new();
    for piece in &pieces {
        match piece {
            Piece::Bytes(bytes) => output.extend_from_slice(bytes),
            Piece::Secret(i) => {
                output.extend_from_slice(secrets[usize::from(*i) % secrets.len()].as_bytes());
            }
            Piece::SecretStart(i, cut) => {
                let secret = secrets[usize::from(*i) % secrets.len()].as_bytes();
                output.extend_from_slice(&secret[..usize::from(*cut).min(secret.len())]);
            }
            Piece::Sequence(i) => {
                output.extend_from_slice(SEQUENCES[usize::from(*i) % SEQUENCES.len()]);
            }
        }
    }
    let masker = Masker::new(secrets.iter().map(String::as_str));
    let whole = masked(&masker, &[&output]);

    // However the output is cut into writes, the same comes out.
    let mut cuts: Vec<usize> = cuts
        .iter()
        .map(|&c| usize::from(c) % (output.len() + 1))
        .collect();
    cuts.sort_unstable();
    let mut chunks = Vec::new();
    let mut last = 0;
    for cut in cuts {
        chunks.push(&output[last..cut]);
        last = cut;
    }
    chunks.push(&output[last..]);
    assert_eq!(
        masked(&masker, &chunks),
        whole,
        "the cuts changed the output"
    );

    // The values the masker conceals: not empty, not too short (those are left alone).
    let concealed: Vec<&[u8]> = secrets
        .iter()
        .filter(|s| !s.is_empty() && !Masker::too_short_to_mask(s))
        .map(String::as_bytes)
        .collect();
    // Where the output holds no `<concealed>` of its own, the marks in the masked output are
    // exactly the values replaced (the mark has no border: one cannot start inside
    // another), and each piece between them is output passed through. In the text of those
    // pieces, outside escape sequences (which lie whole inside one piece), every masked
    // value must have been replaced: none may show.
    if !contains(&output, CONCEALED) {
        for run in between_marks(&whole).into_iter().flat_map(texts) {
            for value in &concealed {
                assert!(
                    !contains(run, value),
                    "a masked value shows: {:?}",
                    String::from_utf8_lossy(run)
                );
            }
        }
    }
    if !concealed.iter().any(|v| contains(&output, v)) {
        assert_eq!(whole, output, "output without a masked value was changed");
    }
});
