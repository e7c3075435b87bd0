//! The streaming reader of JSON objects of name/string pairs.

use std::fmt;

use serde::de::{
    DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use zlayer_secrets_core::Secret;

use crate::{FormatError, JsonSyntax, JsonType};

/// Reads `{"NAME": "value", ...}` (after an optional byte-order mark) with at most
/// `max_entries` entries. Duplicate keys and non-string values are errors; a syntax error
/// anywhere is reported first (except for more entries than the limit, reported as soon as
/// the first one too many is seen), then a document that is not an object, then the first
/// key given twice, then the first value that is not a string.
pub fn parse(text: &str, max_entries: usize) -> Result<Vec<(String, Secret)>, FormatError> {
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
            return Err(FormatError::TooManyEntries {
                line: None,
                max: max_entries,
            });
        }
        Err(e) => return Err(position_only(&e)),
    };
    if let Some(found) = shape.not_an_object {
        return Err(FormatError::NotAnObject { found });
    }
    if let Some(key) = first_duplicate(&entries) {
        return Err(FormatError::DuplicateKey {
            key: key.to_owned(),
        });
    }
    if let Some((key, found)) = shape.not_a_string {
        return Err(FormatError::NotAString { key, found });
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
    not_an_object: Option<JsonType>,
    /// The first entry whose value is not a string: its key and what the value is.
    not_a_string: Option<(String, JsonType)>,
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
    fn not_an_object(self, found: JsonType) -> Vec<(String, Secret)> {
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
        Ok(self.not_an_object(JsonType::Array))
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(self.not_an_object(JsonType::String))
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(self.not_an_object(JsonType::Boolean))
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(self.not_an_object(JsonType::Number))
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(self.not_an_object(JsonType::Number))
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(self.not_an_object(JsonType::Number))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(self.not_an_object(JsonType::Null))
    }
}

/// One value of the object: the string, or what it is instead (its content is skipped,
/// never kept or shown).
struct StringOrKind;

impl<'de> DeserializeSeed<'de> for StringOrKind {
    type Value = Result<String, JsonType>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StringOrKind {
    type Value = Result<String, JsonType>;

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
        Ok(Err(JsonType::Boolean))
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err(JsonType::Number))
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err(JsonType::Number))
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err(JsonType::Number))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(Err(JsonType::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Err(JsonType::Array))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Err(JsonType::Object))
    }
}

/// The category and position of a `serde_json` error, without its message (which can quote
/// input for type errors).
fn position_only(e: &serde_json::Error) -> FormatError {
    use serde_json::error::Category;
    let kind = match e.classify() {
        Category::Io => JsonSyntax::Io,
        Category::Syntax => JsonSyntax::Syntax,
        Category::Data => JsonSyntax::Data,
        Category::Eof => JsonSyntax::Eof,
    };
    FormatError::InvalidJson {
        kind,
        line: e.line(),
        column: e.column(),
    }
}
