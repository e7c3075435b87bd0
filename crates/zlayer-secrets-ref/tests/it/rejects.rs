//! Every rejected example of design §3 (and more), with the offset and reason reported.

use zlayer_secrets_ref::{ParseErrorKind, Part, SecretRef};

use ParseErrorKind::{DotPart, Empty, ExtraColon, ExtraSegment, ForbiddenChar, Missing};

fn rejected(text: &str, offset: usize, kind: ParseErrorKind) {
    assert_eq!(SecretRef::parse(text), None, "{text:?} should be refused");
    let err = SecretRef::try_parse(text).unwrap_err();
    assert_eq!(
        (err.offset(), err.kind()),
        (offset, kind),
        "{text:?}: {err}"
    );
    assert_eq!(text.parse::<SecretRef>().unwrap_err(), err);
    assert!(SecretRef::looks_like_reference(text), "{text:?}");
    assert!(!err.is_not_a_reference());
    let msg = err.to_string();
    assert!(msg.contains(&format!("at byte {offset}")), "{msg}");
}

#[test]
fn design_examples() {
    rejected("$S:", 3, Empty(Part::Name));
    rejected("$S:@/x", 4, Empty(Part::Service));
    rejected("$S:@svc/", 8, Empty(Part::Name));
    rejected("$S:@", 4, Empty(Part::Service));
    rejected("$S:/name", 3, Empty(Part::Name));
    rejected("$S:db/", 6, Empty(Part::Field));
    rejected("$S:::name", 4, Empty(Part::Environment));
    rejected("$S::/name", 4, Empty(Part::Environment));
    rejected("$S:proj:/name", 8, Empty(Part::Environment));
    rejected("$S:a:b:c/name", 6, ExtraColon);
    rejected("$S::env/", 8, Empty(Part::Name));
    rejected("$S:name/field/extra", 13, ExtraSegment);
    rejected("$secret://", 10, Empty(Part::Environment));
    rejected("$secret:///KEY", 10, Empty(Part::Environment));
    rejected("$secret://env/", 14, Empty(Part::Name));
}

#[test]
fn missing_parts() {
    rejected("$S:@svc", 7, Missing(Part::Name));
    rejected("$S::env", 7, Missing(Part::Name));
    rejected("$S:proj:env", 11, Missing(Part::Name));
    rejected("$S:name:", 8, Empty(Part::Environment));
    rejected("$S:name:x", 9, Missing(Part::Name));
    rejected("$secret://env", 13, Missing(Part::Name));
}

#[test]
fn extra_segments() {
    rejected("$S:@svc/name/field/extra", 18, ExtraSegment);
    rejected("$S::env/name/field/extra", 18, ExtraSegment);
    rejected("$S:p:e/name/field/", 17, ExtraSegment);
    rejected("$secret://env/KEY/field/extra", 23, ExtraSegment);
    rejected("$S:@svc/name/", 13, Empty(Part::Field));
    rejected("$S::env/name/", 13, Empty(Part::Field));
    rejected("$secret://env/KEY/", 18, Empty(Part::Field));
    rejected("$S:name//field", 8, Empty(Part::Field));
}

#[test]
fn misplaced_colons_and_ats() {
    let colon = |part| ForbiddenChar { part, ch: ':' };
    let at = |part| ForbiddenChar { part, ch: '@' };
    rejected("$S::env:x/name", 7, ExtraColon);
    rejected("$S:@svc:x/name", 7, colon(Part::Service));
    rejected("$S:@svc/na:me", 10, colon(Part::Name));
    rejected("$S:name/fi:eld", 10, colon(Part::Field));
    rejected("$S:a/b:c", 6, colon(Part::Field));
    rejected("$S:p:e/n:x", 8, colon(Part::Name));
    rejected("$secret://a:b/KEY", 11, colon(Part::Environment));
    rejected("$secret://env/KE:Y", 16, colon(Part::Name));
    rejected("$secret://env/KEY/f:g", 19, colon(Part::Field));
    rejected("$S:@@svc/name", 4, at(Part::Service));
    rejected("$S:a@b", 4, at(Part::Name));
    rejected("$S:@svc/@name", 8, at(Part::Name));
    rejected("$S::@env/name", 4, at(Part::Environment));
    rejected("$S:@p:e/name", 5, colon(Part::Service));
    rejected("$S:p@:e/name", 4, at(Part::Project));
    rejected("$secret://@env/KEY", 10, at(Part::Environment));
}

#[test]
fn dollar_signs() {
    let dollar = |part| ForbiddenChar { part, ch: '$' };
    rejected("$S:$S:x", 3, dollar(Part::Project));
    rejected("$S:$x", 3, dollar(Part::Name));
    rejected("$S:a$b", 4, dollar(Part::Name));
    rejected("$S:@$svc/x", 4, dollar(Part::Service));
    rejected("$S:n/$f", 5, dollar(Part::Field));
    rejected("$S:$p:e/n", 3, dollar(Part::Project));
    rejected("$S::$e/n", 4, dollar(Part::Environment));
    rejected("$secret://$secret://e/K", 10, dollar(Part::Environment));
    rejected("$secret://e/${KEY}", 12, dollar(Part::Name));
}

#[test]
fn dot_parts() {
    rejected("$S:.", 3, DotPart(Part::Name));
    rejected("$S:..", 3, DotPart(Part::Name));
    rejected("$S:n/..", 5, DotPart(Part::Field));
    rejected("$S:@../n", 4, DotPart(Part::Service));
    rejected("$S:..:e/n", 3, DotPart(Part::Project));
    rejected("$S::./n", 4, DotPart(Part::Environment));
    rejected("$secret://../KEY", 10, DotPart(Part::Environment));
    rejected("$secret://e/./f", 12, DotPart(Part::Name));
}

#[test]
fn messages_say_why_without_echoing_the_input() {
    let cases = [
        ("$S:@svc/", "the secret name is empty"),
        ("$S:@svc", "the secret name is missing"),
        ("$S:a$b", "`$` is not allowed in the secret name"),
        ("$S:a:b:c/n", "second `:`"),
        ("$S:n/f/x", "at most one field"),
        ("$S:..", "may not be `.` or `..`"),
        (
            "$S:top secret",
            "whitespace U+0020 is not allowed in the secret name",
        ),
        ("$S:a\u{0}b", "control character U+0000"),
        ("$S:a\u{200B}b", "invisible character U+200B"),
    ];
    for (text, needle) in cases {
        let msg = SecretRef::try_parse(text).unwrap_err().to_string();
        assert!(msg.contains(needle), "{text:?}: {msg}");
        assert!(
            msg.starts_with("malformed secret reference at byte "),
            "{msg}"
        );
    }
    // The parts around the problem never appear in the message.
    let msg = SecretRef::try_parse("$S:hunter2 is-my-password")
        .unwrap_err()
        .to_string();
    assert!(
        !msg.contains("hunter2") && !msg.contains("password"),
        "{msg}"
    );
    let msg = SecretRef::try_parse("not a reference")
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg,
        "not a secret reference: it starts with neither `$S:` nor `$secret://`"
    );
}
