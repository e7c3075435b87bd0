//! The character rules at their edges: whitespace, control and invisible characters, `$`,
//! Unicode, and length.

use zlayer_secrets_ref::{MAX_PART_LEN, ParseErrorKind, Part, SecretRef, is_allowed_char};

/// One template per part: `{}` is where the part under test goes, and the offset of `{}`.
const SLOTS: [(&str, Part); 9] = [
    ("$S:{}", Part::Name),
    ("$S:{}/f", Part::Name),
    ("$S:n/{}", Part::Field),
    ("$S:@{}/n", Part::Service),
    ("$S:@s/{}/f", Part::Name),
    ("$S::{}/n", Part::Environment),
    ("$S:{}:e/n", Part::Project),
    ("$secret://{}/K", Part::Environment),
    ("$secret://e/K/{}", Part::Field),
];

fn fill(template: &str, part: &str) -> (String, usize) {
    let at = template.find("{}").unwrap();
    (template.replacen("{}", part, 1), at)
}

fn refused_char(ch: char) {
    assert!(!is_allowed_char(ch), "{ch:?}");
    for (template, part) in SLOTS {
        // The character alone, and inside other characters.
        for (inner, extra) in [(ch.to_string(), 0), (format!("ab{ch}cd"), 2)] {
            let (text, at) = fill(template, &inner);
            let err = SecretRef::try_parse(&text).unwrap_err();
            assert_eq!(
                (err.offset(), err.kind()),
                (at + extra, ParseErrorKind::ForbiddenChar { part, ch }),
                "{text:?}: {err}"
            );
        }
    }
}

#[test]
fn whitespace_is_refused() {
    for ch in [
        ' ', '\t', '\n', '\r', '\u{0B}', '\u{0C}', '\u{85}', '\u{A0}', '\u{1680}', '\u{2000}',
        '\u{2009}', '\u{200A}', '\u{2028}', '\u{2029}', '\u{202F}', '\u{205F}', '\u{3000}',
    ] {
        refused_char(ch);
    }
}

#[test]
fn control_characters_are_refused() {
    for ch in [
        '\0', '\u{1}', '\u{7}', '\u{1B}', '\u{1F}', '\u{7F}', '\u{80}', '\u{9F}',
    ] {
        refused_char(ch);
    }
}

#[test]
fn invisible_characters_are_refused() {
    for ch in [
        '\u{AD}',
        '\u{34F}',
        '\u{61C}',
        '\u{180E}',
        '\u{200B}',
        '\u{200C}',
        '\u{200D}',
        '\u{200E}',
        '\u{200F}',
        '\u{202A}',
        '\u{202E}',
        '\u{2060}',
        '\u{2066}',
        '\u{2069}',
        '\u{FE0F}',
        '\u{FEFF}',
        '\u{FFF9}',
        '\u{E0001}',
        '\u{E007F}',
    ] {
        refused_char(ch);
    }
}

#[test]
fn dollar_is_refused_everywhere() {
    // (`@` and `:` are structural in some places; `misplaced_colons_and_ats` covers them.)
    refused_char('$');
}

#[test]
fn ordinary_characters_are_allowed() {
    for ch in [
        'a', 'Z', '0', '-', '_', '.', '~', '%', '#', '+', '=', ',', '!', '?', '*', '&', '\'', '"',
        '\\', '|', '<', '>', '[', ']', '{', '}', '(', ')', ';', '^', '`', 'é', 'ß', 'Ж', '名',
        '🔑', '\u{E000}',
    ] {
        assert!(is_allowed_char(ch), "{ch:?}");
        for (template, _) in SLOTS {
            let (text, _) = fill(template, &format!("x{ch}"));
            let r = SecretRef::try_parse(&text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(r.to_string(), text);
        }
    }
}

#[test]
fn nothing_is_trimmed() {
    let cases = [
        ("$S:db\n", 5, Part::Name, '\n'),
        ("$S:db ", 5, Part::Name, ' '),
        ("$S: db", 3, Part::Name, ' '),
        ("$S:db/field\r\n", 11, Part::Field, '\r'),
        ("$secret://prod /KEY", 14, Part::Environment, ' '),
    ];
    for (text, offset, part, ch) in cases {
        let err = SecretRef::try_parse(text).unwrap_err();
        assert_eq!(
            (err.offset(), err.kind()),
            (offset, ParseErrorKind::ForbiddenChar { part, ch }),
            "{text:?}"
        );
    }
    assert!(
        SecretRef::try_parse(" $S:db")
            .unwrap_err()
            .is_not_a_reference()
    );
}

#[test]
fn too_long_parts() {
    let long = "x".repeat(MAX_PART_LEN + 1);
    for (template, part) in SLOTS {
        let (text, at) = fill(template, &long);
        let err = SecretRef::try_parse(&text).unwrap_err();
        assert_eq!(
            (err.offset(), err.kind()),
            (
                at,
                ParseErrorKind::TooLong {
                    part,
                    len: MAX_PART_LEN + 1
                }
            ),
            "{template}"
        );
        assert!(err.to_string().contains("at most 256"), "{err}");
    }
}

#[test]
fn very_long_inputs_are_refused_quickly_and_cleanly() {
    let huge = format!("$S:{}", "a".repeat(1 << 20));
    let err = SecretRef::try_parse(&huge).unwrap_err();
    assert_eq!(
        err.kind(),
        ParseErrorKind::TooLong {
            part: Part::Name,
            len: 1 << 20
        }
    );
    assert!(err.to_string().len() < 120, "{err}");

    // A forbidden character late in a huge part is reported where it is.
    let late = format!("$S:{} ", "a".repeat(100_000));
    assert_eq!(
        SecretRef::try_parse(&late).unwrap_err().offset(),
        late.len() - 1
    );

    // Many separators.
    let slashes = format!("$S:{}", "/".repeat(100_000));
    assert_eq!(
        SecretRef::try_parse(&slashes).unwrap_err().kind(),
        ParseErrorKind::Empty(Part::Name)
    );
    let colons = format!("$S:{}", ":".repeat(100_000));
    assert_eq!(
        SecretRef::try_parse(&colons).unwrap_err().kind(),
        ParseErrorKind::Empty(Part::Environment)
    );
}

#[test]
fn multibyte_offsets_are_byte_offsets() {
    let err = SecretRef::try_parse("$S:ünï côde").unwrap_err();
    assert_eq!(err.offset(), "$S:ünï".len());
    let err = SecretRef::try_parse("$S:@名前/キー/フィ$").unwrap_err();
    assert_eq!(err.offset(), "$S:@名前/キー/フィ".len());
}
