use proptest::prelude::*;

use super::*;

fn refs(text: &str) -> Vec<String> {
    Template::parse(text)
        .unwrap()
        .references()
        .map(ToString::to_string)
        .collect()
}

fn rendered(text: &str) -> String {
    Template::parse(text)
        .unwrap()
        .render(|r| if r.name == "pw" { "P" } else { "Q" })
        .to_string()
}

#[test]
fn placeholders_with_and_without_spaces() {
    assert_eq!(
        rendered("a{{$S:pw}}b{{ $S:x }}c{{\t$secret://prod/pw\t}}"),
        "aPbQcP"
    );
    assert_eq!(
        refs("{{ $S:pw }}{{ $secret://prod/KEY }}"),
        ["$S:pw", "$secret://prod/KEY"]
    );
}

#[test]
fn text_without_placeholders_is_unchanged() {
    for text in [
        "",
        "plain",
        "{{ .Values.x }}",
        "{{",
        "}}",
        "a }} b {{",
        "{{ $S:pw",
        "{{}}",
    ] {
        let t = Template::parse(text).unwrap();
        assert!(!t.has_references(), "{text}");
        assert_eq!(t.render(|_| "X").as_str(), text);
    }
}

#[test]
fn the_escape_is_a_literal_open() {
    assert_eq!(rendered(r"\{{ $S:pw }}"), "{{ $S:pw }}");
    assert_eq!(rendered(r"a\{{b{{ $S:pw }}"), "a{{bP");
    assert_eq!(rendered(r"\\{{ x"), r"\{{ x");
    assert_eq!(rendered(r"back\slash"), r"back\slash");
    assert!(!Template::parse(r"\{{ $S:pw }}").unwrap().has_references());
}

#[test]
fn a_nested_open_restarts_the_placeholder() {
    assert_eq!(rendered("{{ a {{ $S:pw }}"), "{{ a P");
}

#[test]
fn a_malformed_reference_says_where() {
    let err = Template::parse("line one\nx = {{ $S:@api/ }}").unwrap_err();
    assert_eq!((err.line(), err.column()), (2, 16));
    let shown = err.to_string();
    assert!(
        shown.starts_with("placeholder at line 2, column 16: "),
        "{shown}"
    );
    let err = Template::parse("é{{$S:}}").unwrap_err();
    assert_eq!((err.line(), err.column()), (1, 7));
}

#[test]
fn stray_references_are_noticed() {
    for text in [
        "postgres://app:$S:pw@db",
        "x $secret://prod/K",
        r"\{{ $S:pw }} then $S:stray",
        "{{ a }} $S:b {{ c }}",
    ] {
        assert!(Template::parse(text).unwrap().stray_reference(), "{text}");
    }
    for text in [
        "{{ $S:pw }}",
        "plain",
        "$s:lowercase",
        "a {{ $S:pw }} b",
        r"escaped: \{{ $S:pw }}",
        r"\{{ $secret://prod/K}} and \{{$S:x}}",
    ] {
        assert!(!Template::parse(text).unwrap().stray_reference(), "{text}");
    }
}

#[test]
fn try_render_stops_at_the_first_failure() {
    let t = Template::parse("{{ $S:a }}{{ $S:b }}").unwrap();
    let out: Result<_, &str> = t.try_render(|r| if r.name == "a" { Ok("1") } else { Err("no b") });
    assert_eq!(out.unwrap_err(), "no b");
    let out: Result<_, &str> = t.try_render(|r| Ok(if r.name == "a" { "1" } else { "2" }));
    assert_eq!(out.unwrap().as_str(), "12");
}

#[test]
fn debug_shows_no_text() {
    let t = Template::parse("hunter2 {{ $S:pw }}").unwrap();
    let shown = format!("{t:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("pw"), "{shown}");
}

proptest! {
    /// Text without `{{` or backslashes renders as itself, whatever the values.
    #[test]
    fn text_round_trips(text in "[^{\\\\]*") {
        let t = Template::parse(&text).unwrap();
        let out = t.render(|_| "V");
        prop_assert_eq!(out.as_str(), text.as_str());
    }

    /// Values come out byte for byte, whatever they hold (braces, newlines, quotes).
    #[test]
    fn values_are_inserted_verbatim(before in "[^{\\\\]*", value in "\\PC*", after in "[^{\\\\]*") {
        let text = format!("{before}{{{{ $S:pw }}}}{after}");
        let t = Template::parse(&text).unwrap();
        let out = t.render(|_| value.as_str());
        let expected = format!("{before}{value}{after}");
        prop_assert_eq!(out.as_str(), expected.as_str());
    }

    /// Parsing never panics.
    #[test]
    fn parse_never_panics(text in "\\PC*") {
        let _ = Template::parse(&text);
    }
}
