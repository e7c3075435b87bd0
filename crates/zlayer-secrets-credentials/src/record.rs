//! Encoding of the JSON records kept in the reserved scopes, with errors that never repeat
//! the stored text (it may hold a password or a hash).

use serde::Serialize;
use serde::de::DeserializeOwned;
use zlayer_secrets_core::{Result, Secret, SecretsError};

/// Serialises a record into a [`Secret`], so that the JSON text (which may hold a password
/// or a hash) is zeroized when dropped.
pub(crate) fn encode<T: Serialize>(what: &str, record: &T) -> Result<Secret> {
    serde_json::to_string(record)
        .map(Secret::new)
        .map_err(|e| SecretsError::Storage(format!("could not encode {what}: {}", describe(&e))))
}

/// Parses a stored record. `what` names the record (e.g. "registry credential `abc`").
///
/// The error says where the JSON broke (line and column) but never quotes the text:
/// serde's own messages can echo stored values (`invalid type: string "..."`).
pub(crate) fn decode<T: DeserializeOwned>(what: &str, value: &Secret) -> Result<T> {
    serde_json::from_str(value.expose()).map_err(|e| corrupt(what, &describe(&e)))
}

/// The error for a record that is stored but cannot be used.
pub(crate) fn corrupt(what: &str, why: &str) -> SecretsError {
    SecretsError::Storage(format!(
        "{what} is corrupt ({why}); delete it and create it again"
    ))
}

fn describe(e: &serde_json::Error) -> String {
    let kind = match e.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "not valid JSON",
        serde_json::error::Category::Data => "JSON of the wrong shape",
        serde_json::error::Category::Eof => "JSON cut short",
    };
    format!("{kind} at line {} column {}", e.line(), e.column())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Shape {
        #[allow(dead_code)] // only the parse outcome matters here
        n: u32,
    }

    #[test]
    fn errors_do_not_quote_the_stored_text() {
        for text in [
            "\"hunter2-topsecret\"",
            "{\"n\": \"hunter2-topsecret\"}",
            "hunter2-topsecret",
            "{\"n\": 1, \"hunter2-topsecret\"",
        ] {
            let err = decode::<Shape>("record `x`", &Secret::new(text)).unwrap_err();
            let msg = err.to_string();
            assert!(!msg.contains("hunter2"), "{msg}");
            assert!(msg.contains("record `x` is corrupt"), "{msg}");
            assert!(msg.contains("line 1"), "{msg}");
        }
    }
}
