//! JSON field extraction: `$S:name/field` reads one top-level field of a JSON object.

use serde_json::Value;
use zeroize::{Zeroize, Zeroizing};

/// Why a field could not be read. Never carries any part of the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FieldError {
    /// The value is not JSON.
    NotJson,
    /// The value is JSON but not an object (the kind it is instead).
    NotAnObject(&'static str),
    /// The object has no such field.
    Missing,
}

/// The text of field `field` of the JSON object in `value`: strings as they are, numbers and
/// booleans as their JSON text, `null` as the empty string, objects and arrays as compact
/// JSON.
///
/// Every copy of the value's contents made while parsing is wiped before returning.
pub(super) fn extract(value: &str, field: &str) -> Result<Zeroizing<String>, FieldError> {
    let parsed = WipeOnDrop(serde_json::from_str(value).map_err(|_| FieldError::NotJson)?);
    let Value::Object(object) = &parsed.0 else {
        return Err(FieldError::NotAnObject(kind(&parsed.0)));
    };
    let found = object.get(field).ok_or(FieldError::Missing)?;
    Ok(Zeroizing::new(match found {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        Value::Array(_) | Value::Object(_) => {
            serde_json::to_string(found).expect("a parsed JSON value always serialises")
        }
    }))
}

/// Why [`json_field`] found no field. It never carries any part of the value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonFieldError {
    /// The value is not JSON.
    NotJson,
    /// Part of the path leads into a value that has no fields: the path up to it, and the
    /// kind of JSON it is (`string`, `number`, ...).
    NoFields {
        /// The path up to the value, as given (`a.b`, `/a/b`); empty for the whole value.
        at: String,
        /// What the value is.
        kind: &'static str,
    },
    /// The path names nothing: the path up to the first missing part.
    Missing {
        /// The path up to and including the part that is missing.
        at: String,
    },
    /// The path is empty or has an empty part.
    EmptyPath,
}

impl std::fmt::Display for JsonFieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotJson => f.write_str("the value is not JSON"),
            Self::NoFields { at, kind } if at.is_empty() => {
                write!(f, "the value is a JSON {kind}, not an object")
            }
            Self::NoFields { at, kind } => {
                write!(f, "`{at}` is a JSON {kind}, which has no fields")
            }
            Self::Missing { at } => write!(f, "there is no field `{at}`"),
            Self::EmptyPath => f.write_str("the field path is empty or has an empty part"),
        }
    }
}

impl std::error::Error for JsonFieldError {}

/// The field at `path` of the JSON document `value`: `a.b.c` or `/a/b/c` (a part that is a
/// number indexes an array), rendered as references render a field: strings as they are,
/// numbers and booleans as their JSON text, `null` as the empty string, objects and arrays
/// as compact JSON. Every copy of the value's contents made while parsing is wiped.
///
/// ```
/// use zlayer_secrets_core::json_field;
///
/// let doc = r#"{"db":{"user":"app","ports":[5432,6432]}}"#;
/// assert_eq!(json_field(doc, "db.user")?.as_str(), "app");
/// assert_eq!(json_field(doc, "/db/ports/1")?.as_str(), "6432");
/// assert!(json_field(doc, "db.password").is_err());
/// # Ok::<(), zlayer_secrets_core::JsonFieldError>(())
/// ```
pub fn json_field(value: &str, path: &str) -> Result<Zeroizing<String>, JsonFieldError> {
    let (separator, rest) = match path.strip_prefix('/') {
        Some(rest) => ('/', rest),
        None => ('.', path),
    };
    let parts: Vec<&str> = rest.split(separator).collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(JsonFieldError::EmptyPath);
    }
    let parsed = WipeOnDrop(serde_json::from_str(value).map_err(|_| JsonFieldError::NotJson)?);
    let shown = |n: usize| {
        let joined = parts[..n].join(&separator.to_string());
        if separator == '/' {
            format!("/{joined}")
        } else {
            joined
        }
    };
    let mut current = &parsed.0;
    for (i, part) in parts.iter().enumerate() {
        current = match current {
            Value::Object(object) => object.get(*part),
            Value::Array(items) => part.parse::<usize>().ok().and_then(|n| items.get(n)),
            other => {
                return Err(JsonFieldError::NoFields {
                    at: shown(i),
                    kind: kind(other),
                });
            }
        }
        .ok_or_else(|| JsonFieldError::Missing { at: shown(i + 1) })?;
    }
    Ok(Zeroizing::new(match current {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        Value::Array(_) | Value::Object(_) => {
            serde_json::to_string(current).expect("a parsed JSON value always serialises")
        }
    }))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A parsed JSON value whose strings (keys included) are zeroized when it is dropped.
