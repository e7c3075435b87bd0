//! JSON import: arbitrary text never panics and errors never quote a value; what parses survives export and import again, and any name/value pairs survive export then import exactly.
#![no_main]

use std::collections::BTreeMap;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use zlayer_secrets_core::Secret;
use zlayer_secrets_formats::json;

/// The entry limit of the texts read raw: small, so that inputs reach it.
const LIMIT: usize = 64;

/// Every word the importer's own messages are made of: a value found only there is chance.
const MESSAGE_WORDS: &str = "not valid JSON: syntax error unexpected data unexpected end of \
    input read error at line column expected a JSON object of name/string pairs, found the \
    key appears more than once the value of is a string an object an array a number a \
    boolean null more than 64 entries, the most one file may hold";

fn sorted(entries: Vec<(String, Secret)>) -> BTreeMap<String, String> {
    entries
        .into_iter()
        .map(|(k, v)| (k, v.expose().to_owned()))
        .collect()
}

/// Export then import.
fn round_trip(pairs: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let entries: Vec<(String, Secret)> = pairs
        .iter()
        .map(|(k, v)| (k.clone(), Secret::new(v.clone())))
        .collect();
    let text = json::write(&entries);
    match json::parse(&text, usize::MAX) {
        Ok(back) => sorted(back),
        Err(e) => panic!("exported JSON does not import: {e}"),
    }
}

/// All string values (not keys) anywhere in a JSON document, and all its keys.
fn strings(value: &serde_json::Value, values: &mut Vec<String>, keys: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => values.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, values, keys)),
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                keys.push(k.clone());
                strings(v, values, keys);
            }
        }
        _ => {}
    }
}

fn check_text(text: &str) {
    match json::parse(text, LIMIT) {
        Ok(entries) => {
            let count = entries.len();
            assert!(count <= LIMIT, "more entries than the limit");
            let map = sorted(entries);
            assert_eq!(map.len(), count, "a key was imported twice");
            assert_eq!(round_trip(&map), map, "export then import changed entries");
        }
        Err(error) => {
            let message = error.to_string();
            let Ok(doc) = serde_json::from_str::<serde_json::Value>(text) else {
                return; // syntax errors carry a position only
            };
            let (mut values, mut keys) = (Vec::new(), Vec::new());
            strings(&doc, &mut values, &mut keys);
            for value in values.iter().filter(|v| v.chars().count() >= 4) {
                let excused = MESSAGE_WORDS.contains(value.as_str())
                    || keys
                        .iter()
                        .any(|k| k.escape_debug().to_string().contains(value.as_str()));
                assert!(
                    excused || !message.contains(value.as_str()),
                    "an import error quotes a value: {message}"
                );
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // The first byte chooses: raw text, or name/value pairs to export.
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        if let Ok(text) = std::str::from_utf8(rest) {
            check_text(text);
        }
    } else if let Ok(pairs) =
        BTreeMap::<String, String>::arbitrary_take_rest(Unstructured::new(rest))
    {
        assert_eq!(
            round_trip(&pairs),
            pairs,
            "export then import changed pairs"
        );
    }
});
