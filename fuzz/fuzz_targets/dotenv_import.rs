//! Dotenv import: arbitrary text never panics and errors name a line in range; what parses survives export and import again; any secret names and values survive export then import byte for byte, and dotenvy reads the same pairs where the dialect promises it.
#![no_main]

// The CLI's dotenv dialect, compiled here from its source (the CLI crate has no library
// target); the target uses only its reader and writer.
#[allow(dead_code, unreachable_pub)]
#[path = "../../crates/zlayer-secrets-cli/src/formats/dotenv.rs"]
mod dotenv;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use zeroize::Zeroizing;
use zlayer_secrets_core::validate_name;

/// The entry limit of the texts read raw: small, so that inputs reach it.
const LIMIT: usize = 64;

/// Export as the CLI does, then import.
fn round_trip(pairs: &[(String, String)]) -> Vec<(String, String)> {
    let mut out = Zeroizing::new(String::new());
    for (key, value) in pairs {
        dotenv::write_entry(&mut out, key, value);
    }
    let entries = match dotenv::parse(&out, usize::MAX) {
        Ok(entries) => entries,
        Err(e) => panic!("exported text does not import: {e}"),
    };
    entries
        .into_iter()
        .map(|e| (e.key, e.value.expose().to_owned()))
        .collect()
}

fn is_shell_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn check_text(text: &str) {
    match dotenv::parse(text, LIMIT) {
        Ok(entries) => {
            assert!(entries.len() <= LIMIT, "more entries than the limit");
            let lines = text.split('\n').count();
            let mut pairs = Vec::with_capacity(entries.len());
            for e in entries {
                assert!(e.line >= 1 && e.line <= lines, "entry line out of range");
                pairs.push((e.key, e.value.expose().to_owned()));
            }
            assert_eq!(
                round_trip(&pairs),
                pairs,
                "export then import changed entries"
            );
        }
        Err(e) => {
            let lines = text.split('\n').count();
            assert!(
                e.line >= 1 && e.line <= lines,
                "error line {} outside 1..={lines}",
                e.line
            );
        }
    }
}

fn check_pairs(pairs: Vec<(String, String)>) {
    let pairs: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(key, _)| validate_name(key).is_ok())
        .collect();
    assert_eq!(
        round_trip(&pairs),
        pairs,
        "export then import changed pairs"
    );

    // The dialect's promise about dotenvy: shell-identifier keys, values without `\r`.
    let portable: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(k, v)| is_shell_identifier(k) && !v.contains('\r'))
        .collect();
    let mut out = Zeroizing::new(String::new());
    for (key, value) in &portable {
        dotenv::write_entry(&mut out, key, value);
    }
    let read: Vec<(String, String)> = dotenvy::from_read_iter(out.as_bytes())
        .collect::<Result<_, _>>()
        .expect("dotenvy reads the exported text");
    assert_eq!(read, portable, "dotenvy reads exported pairs differently");
}

fuzz_target!(|data: &[u8]| {
    // The first byte chooses: raw text, or (name, value) pairs to export.
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        if let Ok(text) = std::str::from_utf8(rest) {
            check_text(text);
        }
    } else if let Ok(pairs) = Vec::<(String, String)>::arbitrary_take_rest(Unstructured::new(rest))
    {
        check_pairs(pairs);
    }
});