struct WipeOnDrop(Value);

impl Drop for WipeOnDrop {
    fn drop(&mut self) {
        wipe(std::mem::take(&mut self.0));
    }
}

/// Zeroizes every string in `value`. `serde_json` refuses input nested deeper than 128
/// levels, so the recursion is bounded.
fn wipe(value: Value) {
    match value {
        Value::String(mut s) => s.zeroize(),
        Value::Array(items) => items.into_iter().for_each(wipe),
        Value::Object(object) => {
            for (mut key, item) in object {
                key.zeroize();
                wipe(item);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_field_walks_objects_and_arrays_by_either_path_syntax() {
        let doc = r#"{"a":{"b":[{"c":"deep"},2],"n":null,"t":true},"s":"x"}"#;
        for (path, expected) in [
            ("a.b.0.c", "deep"),
            ("/a/b/0/c", "deep"),
            ("a.b.1", "2"),
            ("a.n", ""),
            ("a.t", "true"),
            ("a.b", r#"[{"c":"deep"},2]"#),
            ("s", "x"),
        ] {
            assert_eq!(json_field(doc, path).unwrap().as_str(), expected, "{path}");
        }
        assert_eq!(
            json_field(doc, "a.b.7"),
            Err(JsonFieldError::Missing { at: "a.b.7".into() })
        );
        assert_eq!(
            json_field(doc, "/s/x"),
            Err(JsonFieldError::NoFields {
                at: "/s".into(),
                kind: "string"
            })
        );
        assert_eq!(json_field(doc, "a..b"), Err(JsonFieldError::EmptyPath));
        assert_eq!(json_field(doc, ""), Err(JsonFieldError::EmptyPath));
        assert_eq!(json_field("not json", "a"), Err(JsonFieldError::NotJson));
        let shown = json_field(r#"{"k":"s3cr3t"}"#, "k.x")
            .unwrap_err()
            .to_string();
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }

    const DOC: &str = r#"{
        "user": "admin",
        "port": 5432,
        "ratio": 1.5,
        "tls": true,
        "off": false,
        "nothing": null,
        "empty": "",
        "list": [1, "two", {"three": 3}],
        "nested": { "a": [ ], "b": "c" },
        "quoted": "a \"q\" \n b",
        "ünï": "code"
    }"#;

    fn field(name: &str) -> Result<String, FieldError> {
        extract(DOC, name).map(|z| (*z).clone())
    }

    #[test]
    fn every_json_type() {
        assert_eq!(field("user").unwrap(), "admin");
        assert_eq!(field("port").unwrap(), "5432");
        assert_eq!(field("ratio").unwrap(), "1.5");
        assert_eq!(field("tls").unwrap(), "true");
        assert_eq!(field("off").unwrap(), "false");
        assert_eq!(field("nothing").unwrap(), "");
        assert_eq!(field("empty").unwrap(), "");
        assert_eq!(field("list").unwrap(), r#"[1,"two",{"three":3}]"#);
        assert_eq!(field("nested").unwrap(), r#"{"a":[],"b":"c"}"#);
        assert_eq!(field("quoted").unwrap(), "a \"q\" \n b");
        assert_eq!(field("ünï").unwrap(), "code");
    }

    #[test]
    fn failures_say_why() {
        assert_eq!(field("absent"), Err(FieldError::Missing));
        assert_eq!(
            field("USER"),
            Err(FieldError::Missing),
            "fields are case-sensitive"
        );
        assert_eq!(extract("not json", "f").unwrap_err(), FieldError::NotJson);
        assert_eq!(extract("", "f").unwrap_err(), FieldError::NotJson);
        assert_eq!(
            extract("{\"f\": 1} trailing", "f").unwrap_err(),
            FieldError::NotJson
        );
        assert_eq!(
            extract("[1, 2]", "0").unwrap_err(),
            FieldError::NotAnObject("array")
        );
        assert_eq!(
            extract("\"text\"", "f").unwrap_err(),
            FieldError::NotAnObject("string")
        );
        assert_eq!(
            extract("42", "f").unwrap_err(),
            FieldError::NotAnObject("number")
        );
        assert_eq!(
            extract("null", "f").unwrap_err(),
            FieldError::NotAnObject("null")
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!("{{\"f\": {}{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(extract(&deep, "f").unwrap_err(), FieldError::NotJson);
        let ok = format!("{{\"f\": {}{}}}", "[".repeat(100), "]".repeat(100));
        assert_eq!(
            *extract(&ok, "f").unwrap(),
            format!("{}{}", "[".repeat(100), "]".repeat(100))
        );
    }
}
