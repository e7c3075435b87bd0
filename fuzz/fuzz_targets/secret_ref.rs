//! Reference text: an accepted reference prints back to the same text and parses again to an equal value; a refused one gets an error inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zlayer_secrets_ref::SecretRef;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match SecretRef::try_parse(text) {
        Ok(reference) => {
            // display ∘ parse is the identity on accepted text ...
            let shown = reference.to_string();
            assert_eq!(shown, text, "an accepted reference displays differently");
            // ... and parse ∘ display the identity on values, syntax included.
            let again = SecretRef::try_parse(&shown).expect("a displayed reference parses");
            assert_eq!(again, reference);
            assert_eq!(again.syntax(), reference.syntax());
            assert_eq!(SecretRef::parse(text).as_ref(), Some(&reference));
            assert!(SecretRef::looks_like_reference(text));
            // The serde shape round-trips too (the syntax marker is not part of it).
            let json = serde_json::to_string(&reference).expect("a reference serialises");
            let back: SecretRef = serde_json::from_str(&json).expect("its JSON deserialises");
            assert_eq!(back, reference);
        }
        Err(error) => {
            assert!(SecretRef::parse(text).is_none());
            assert!(error.offset() <= text.len(), "error offset past the input");
            assert!(
                text.is_char_boundary(error.offset()),
                "error offset inside a character"
            );
            assert_eq!(
                error.is_not_a_reference(),
                !SecretRef::looks_like_reference(text)
            );
            let message = error.to_string();
            assert!(!message.is_empty());
            // The message names characters by code point and never repeats the input.
            if text.chars().count() >= 12 {
                assert!(!message.contains(text), "the error repeats the input");
            }
        }
    }
});
