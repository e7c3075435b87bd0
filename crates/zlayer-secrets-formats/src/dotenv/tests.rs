use proptest::prelude::*;
use zeroize::Zeroizing;

use super::writer::python_interpolates;
use super::{Unwritable, parse, write_entry};
use crate::FormatError;

fn pairs(text: &str) -> Vec<(String, String, usize)> {
    parse(text, usize::MAX)
        .unwrap()
        .entries
        .into_iter()
        .map(|e| (e.key, e.value.expose().to_owned(), e.line))
        .collect()
}

fn one(text: &str) -> String {
    let all = pairs(text);
    assert_eq!(all.len(), 1, "{text:?}");
    all[0].1.clone()
}

fn warnings(text: &str) -> Vec<String> {
    parse(text, usize::MAX)
        .unwrap()
        .warnings
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn forms_of_values() {
    assert_eq!(one("A=plain"), "plain");
    assert_eq!(one("A=  spaced out  \n"), "spaced out");
    assert_eq!(one("A=x # comment"), "x");
    assert_eq!(one("A=x\t# comment"), "x");
    assert_eq!(one("A=x#not-a-comment"), "x#not-a-comment");
    assert_eq!(one("A=#not-a-comment-either"), "#not-a-comment-either");
    assert_eq!(one("A= #nor-this"), "#nor-this");
    assert_eq!(one("A="), "");
    assert_eq!(one("A= # only a comment"), "# only a comment");
    assert_eq!(one("A=\"\""), "");
    assert_eq!(one("A=''"), "");
    assert_eq!(one(r"A=back\slash\n"), r"back\slash\n");
    assert_eq!(one("A=$HOME"), "$HOME");
    assert_eq!(one("A=${HOME}"), "${HOME}");
    assert_eq!(
        one(r#"A="a\"b\\c\$d\ne\rf\tg\'h\ai\bj\fk\vl""#),
        "a\"b\\c$d\ne\rf\tg'h\u{7}i\u{8}j\u{c}k\u{b}l"
    );
    // Other backslashes are kept.
    assert_eq!(one(r#"A="^\d+$ \q \ ""#), r"^\d+$ \q \ ");
    assert_eq!(one(r"A='it\'s \\ \n \$'"), r"it's \ \n \$");
    assert_eq!(one("A=\"  both  \" # c"), "  both  ");
    assert_eq!(one("A='x'#c"), "x");
    assert_eq!(one("A=value\r\n"), "value");
    assert_eq!(one("A=\"multi\r\nline\"\r\n"), "multi\nline");
    assert_eq!(one("\u{feff}A=bom"), "bom");
    assert_eq!(one("export A=exported"), "exported");
    assert_eq!(one("  export\tA = spaced"), "spaced");
    assert_eq!(one("A=\u{a0}nbsp\u{a0}"), "nbsp");
}

#[test]
fn strings_end_where_python_dotenv_and_other_readers_agree() {
    // python-dotenv takes `\"` for a quote of the value while another quote follows, so
    // here the value runs on into line 2, where other readers would have ended it: refused.
    for text in ["A=\"x\\\\\"\nB=\"y\"\n", "A='x\\\\'\nB='y'\n"] {
        let errors = parse(text, usize::MAX).unwrap_err();
        assert_eq!(errors.len(), 1, "{text:?}: {errors:?}");
        assert!(
            errors[0]
                .to_string()
                .starts_with("line 1: a backslash right before a quote")
        );
    }
    // With an odd run of backslashes, both read a quote of the value.
    assert_eq!(pairs("A=\"say \\\"hi\\\"\"\nB=\"y\"")[0].1, "say \"hi\"");
    assert_eq!(pairs("A='it\\'s'\nB='y'")[0].1, "it's");
    // In the last string of the file, python-dotenv ends `\\"` at its quote, as others do.
    assert_eq!(one("A=\"C:\\\\dir\\\\\"\n"), "C:\\dir\\");
    // A lone `\"` there: python-dotenv ends the string at it, others never: refused.
    assert!(parse("A=\"C:\\dir\\\"\n", usize::MAX).is_err());
    assert!(parse("A='C:\\dir\\'", usize::MAX).is_err());
}

#[test]
fn keys() {
    assert_eq!(pairs("export=1")[0].0, "export");
    assert_eq!(pairs("exported=1")[0].0, "exported");
    assert_eq!(pairs("db-password=1")[0].0, "db-password");
    assert_eq!(pairs("a:b.c=1")[0].0, "a:b.c");
    assert_eq!(pairs("'quoted key'=1")[0].0, "quoted key");
    assert_eq!(pairs(r#""a=b#c\"d" = 1"#)[0].0, "a=b#c\"d");
    assert_eq!(pairs(r#"export "export x"=1"#)[0].0, "export x");
    for bad in ["with space = 1", "export =1", "=1", "''=1", "'open=1"] {
        assert!(parse(bad, usize::MAX).is_err(), "{bad:?}");
    }
}

#[test]
fn names_without_a_value_are_skipped_with_a_warning() {
    let text = "export K\nBARE\nC=1\nD # comment\n";
    assert_eq!(pairs(text), [("C".to_owned(), "1".to_owned(), 3)]);
    let w = warnings(text);
    assert_eq!(w.len(), 3, "{w:?}");
    assert!(w[0].starts_with("line 1: `export K` has no `=`"), "{w:?}");
    assert!(
        w[1].starts_with("line 2: a line with a name but no `=`"),
        "{w:?}"
    );
    assert!(!w[1].contains("BARE"), "{w:?}");
    assert!(w[2].starts_with("line 4:"), "{w:?}");
}

#[test]
fn a_comment_cutting_an_unquoted_value_is_a_warning() {
    assert_eq!(one("B=p@ss #word"), "p@ss");
    let w = warnings("A=1\nB=p@ss #word\nC='x' # fine\n");
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with("line 2: the unquoted value of `B`"),
        "{w:?}"
    );
    assert!(!w[0].contains("p@ss") && !w[0].contains("word"), "{w:?}");
}

#[test]
fn an_escaped_dollar_is_read_as_a_dollar_with_a_warning() {
    assert_eq!(one("A=\"\\$HOME\""), "$HOME");
    let w = warnings("A=\"\\$HOME\"\n");
    assert!(w[0].contains("python-dotenv keeps the backslash"), "{w:?}");
    // An escaped backslash before `$` is no `\$`.
    assert_eq!(one("A=\"\\\\$HOME\""), "\\$HOME");
    assert!(warnings("A=\"\\\\$HOME\"\n").is_empty());
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
fn every_bad_line_is_reported_by_line_and_key_not_content() {
    let text = "A=1\nB=2\nnot an entry\nD=\"sekret-d\nE=5\nF=\"x\" sekret-f\nG='sekret-g\n=8\nH=9";
    let errors = parse(text, usize::MAX).unwrap_err();
    let lines: Vec<Option<usize>> = errors.iter().map(FormatError::line).collect();
    // As python-dotenv reads it: D's string ends at the first quote of line 6.
    assert_eq!(lines, [3, 4, 7, 8].map(Some), "{errors:?}");
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(shown[0].contains("`not`"), "{shown:?}");
    assert!(
        shown[1].contains("`D`") && shown[1].ends_with("on line 6"),
        "{shown:?}"
    );
    for s in &shown {
        for secretish in ["sekret", "entry"] {
            assert!(!s.contains(secretish), "{s}");
        }
    }
}

#[test]
fn carriage_returns_that_end_no_line_are_refused() {
    let errors = parse("A=1\rB=2\rC=3\r", usize::MAX).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].line(), Some(1));
    assert!(
        errors[0].to_string().contains("carriage return"),
        "{errors:?}"
    );
    let errors = parse("A=1\nB=\"x\ry\"\nC=3\rD\n", usize::MAX).unwrap_err();
    let lines: Vec<Option<usize>> = errors.iter().map(FormatError::line).collect();
    assert_eq!(lines, [2, 3].map(Some), "{errors:?}");
    assert!(parse("A=1\r\nB=\"x\r\ny\"\r\n", usize::MAX).is_ok());
}

#[test]
fn the_writer_picks_the_form_every_reader_shares() {
    let written = |key: &str, value: &str| {
        let mut out = Zeroizing::new(String::new());
        write_entry(&mut out, key, value).map(|()| out.as_str().to_owned())
    };
    for (value, want) in [
        ("plain", "K='plain'\n"),
        ("", "K=''\n"),
        ("$HOME and \"q\" #", "K='$HOME and \"q\" #'\n"),
        ("back\\slash", "K='back\\slash'\n"),
        ("it's", "K=\"it's\"\n"),
        ("\\\\unc", "K=\"\\\\\\\\unc\"\n"),
        ("a\nb\tc", "K=\"a\\nb\tc\"\n"),
        ("q\"\\'", "K=\"q\\\"\\\\'\"\n"),
        ("$x\ny", "K='$x\ny'\n"),
        ("${X:y}", "K='${X:y}'\n"),
    ] {
        assert_eq!(written("K", value).as_deref(), Ok(want), "{value:?}");
    }
    for (key, value, why) in [
        ("K", "${X}", Unwritable::Interpolated),
        ("K", "a${}b", Unwritable::Interpolated),
        ("K", "${X:-d}", Unwritable::Interpolated),
        ("K", "a\r\nb", Unwritable::CarriageReturn),
        ("K", "dir\\", Unwritable::FinalBackslash),
        ("K", "it's $5", Unwritable::DollarAndQuote),
        ("K", "\\\\$", Unwritable::DollarAndQuote),
        ("a b", "v", Unwritable::Key),
        ("", "v", Unwritable::Key),
        ("k=", "v", Unwritable::Key),
    ] {
        assert_eq!(written(key, value), Err(why), "{key:?} {value:?}");
        assert!(!why.to_string().is_empty());
    }
}

#[test]
fn python_dotenv_interpolation_is_recognised() {
    for yes in [
        "${X}", "${}", "a${X}b", "${X:-}", "${X:-d}", "${a b}", "${X\n}", "$${X}",
    ] {
        assert!(python_interpolates(yes), "{yes:?}");
    }
    for no in ["$X", "${", "${X", "${X:y}", "${X:", "}${", "$ {X}", "${X:-"] {
        assert!(!python_interpolates(no), "{no:?}");
    }
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
        "${",
        "}",
        "\\n",
        "é",
        "€",
        "🦀",
        "\u{0}",
        "\u{7f}",
        "\u{a0}",
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
        zlayer_secrets_core::validate_name(n).is_ok()
    })
}

/// The entries `write_entry` writes, and the text.
fn exported(
    entries: &std::collections::BTreeMap<String, String>,
) -> (Vec<(&String, &String)>, Zeroizing<String>) {
    let mut out = Zeroizing::new(String::new());
    let mut written = Vec::new();
    for (k, v) in entries {
        if write_entry(&mut out, k, v).is_ok() {
            written.push((k, v));
        }
    }
    (written, out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// What is written reads back identically (and only what cannot be is refused).
    #[test]
    fn export_then_parse_is_the_identity(
        entries in prop::collection::btree_map(secret_name(), tricky_string(), 0..8)
    ) {
        let (written, out) = exported(&entries);
        let back = parse(&out, usize::MAX).unwrap();
        prop_assert!(back.warnings.is_empty());
        prop_assert_eq!(back.entries.len(), written.len());
        for (entry, (k, v)) in back.entries.iter().zip(&written) {
            prop_assert_eq!(&entry.key, *k);
            prop_assert_eq!(entry.value.expose(), v.as_str());
        }
    }

    /// What is written is also what the `dotenvy` crate reads, for keys it accepts.
    #[test]
    fn dotenvy_reads_our_output(
        entries in prop::collection::btree_map(
            "[A-Za-z_][A-Za-z0-9_]{0,12}",
            tricky_string(),
            1..6,
        )
    ) {
        let (written, out) = exported(&entries);
        let read: Vec<(String, String)> = dotenvy::from_read_iter(out.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        prop_assert_eq!(read.len(), written.len());
        for ((k, v), (rk, rv)) in written.iter().zip(&read) {
            prop_assert_eq!(*k, rk);
            prop_assert_eq!(*v, rv);
        }
    }

    #[test]
    fn parse_never_panics(text in any::<String>()) {
        let _ = parse(&text, usize::MAX);
    }
}

#[test]
fn more_entries_than_the_limit_are_refused_at_the_first_one_too_many() {
    assert_eq!(parse("A=1\n# c\nB=2\n", 2).unwrap().entries.len(), 2);
    let err = parse("A=1\n# c\nB=2\n\nC=3\nD=4\n", 2).unwrap_err();
    assert_eq!(err.len(), 1);
    assert_eq!(err[0].line(), Some(5));
    assert_eq!(
        err[0].to_string(),
        "line 5: more than 2 entries, the most one file may hold"
    );
}
