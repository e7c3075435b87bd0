use proptest::prelude::*;
use zeroize::Zeroizing;

use super::{parse, write_entry};

fn pairs(text: &str) -> Vec<(String, String, usize)> {
    parse(text, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|e| (e.key, e.value.expose().to_owned(), e.line))
        .collect()
}

fn one(text: &str) -> String {
    let all = pairs(text);
    assert_eq!(all.len(), 1, "{text:?}");
    all[0].1.clone()
}

#[test]
fn forms_of_values() {
    assert_eq!(one("A=plain"), "plain");
    assert_eq!(one("A=  spaced out  \n"), "spaced out");
    assert_eq!(one("A=x # comment"), "x");
    assert_eq!(one("A=x#not-a-comment"), "x#not-a-comment");
    assert_eq!(one("A=#comment"), "");
    assert_eq!(one("A="), "");
    assert_eq!(one("A=\"\""), "");
    assert_eq!(one("A=''"), "");
    assert_eq!(one(r"A=back\slash"), r"back\slash");
    assert_eq!(one("A=$HOME"), "$HOME");
    assert_eq!(one(r#"A="a\"b\\c\$d\ne\rf\tg\'h""#), "a\"b\\c$d\ne\rf\tg'h");
    assert_eq!(one("A='it is $HOME \\n'"), "it is $HOME \\n");
    assert_eq!(one("A=\"  both  \" # c"), "  both  ");
    assert_eq!(one("A=value\r\n"), "value");
    assert_eq!(one("\u{feff}A=bom"), "bom");
    assert_eq!(one("export A=exported"), "exported");
    assert_eq!(one("  export\tA = spaced"), "spaced");
}

#[test]
fn keys() {
    assert_eq!(pairs("export=1")[0].0, "export");
    assert_eq!(pairs("export =1")[0].0, "export");
    assert_eq!(pairs("db-password=1")[0].0, "db-password");
    assert_eq!(pairs("with space = 1")[0].0, "with space");
    assert_eq!(pairs(r#""a=b#c\"d" = 1"#)[0].0, "a=b#c\"d");
    assert_eq!(pairs(r#"export "export x"=1"#)[0].0, "export x");
}

#[test]
fn multi_line_values_and_line_numbers() {
    let text = "# header\n\nA=\"one\ntwo\nthree\"\nB='x\ny'\n  # indented comment\nC=3\n";
    let got = pairs(text);
    assert_eq!(got[0], ("A".into(), "one\ntwo\nthree".into(), 3));
    assert_eq!(got[1], ("B".into(), "x\ny".into(), 6));
    assert_eq!(got[2], ("C".into(), "3".into(), 9));
}

#[test]
fn errors_name_the_line_and_not_the_content() {
    let cases = [
        ("A=1\nB=2\nnot an entry\n", 3),
        ("A=1\n\nB=\"never closed\n", 3),
        ("A='never closed", 1),
        ("A=\"x\" trailing", 1),
        ("A=\"bad \\q escape\"", 1),
        ("A=1\n=2", 2),
        ("A=1\n'k'=2", 2),
        ("A=\"line1\nline2 \\x\"", 2),
    ];
    for (text, line) in cases {
        let err = parse(text, usize::MAX).unwrap_err();
        assert_eq!(err.line, line, "{text:?}: {err}");
        let shown = err.to_string();
        assert!(shown.starts_with(&format!("line {line}: ")), "{shown}");
        for secretish in ["never closed\"", "trailing", "line2", "entry"] {
            assert!(!shown.contains(secretish), "{shown}");
        }
    }
}

#[test]
fn writer_quotes_what_needs_it() {
    let mut out = Zeroizing::new(String::new());
    write_entry(&mut out, "DB_URL", "postgres://u:p@h/db?x=$y");
    write_entry(&mut out, "a=b", "line1\nline2");
    assert_eq!(
        out.as_str(),
        "DB_URL=\"postgres://u:p@h/db?x=\\$y\"\n\"a=b\"=\"line1\\nline2\"\n"
    );
}

/// Strings weighted towards the characters that break naive dotenv writers.
fn tricky_string() -> impl Strategy<Value = String> {
    let tricky = prop::sample::select(vec![
        "\n",
        "\r",
        "\r\n",
        "\"",
        "'",
        "\\",
        "$",
        "#",
        "=",
        " ",
        "\t",
        "${X}",
        "\\n",
        "é",
        "€",
        "🦀",
        "\u{0}",
        "\u{7f}",
        "\u{feff}",
        "export ",
        "-----BEGIN KEY-----\n",
    ]);
    prop::collection::vec(
        prop_oneof![
            3 => tricky.prop_map(str::to_owned),
            2 => "[a-zA-Z0-9]{0,8}",
            1 => any::<String>(),
        ],
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

fn secret_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z_][A-Za-z0-9_]{0,20}",
        "[a-z0-9.-]{1,20}",
        "[^/\\p{Cc}\\s][^/\\p{Cc}]{0,15}[^/\\p{Cc}\\s]",
    ]
    .prop_filter("a valid secret name", |n| {
        zlayer_secrets::validate_name(n).is_ok()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn export_then_parse_is_the_identity(
        entries in prop::collection::btree_map(secret_name(), tricky_string(), 0..8)
    ) {
        let mut out = Zeroizing::new(String::new());
        for (k, v) in &entries {
            write_entry(&mut out, k, v);
        }
        let back = parse(&out, usize::MAX).unwrap();
        prop_assert_eq!(back.len(), entries.len());
        for (entry, (k, v)) in back.iter().zip(&entries) {
            prop_assert_eq!(&entry.key, k);
            prop_assert_eq!(entry.value.expose(), v.as_str());
        }
    }

    /// What we write is also what the common `dotenvy` crate reads, for identifier keys
    /// and values without carriage returns (which it cannot express).
    #[test]
    fn dotenvy_reads_our_output(
        entries in prop::collection::btree_map(
            "[A-Za-z_][A-Za-z0-9_]{0,12}",
            tricky_string().prop_filter("no CR", |v| !v.contains('\r')),
            1..6,
        )
    ) {
        let mut out = Zeroizing::new(String::new());
        for (k, v) in &entries {
            write_entry(&mut out, k, v);
        }
        let read: Vec<(String, String)> = dotenvy::from_read_iter(out.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        prop_assert_eq!(read.len(), entries.len());
        for ((k, v), (rk, rv)) in entries.iter().zip(&read) {
            prop_assert_eq!(k, rk);
            prop_assert_eq!(v, rv);
        }
    }

    #[test]
    fn parse_never_panics(text in any::<String>()) {
        let _ = parse(&text, usize::MAX);
    }
}

#[test]
fn more_entries_than_the_limit_are_refused_at_the_first_one_too_many() {
    assert_eq!(parse("A=1\n# c\nB=2\n", 2).unwrap().len(), 2);
    let err = parse("A=1\n# c\nB=2\n\nC=3\nD=4\n", 2).unwrap_err();
    assert_eq!(err.line, 5);
    assert_eq!(
        err.to_string(),
        "line 5: more than 2 entries, the most one file may hold"
    );
}
