//! Every accepted form of design §3, with its fields and its round trip.

use zlayer_secrets_ref::{SecretRef, Syntax};

fn parsed(text: &str) -> SecretRef {
    let r = SecretRef::parse(text).unwrap_or_else(|| panic!("{text:?} should parse"));
    assert_eq!(r.to_string(), text, "display of {text:?}");
    assert_eq!(SecretRef::try_parse(text).unwrap(), r);
    assert_eq!(text.parse::<SecretRef>().unwrap(), r);
    assert!(SecretRef::looks_like_reference(text));
    r
}

fn parts(r: &SecretRef) -> [Option<&str>; 5] {
    [
        Some(r.name.as_str()),
        r.service.as_deref(),
        r.project.as_deref(),
        r.environment.as_deref(),
        r.field.as_deref(),
    ]
}

#[test]
fn deployment_level() {
    let r = parsed("$S:db-password");
    assert_eq!(parts(&r), [Some("db-password"), None, None, None, None]);
    assert!(r.is_deployment_level());
    assert!(!r.is_service_level() && !r.is_environment_level() && !r.has_field());
    assert_eq!(r, SecretRef::new("db-password"));
    assert_eq!(r.syntax(), Syntax::Short);
}

#[test]
fn deployment_level_with_field() {
    let r = parsed("$S:db/password");
    assert_eq!(parts(&r), [Some("db"), None, None, None, Some("password")]);
    assert!(r.is_deployment_level() && r.has_field());
    assert_eq!(r, SecretRef::new("db").with_field("password"));
}

#[test]
fn service_scoped() {
    let r = parsed("$S:@api/db");
    assert_eq!(parts(&r), [Some("db"), Some("api"), None, None, None]);
    assert!(r.is_service_level() && !r.is_deployment_level() && !r.is_environment_level());
    assert_eq!(r, SecretRef::for_service("api", "db"));

    let r = parsed("$S:@api/db/password");
    assert_eq!(
        parts(&r),
        [Some("db"), Some("api"), None, None, Some("password")]
    );
    assert_eq!(
        r,
        SecretRef::for_service("api", "db").with_field("password")
    );
}

#[test]
fn environment_scoped() {
    let r = parsed("$S::staging/db");
    assert_eq!(parts(&r), [Some("db"), None, None, Some("staging"), None]);
    assert!(r.is_environment_level() && !r.is_project_environment_level());
    assert!(!r.is_deployment_level() && !r.is_service_level());
    assert_eq!(r, SecretRef::for_environment("staging", "db"));

    let r = parsed("$S::staging/db/password");
    assert_eq!(
        parts(&r),
        [Some("db"), None, None, Some("staging"), Some("password")]
    );
}

#[test]
fn project_environment_scoped() {
    let r = parsed("$S:shop:prod/db");
    assert_eq!(
        parts(&r),
        [Some("db"), None, Some("shop"), Some("prod"), None]
    );
    assert!(r.is_environment_level() && r.is_project_environment_level());
    assert_eq!(r, SecretRef::for_project_environment("shop", "prod", "db"));

    let r = parsed("$S:shop:prod/db/api_key");
    assert_eq!(
        parts(&r),
        [
            Some("db"),
            None,
            Some("shop"),
            Some("prod"),
            Some("api_key")
        ]
    );
}

#[test]
fn url_form() {
    let r = parsed("$secret://prod/API_KEY");
    assert_eq!(parts(&r), [Some("API_KEY"), None, None, Some("prod"), None]);
    assert!(r.is_environment_level() && !r.is_project_environment_level());
    assert_eq!(r.syntax(), Syntax::Url);

    let r = parsed("$secret://prod/API_KEY/token");
    assert_eq!(
        parts(&r),
        [Some("API_KEY"), None, None, Some("prod"), Some("token")]
    );
    assert_eq!(r.syntax(), Syntax::Url);
}

#[test]
fn url_form_equals_short_environment_form() {
    let url = SecretRef::parse("$secret://prod/KEY/f").unwrap();
    let short = SecretRef::parse("$S::prod/KEY/f").unwrap();
    assert_eq!(url, short, "the syntax marker is not part of equality");
    assert_eq!(url.to_string(), "$secret://prod/KEY/f");
    assert_eq!(short.to_string(), "$S::prod/KEY/f");

    let mut set = std::collections::HashSet::new();
    set.insert(url);
    assert!(set.contains(&short), "hashing agrees with equality");
}

