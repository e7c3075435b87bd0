//! The serde shape of `SecretRef`: the original field names, `None` fields skipped, old JSON
//! still readable, the syntax marker never serialised.

use serde_json::json;
use zlayer_secrets_ref::{SecretRef, Syntax};

#[test]
fn original_json_shape() {
    let r = SecretRef::parse("$S:shop:prod/db/password").unwrap();
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({"name": "db", "project": "shop", "environment": "prod", "field": "password"})
    );
    let r = SecretRef::parse("$S:@api/db").unwrap();
    assert_eq!(
        serde_json::to_string(&r).unwrap(),
        r#"{"name":"db","service":"api"}"#
    );
}

#[test]
fn none_fields_are_skipped() {
    let r = SecretRef::parse("$S:db").unwrap();
    assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"name":"db"}"#);
}

#[test]
fn syntax_marker_is_not_serialised() {
    let url = SecretRef::parse("$secret://prod/KEY").unwrap();
    assert_eq!(url.syntax(), Syntax::Url);
    let text = serde_json::to_string(&url).unwrap();
    assert_eq!(text, r#"{"name":"KEY","environment":"prod"}"#);
    let back: SecretRef = serde_json::from_str(&text).unwrap();
    assert_eq!(back, url, "equal values");
    assert_eq!(back.syntax(), Syntax::Short);
    assert_eq!(back.to_string(), "$S::prod/KEY");
}

#[test]
fn old_json_without_project_or_environment() {
    let r: SecretRef =
        serde_json::from_str(r#"{"name":"db","service":"api","field":"password"}"#).unwrap();
    assert_eq!(
        r,
        SecretRef::for_service("api", "db").with_field("password")
    );
    let r: SecretRef = serde_json::from_str(r#"{"name":"db"}"#).unwrap();
    assert_eq!(r, SecretRef::new("db"));
    assert!(r.service.is_none() && r.project.is_none());
    assert!(r.environment.is_none() && r.field.is_none());
}

#[test]
fn json_round_trip_of_every_form() {
    for text in [
        "$S:db",
        "$S:db/f",
        "$S:@api/db",
        "$S:@api/db/f",
        "$S::prod/db",
        "$S::prod/db/f",
        "$S:shop:prod/db",
        "$S:shop:prod/db/f",
        "$secret://prod/KEY",
        "$secret://prod/KEY/f",
    ] {
        let r = SecretRef::parse(text).unwrap();
        let back: SecretRef = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r, "{text}");
    }
}

#[test]
fn name_is_required() {
    assert!(serde_json::from_str::<SecretRef>(r#"{"service":"api"}"#).is_err());
}
