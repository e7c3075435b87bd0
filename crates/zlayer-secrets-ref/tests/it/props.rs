//! Property tests: the round-trip laws over generated references of every form, and the
//! parser's behaviour on arbitrary input.

use proptest::prelude::*;
use zlayer_secrets_ref::{MAX_PART_LEN, SecretRef, Syntax, is_allowed_char};

/// A valid part: short ASCII, short Unicode, or close to the length limit.
fn part() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z0-9._~%+=,!#*-]{1,24}",
        2 => "[\\p{L}\\p{N}\\p{S}_.-]{1,12}",
        1 => proptest::collection::vec("[a-z0-9]", MAX_PART_LEN - 8..=MAX_PART_LEN)
            .prop_map(|chars| chars.concat()),
    ]
    .prop_filter(
        "a part holds only allowed characters and is not `.` or `..`",
        |s| s.chars().all(is_allowed_char) && s != "." && s != "..",
    )
}

/// The text of a valid reference of any form, written out independently of `Display`.
fn reference_text() -> impl Strategy<Value = String> {
    let field =
        proptest::option::of(part()).prop_map(|f| f.map(|f| format!("/{f}")).unwrap_or_default());
    (0..6u8, part(), part(), part(), field).prop_map(|(form, a, b, name, field)| match form {
        0 => format!("$S:{name}{field}"),
        1 => format!("$S:@{a}/{name}{field}"),
        2 => format!("$S::{b}/{name}{field}"),
        3 => format!("$S:{a}:{b}/{name}{field}"),
        _ => format!("$secret://{b}/{name}{field}"),
    })
}

/// A valid `SecretRef` value of any shape and syntax, built with the constructors.
fn reference_value() -> impl Strategy<Value = SecretRef> {
    (0..5u8, part(), part(), part(), proptest::option::of(part())).prop_map(
        |(shape, a, b, name, field)| {
            let r = match shape {
                0 => SecretRef::new(name),
                1 => SecretRef::for_service(a, name),
                2 => SecretRef::for_environment(b, name),
                3 => SecretRef::for_project_environment(a, b, name),
                _ => SecretRef::for_environment(b, name).with_syntax(Syntax::Url),
            };
            match field {
                Some(f) => r.with_field(f),
                None => r,
            }
        },
    )
}

/// Input that starts like a reference and then mixes the grammar's characters with a few
/// characters that are refused, so that every branch of the parser is reached.
fn reference_like_noise() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            "\\$S:",
            "\\$secret://",
            "\\$S:@",
            "\\$S::",
            "\\$secret:/",
            "\\$S"
        ],
        "[ab/:@$. \\n\u{200B}é]{0,24}",
    )
        .prop_map(|(prefix, body)| prefix + &body)
}

/// Whatever the input, the three entry points agree, an accepted input displays as itself,
/// and an error points inside the input at a character boundary.
fn check_any_input(input: &str) -> Result<(), TestCaseError> {
    let detailed = SecretRef::try_parse(input);
    prop_assert_eq!(SecretRef::parse(input), detailed.clone().ok());
    prop_assert_eq!(input.parse::<SecretRef>(), detailed.clone());
    match detailed {
        Ok(r) => {
            prop_assert!(SecretRef::looks_like_reference(input));
            prop_assert_eq!(r.to_string(), input);
        }
        Err(e) => {
            prop_assert!(e.offset() <= input.len());
            prop_assert!(input.is_char_boundary(e.offset()));
            prop_assert_eq!(
                e.is_not_a_reference(),
                !SecretRef::looks_like_reference(input)
            );
            prop_assert!(!e.to_string().is_empty());
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn every_valid_text_round_trips(text in reference_text()) {
        let r = SecretRef::try_parse(&text);
        prop_assert!(r.is_ok(), "{:?}: {}", text, r.unwrap_err());
        let r = r.unwrap();
        prop_assert_eq!(r.to_string(), text.clone());
        let expected = if text.starts_with(SecretRef::URL_PREFIX) { Syntax::Url } else { Syntax::Short };
        prop_assert_eq!(r.syntax(), expected);
        prop_assert_eq!(SecretRef::parse(&r.to_string()), Some(r));
    }

    #[test]
    fn every_valid_value_round_trips(r in reference_value()) {
        let text = r.to_string();
        let back = SecretRef::parse(&text);
        prop_assert_eq!(back.as_ref(), Some(&r), "{}", text);
        let back = back.unwrap();
        prop_assert_eq!(back.syntax(), r.syntax());
        prop_assert_eq!(back.to_string(), text);
    }

    #[test]
    fn arbitrary_strings_never_panic(input in any::<String>()) {
        check_any_input(&input)?;
    }

    #[test]
    fn arbitrary_strings_after_a_prefix_never_panic(
        prefix in prop_oneof!["\\$S:", "\\$secret://"],
        body in any::<String>(),
    ) {
        check_any_input(&(prefix + &body))?;
    }

    #[test]
    fn reference_like_noise_never_panics(input in reference_like_noise()) {
        check_any_input(&input)?;
    }

    #[test]
    fn one_bad_character_anywhere_is_found(
        text in reference_text(),
        index in any::<prop::sample::Index>(),
        bad in prop_oneof![Just('$'), Just(' '), Just('\n'), Just('\0'), Just('\u{200B}')],
    ) {
        // Put a refused character at a character boundary after the prefix.
        let prefix = if text.starts_with(SecretRef::URL_PREFIX) { SecretRef::URL_PREFIX.len() } else { SecretRef::PREFIX.len() };
        let boundaries: Vec<usize> = (prefix..=text.len()).filter(|&i| text.is_char_boundary(i)).collect();
        let at = boundaries[index.index(boundaries.len())];
        let mut broken = text.clone();
        broken.insert(at, bad);
        let err = SecretRef::try_parse(&broken);
        prop_assert!(err.is_err(), "{:?} was accepted", broken);
        prop_assert!(err.unwrap_err().offset() <= at);
    }
}