#[test]
fn syntax_follows_the_shape() {
    let url = SecretRef::for_environment("prod", "KEY").with_syntax(Syntax::Url);
    assert_eq!(url.to_string(), "$secret://prod/KEY");

    // A URL-parsed value whose fields are changed to a shape the URL form cannot write
    // falls back to the `$S:` syntax, and still round-trips.
    let mut r = SecretRef::parse("$secret://prod/KEY").unwrap();
    r.project = Some("shop".into());
    assert_eq!(r.syntax(), Syntax::Short);
    assert_eq!(r.to_string(), "$S:shop:prod/KEY");
    assert_eq!(SecretRef::parse(&r.to_string()), Some(r));

    // Asking for the URL form on a shape it cannot write has no effect.
    for r in [
        SecretRef::new("n"),
        SecretRef::for_service("s", "n"),
        SecretRef::for_project_environment("p", "e", "n"),
    ] {
        let shown = r.to_string();
        let asked = r.with_syntax(Syntax::Url);
        assert_eq!(asked.syntax(), Syntax::Short);
        assert_eq!(asked.to_string(), shown);
    }
}

#[test]
fn punctuation_and_unicode_parts() {
    for text in [
        "$S:db.password",
        "$S:db_password-2",
        "$S:a+b%c#d=e,f!g~h",
        "$S:...",
        "$S:.hidden/.f",
        "$S:clé-ünïcode",
        "$S:@sérvice/名前/フィールド",
        "$S:πρότζεκτ:прод/ключ",
        "$secret://среда/КЛЮЧ/поле",
        "$S:emoji-🔑",
        "$S:\"quoted\"/'single'",
        "$S:back\\slash",
    ] {
        parsed(text);
    }
}

#[test]
fn longest_parts() {
    let long = "n".repeat(zlayer_secrets_ref::MAX_PART_LEN);
    for text in [
        format!("$S:{long}"),
        format!("$S:{long}/{long}"),
        format!("$S:@{long}/{long}/{long}"),
        format!("$S:{long}:{long}/{long}/{long}"),
        format!("$secret://{long}/{long}/{long}"),
    ] {
        parsed(&text);
    }
    // The limit is in bytes: 128 two-byte characters fit, 129 do not.
    let wide = "é".repeat(zlayer_secrets_ref::MAX_PART_LEN / 2);
    parsed(&format!("$S:{wide}"));
    assert!(SecretRef::parse(&format!("$S:{wide}é")).is_none());
}

#[test]
fn original_helpers() {
    assert!(SecretRef::is_secret_ref("$S:my-secret"));
    assert!(SecretRef::is_secret_ref("$S:@service/secret"));
    assert!(
        SecretRef::is_secret_ref("$S:"),
        "a prefix check, not a parse"
    );
    assert!(!SecretRef::is_secret_ref("my-secret"));
    assert!(!SecretRef::is_secret_ref("S:my-secret"));
    assert!(!SecretRef::is_secret_ref("$:my-secret"));
    assert!(!SecretRef::is_secret_ref("$secret://prod/KEY"));
    assert_eq!(SecretRef::PREFIX, "$S:");
    assert_eq!(SecretRef::URL_PREFIX, "$secret://");
}

#[test]
fn looks_like_reference() {
    for yes in [
        "$S:",
        "$S:x",
        "$S: broken",
        "$secret://",
        "$secret://x/y",
        "$secret:///",
    ] {
        assert!(SecretRef::looks_like_reference(yes), "{yes:?}");
    }
    for no in [
        "",
        "plain",
        "$s:x",
        "$SECRET://x/y",
        "$secret:/x/y",
        "$secret:x",
        " $S:x",
        "S:x",
        "$",
        "$S",
        "prefix $S:x",
    ] {
        assert!(!SecretRef::looks_like_reference(no), "{no:?}");
        let err = SecretRef::try_parse(no).unwrap_err();
        assert!(err.is_not_a_reference(), "{no:?}: {err}");
        assert_eq!(err.offset(), 0);
    }
}
