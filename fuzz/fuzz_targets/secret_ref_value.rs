//! Reference values: a value whose parts obey the documented character rules displays as text that parses back to it; other values never round-trip, and parsing never yields a part that breaks the rules.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use zlayer_secrets_ref::{MAX_PART_LEN, SecretRef, Syntax, is_allowed_char};

#[derive(Debug, Arbitrary)]
enum Shape {
    Deployment,
    Service(String),
    Environment(String),
    ProjectEnvironment(String, String),
    Url(String),
}

#[derive(Debug, Arbitrary)]
struct Input {
    shape: Shape,
    name: String,
    field: Option<String>,
}

/// The documented rule for one part: 1 to `MAX_PART_LEN` bytes, not `.` or `..`, and only
/// allowed characters.
fn valid_part(part: &str) -> bool {
    !part.is_empty()
        && part.len() <= MAX_PART_LEN
        && part != "."
        && part != ".."
        && part.chars().all(is_allowed_char)
}

fuzz_target!(|input: Input| {
    let Input { shape, name, field } = input;
    let mut parts: Vec<String> = vec![name.clone()];
    let mut reference = match shape {
        Shape::Deployment => SecretRef::new(name),
        Shape::Service(service) => {
            parts.push(service.clone());
            SecretRef::for_service(service, name)
        }
        Shape::Environment(env) => {
            parts.push(env.clone());
            SecretRef::for_environment(env, name)
        }
        Shape::ProjectEnvironment(project, env) => {
            parts.push(project.clone());
            parts.push(env.clone());
            SecretRef::for_project_environment(project, env, name)
        }
        Shape::Url(env) => {
            parts.push(env.clone());
            SecretRef::for_environment(env, name).with_syntax(Syntax::Url)
        }
    };
    if let Some(field) = field {
        parts.push(field.clone());
        reference = reference.with_field(field);
    }
    let text = reference.to_string();
    let parsed = SecretRef::try_parse(&text);
    let all_valid = parts.iter().all(|p| valid_part(p));
    if all_valid {
        // parse ∘ display is the identity on values whose parts obey the rules.
        let back = match parsed {
            Ok(back) => back,
            Err(error) => panic!("valid parts were refused: {text:?}: {error}"),
        };
        assert_eq!(back, reference, "parse(display(v)) != v for {text:?}");
        assert_eq!(back.syntax(), reference.syntax());
        assert_eq!(back.to_string(), text);
    } else if let Ok(back) = parsed {
        // Text from a part holding `/` or `:` may read as another reference, never as this
        // one: parsing only ever produces parts that obey the rules.
        assert_ne!(
            back, reference,
            "a value with invalid parts round-tripped: {text:?}"
        );
        assert!(
            [
                Some(back.name.as_str()),
                back.service.as_deref(),
                back.project.as_deref(),
                back.environment.as_deref(),
                back.field.as_deref(),
            ]
            .into_iter()
            .flatten()
            .all(valid_part),
            "parse produced a part that breaks the rules: {back:?}"
        );
    }
});
