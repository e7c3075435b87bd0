//! Dotenv import: arbitrary text never panics and errors and warnings name a line in range; what parses survives export and import again (or is refused by the writer); any secret names and values the writer accepts survive export then import byte for byte, and dotenvy reads the same pairs.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use zlayer_secrets_core::validate_name;
use zlayer_secrets_crypto::Zeroizing;
use zlayer_secrets_formats::dotenv;

/// The entry limit of the texts read raw: small, so that inputs reach it.
const LIMIT: usize = 64;

/// Export as the CLI does (leaving out what the writer refuses), then import: the pairs
/// written, and what was read back.
fn round_trip(pairs: &[(String, String)]) -> (Vec<(String, String)>, Vec<(String, String)>) {
    let mut out = Zeroizing::new(String::new());
    let mut written = Vec::new();
    for (key, value) in pairs {
        if dotenv::write_entry(&mut out, key, value).is_ok() {
            written.push((key.clone(), value.clone()));
        }
    }
    let parsed = match dotenv::parse(&out, usize::MAX) {
        Ok(parsed) => parsed,
        Err(errors) => panic!("exported text does not import: {}", errors[0]),
    };
    let read = parsed
        .entries
        .into_iter()
        .map(|e| (e.key, e.value.expose().to_owned()))
        .collect();
    (written, read)
}

fn is_dotenvy_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

fn check_text(text: &str) {
    let lines = text.split('\n').count();
    let in_range = |line: usize| line >= 1 && line <= lines;
    match dotenv::parse(text, LIMIT) {
        Ok(parsed) => {
            assert!(parsed.entries.len() <= LIMIT, "more entries than the limit");
            assert!(
                parsed.warnings.iter().all(|w| in_range(w.line())),
                "warning line out of range"
            );
            let mut pairs = Vec::with_capacity(parsed.entries.len());
            for e in parsed.entries {
                assert!(in_range(e.line), "entry line out of range");
                pairs.push((e.key, e.value.expose().to_owned()));
            }
            let (written, read) = round_trip(&pairs);
            assert_eq!(read, written, "export then import changed entries");
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "an error without a line");
            for e in errors {
                let line = e.line().expect("every dotenv error names a line");
                assert!(in_range(line), "error line {line} outside 1..={lines}");
            }
        }
    }
}

fn check_pairs(pairs: Vec<(String, String)>) {
    let pairs: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(key, _)| validate_name(key).is_ok())
        .collect();
    let (written, read) = round_trip(&pairs);
    assert_eq!(read, written, "export then import changed pairs");

    // What the writer writes, dotenvy reads alike (for the keys it accepts).
    let mut out = Zeroizing::new(String::new());
    let mut portable = Vec::new();
    for (key, value) in written.into_iter().filter(|(k, _)| is_dotenvy_key(k)) {
        if dotenv::write_entry(&mut out, &key, &value).is_ok() {
            portable.push((key, value));
        }
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
