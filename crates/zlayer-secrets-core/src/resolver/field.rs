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
