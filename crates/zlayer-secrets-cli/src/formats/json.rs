//! JSON import and export: one flat object whose values are all strings.
//!
//! Errors name the key or the position (line and column) and never echo a value.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use zeroize::Zeroizing;
use zlayer_secrets::Secret;

/// Reads `{"NAME": "value", ...}`. Duplicate keys and non-string values are errors.
pub(crate) fn parse(text: &str) -> Result<Vec<(String, Secret)>, String> {
    // First pass: syntax and shape. serde_json's syntax errors give a position only.
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not valid JSON: {}", position_only(&e)))?;
    let serde_json::Value::Object(map) = value else {
        return Err(format!(
            "expected a JSON object of name/string pairs, found {}",
            kind(&value)
        ));
    };
    // Second pass: the object is known to be well-formed; look for keys given twice,
    // which a map silently collapses.
    let mut de = serde_json::Deserializer::from_str(text);
    let duplicate = de
        .deserialize_map(DuplicateCheck)
        .map_err(|e| position_only(&e))?;
    if let Some(key) = duplicate {
        return Err(format!(
            "the key \"{}\" appears more than once",
            key.escape_debug()
        ));
    }
    let mut out = Vec::with_capacity(map.len());
    for (key, value) in map {
        match value {
            serde_json::Value::String(s) => out.push((key, Secret::new(s))),
            other => {
                return Err(format!(
                    "the value of \"{}\" is {}, expected a string",
                    key.escape_debug(),
                    kind(&other)
                ));
            }
        }
    }
    Ok(out)
}

/// Writes a pretty-printed object, keys in the order given, and a final newline.
pub(crate) fn write(entries: &[(String, Secret)]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(
        entries
            .iter()
            .map(|(k, v)| k.len() + v.len() * 2 + 12)
            .sum::<usize>()
            + 4,
    ));
    out.push('{');
    for (i, (key, value)) in entries.iter().enumerate() {
        out.push_str(if i == 0 { "\n  " } else { ",\n  " });
        push_json_string(&mut out, key);
        out.push_str(": ");
        push_json_string(&mut out, value.expose());
    }
    out.push_str(if entries.is_empty() { "}\n" } else { "\n}\n" });
    out
}

/// A JSON string literal, written by hand so that no temporary copy of the value is made.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                use fmt::Write as _;
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The category and position of a `serde_json` error, without its message (which can quote
/// input for type errors).
fn position_only(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Io => "read error",
        Category::Syntax => "syntax error",
        Category::Data => "unexpected data",
        Category::Eof => "unexpected end of input",
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

/// Finds the first key given twice in an object (`None`: all distinct).
struct DuplicateCheck;

impl<'de> Visitor<'de> for DuplicateCheck {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen = BTreeSet::new();
        let mut duplicate = None;
        while let Some(key) = map.next_key::<String>()? {
            map.next_value::<IgnoredAny>()?;
            if duplicate.is_none() && seen.contains(&key) {
                duplicate = Some(key);
            } else {
                seen.insert(key);
            }
        }
        Ok(duplicate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let back = parse(&text).unwrap();
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
            let err = parse(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
            assert!(!err.contains("sekret"), "{err}");
            assert!(!err.contains("12345"), "{err}");
        }
    }
}
