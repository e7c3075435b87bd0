use proptest::prelude::*;

use super::escape::ESC;
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
