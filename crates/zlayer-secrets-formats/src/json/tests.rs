use zlayer_secrets_core::Secret;

use super::{parse, write};

#[test]
fn round_trip() {
    let entries = vec![
        (
            "A".to_owned(),
            Secret::new("multi\nline \"q\" \\ $ # = \t é 🦀 \u{0} \u{1f}"),
        ),
        ("with space".to_owned(), Secret::new("")),
    ];
    let text = write(&entries);
    let back = parse(&text, usize::MAX).unwrap();
    assert_eq!(back.len(), 2);
    for ((k, v), (bk, bv)) in entries.iter().zip(&back) {
        assert_eq!(k, bk);
        assert_eq!(v.expose(), bv.expose());
    }
    assert_eq!(write(&[]).as_str(), "{}\n");
}

#[test]
fn shape_errors_do_not_echo_values() {
    let cases = [
        (r#"["sekret-value"]"#, "found an array"),
        (r#""sekret-value""#, "found a string"),
        (r#"{"A": 12345}"#, "\"A\" is a number"),
        (r#"{"A": {"sekret-value": 1}}"#, "\"A\" is an object"),
        (r#"{"A": null}"#, "\"A\" is null"),
        (
            r#"{"A": "sekret-value", "A": "other"}"#,
            "\"A\" appears more than once",
        ),
        ("{\"A\": \"sekret-value\"", "line 1"),
        ("{\"A\": \"sekret-value\",\n \"B\" 1}", "line 2"),
    ];
    for (text, want) in cases {
        let err = parse(text, usize::MAX).unwrap_err().to_string();
        assert!(err.contains(want), "{text}: {err}");
        assert!(!err.contains("sekret"), "{err}");
        assert!(!err.contains("12345"), "{err}");
    }
}

#[test]
fn errors_come_in_their_order_and_the_limit_stops_early() {
    for (text, want) in [
        // A syntax error wins over what the entries before it are.
        (r#"{"A": 1, "A": "x", oops"#, "not valid JSON"),
        (r#"["x"] trailing"#, "not valid JSON"),
        // Then the kind of document, then duplicates, then the first bad value.
        (
            r#"{"A": 1, "B": "x", "B": "y", "C": [1]}"#,
            "\"B\" appears more than once",
        ),
        (r#"{"Z": "x", "A": true, "B": null}"#, "\"A\" is a boolean"),
        (r#"{"A": {"x": [1, {"y": 2}]}}"#, "\"A\" is an object"),
        (r#"{"A": [1, 2]}"#, "\"A\" is an array"),
        ("1.5", "found a number"),
        ("null", "found null"),
        ("true", "found a boolean"),
    ] {
        let err = parse(text, usize::MAX).unwrap_err().to_string();
        assert!(err.contains(want), "{text}: {err}");
    }
    assert_eq!(parse(r#"{"A": "1", "B": "2"}"#, 2).unwrap().len(), 2);
    let err = parse(r#"{"A": "1", "B": "2", "C": "3", oops"#, 2)
        .unwrap_err()
        .to_string();
    assert_eq!(err, "more than 2 entries, the most one file may hold");
    let back = parse("{\"A\": \"esc\\n\\u00e9\", \"B\": \"plain\"}", 9).unwrap();
    assert_eq!(back[0].1.expose(), "esc\n\u{e9}");
    assert_eq!(back[1].0, "B");
    assert!(parse("{}", 0).unwrap().is_empty());
}
