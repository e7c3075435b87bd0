//! JSON import and export: one flat object whose values are all strings.
//!
//! Errors name the key or the position (line and column) and never echo a value. The
//! reader streams: each value is copied once, straight from the text into the result, and
//! reading stops at the first entry past the limit, so memory stays close to the size of
//! the text.

use std::fmt;

use serde::de::{
    DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use zeroize::Zeroizing;
use zlayer_secrets::Secret;

/// Reads `{"NAME": "value", ...}` (after an optional byte-order mark) with at most
/// `max_entries` entries. Duplicate keys and
/// non-string values are errors; a syntax error anywhere is reported first (except for
/// more entries than the limit, reported as soon as the first one too many is seen).
pub(crate) fn parse(text: &str, max_entries: usize) -> Result<Vec<(String, Secret)>, String> {
    // A byte-order mark, as some editors on Windows write one.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut shape = Shape::default();
    let mut de = serde_json::Deserializer::from_str(text);
    let read = de
        .deserialize_any(Document {
            max_entries,
            shape: &mut shape,
        })
        .and_then(|entries| de.end().map(|()| entries));
    let entries = match read {
        Ok(entries) => entries,
        Err(_) if shape.too_many => {
            return Err(format!(
                "more than {max_entries} entries, the most one file may hold"
            ));
        }
        Err(e) => return Err(format!("not valid JSON: {}", position_only(&e))),
    };
    if let Some(found) = shape.not_an_object {
        return Err(format!(
            "expected a JSON object of name/string pairs, found {found}"
        ));
    }
    if let Some(key) = first_duplicate(&entries) {
        return Err(format!(
            "the key \"{}\" appears more than once",
            key.escape_debug()
        ));
    }
    if let Some((key, found)) = shape.not_a_string {
        return Err(format!(
            "the value of \"{}\" is {found}, expected a string",
            key.escape_debug()
        ));
    }
    Ok(entries)
}

/// The key whose second occurrence comes first in the document, if any key is given twice.
fn first_duplicate(entries: &[(String, Secret)]) -> Option<&str> {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| entries[a].0.cmp(&entries[b].0).then(a.cmp(&b)));
    order
        .windows(2)
        .filter(|w| entries[w[0]].0 == entries[w[1]].0)
        .map(|w| w[1])
        .min()
        .map(|i| entries[i].0.as_str())
}

/// What is wrong with a well-formed document, found while reading it.
#[derive(Default)]
struct Shape {
    /// The document is not an object: what it is.
    not_an_object: Option<&'static str>,
    /// The first entry whose value is not a string: its key and what the value is.
    not_a_string: Option<(String, &'static str)>,
    /// Reading stopped at the first entry past the limit.
    too_many: bool,
}

/// The whole document: an object, or (to report what it is instead) anything else.
struct Document<'s> {
    max_entries: usize,
    shape: &'s mut Shape,
}

impl Document<'_> {
    /// Records that the document is `found` instead of an object; there are no entries.
    fn not_an_object(self, found: &'static str) -> Vec<(String, Secret)> {
        self.shape.not_an_object = Some(found);
        Vec::new()
    }
}

impl<'de> Visitor<'de> for Document<'_> {
    type Value = Vec<(String, Secret)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.len() == self.max_entries {
                self.shape.too_many = true;
                return Err(A::Error::custom("too many entries"));
            }
            match map.next_value_seed(StringOrKind)? {
                Ok(value) => out.push((key, Secret::new(value))),
                Err(found) => {
                    if self.shape.not_a_string.is_none() {
                        self.shape.not_a_string = Some((key, found));
                    }
                }
            }
        }
        Ok(out)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(self.not_an_object("an array"))
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(self.not_an_object("a string"))
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(self.not_an_object("a boolean"))
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(self.not_an_object("a number"))
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(self.not_an_object("a number"))
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(self.not_an_object("a number"))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(self.not_an_object("null"))
    }
}

/// One value of the object: the string, or what it is instead (its content is skipped,
/// never kept or shown).
struct StringOrKind;

impl<'de> DeserializeSeed<'de> for StringOrKind {
    type Value = Result<String, &'static str>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StringOrKind {
    type Value = Result<String, &'static str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Ok(s.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Self::Value, E> {
        Ok(Ok(s))
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err("a boolean"))
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(Err("null"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Err("an array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Err("an object"))
    }
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
            let err = parse(text, usize::MAX).unwrap_err();
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
            let err = parse(text, usize::MAX).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
        assert_eq!(parse(r#"{"A": "1", "B": "2"}"#, 2).unwrap().len(), 2);
        let err = parse(r#"{"A": "1", "B": "2", "C": "3", oops"#, 2).unwrap_err();
        assert_eq!(err, "more than 2 entries, the most one file may hold");
        let back = parse("{\"A\": \"esc\\n\\u00e9\", \"B\": \"plain\"}", 9).unwrap();
        assert_eq!(back[0].1.expose(), "esc\n\u{e9}");
        assert_eq!(back[1].0, "B");
        assert!(parse("{}", 0).unwrap().is_empty());
    }
}
