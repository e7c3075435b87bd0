//! Unit tests of the wire format: string decoding, bodies, reads, metadata.

use std::fmt::Write as _;

use super::*;

#[test]
fn decodes_what_serde_json_encodes() {
    for s in [
        "",
        "plain",
        "line\nbreak\r\n\ttab",
        "quote \" backslash \\ slash /",
        "ünïcödé ✓ 🦀 \u{2028}",
        "\u{0}\u{1f}\u{7f}",
        "<html>&amp;</html>",
    ] {
        let literal = serde_json::to_string(s).unwrap();
        assert_eq!(decode_json_string(&literal).unwrap().expose(), s, "{s:?}");
    }
}

#[test]
fn decodes_escapes_go_writes() {
    let literal = r#""\u003chtml\u003e \u0026 \ud83e\udd80 \u00e9 \/""#;
    assert_eq!(
        decode_json_string(literal).unwrap().expose(),
        "<html> & 🦀 é /"
    );
}

/// A JSON string literal with every character outside printable ASCII written as
/// `\uXXXX` (surrogate pairs beyond the BMP), as some encoders do.
fn ascii_literal(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0_u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(out, "\\u{unit:04x}").unwrap();
                }
            }
        }
    }
    out.push('"');
    out
}

proptest::proptest! {
    #[test]
    fn decoding_inverts_encoding(s in "\\PC*|[\\x00-\\x7f]*|.*") {
        for literal in [serde_json::to_string(&s).unwrap(), ascii_literal(&s)] {
            let decoded = decode_json_string(&literal).unwrap();
            proptest::prop_assert_eq!(decoded.expose(), s.as_str(), "{}", literal);
        }
    }
}

#[test]
fn rejects_broken_literals() {
    for bad in [
        "",
        "\"",
        "unquoted",
        r#""\x""#,
        r#""\u12""#,
        r#""\ud83e""#,
        r#""\ud83e\u0041""#,
        r#""\udd80""#,
        r#""trailing\""#,
    ] {
        assert!(decode_json_string(bad).is_none(), "{bad}");
    }
}

#[test]
fn write_body_shape() {
    let buf = write_body(&Secret::new("a\"b\nc"), None, Some(3)).unwrap();
    let v: serde_json::Value = serde_json::from_slice(buf.as_slice()).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"data": {"value": "a\"b\nc"}, "options": {"cas": 3}})
    );
    let buf = write_body(&Secret::new("x"), None, None).unwrap();
    assert_eq!(buf.as_slice(), br#"{"data":{"value":"x"}}"#);
}

#[test]
fn write_body_keeps_other_fields_as_sent() {
    let kept = br#"{"value":"old","port":5432,"tls":{"on":true},"note":"\u003cb\u003e"}"#;
    let buf = write_body(&Secret::new("new"), Some(kept), Some(7)).unwrap();
    let text = std::str::from_utf8(buf.as_slice()).unwrap();
    assert!(!text.contains("old"), "{text}");
    // Other fields are copied byte for byte, escapes included.
    assert!(text.contains(r#""note":"\u003cb\u003e""#), "{text}");
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "data": {"value": "new", "port": 5432, "tls": {"on": true}, "note": "<b>"},
            "options": {"cas": 7},
        })
    );
    assert!(write_body(&Secret::new("x"), Some(b"[1]"), None).is_err());
}

#[test]
fn raw_write_body_copies_the_fields() {
    let buf = raw_write_body(br#"{"value":null,"a":"b"}"#, 0).unwrap();
    assert_eq!(
        buf.as_slice(),
        br#"{"data":{"value":null,"a":"b"},"options":{"cas":0}}"#
    );
}

#[test]
fn current_versions() {
    let live = br#"{"data":{"data":{"value":"v","x":1},"metadata":{"version":4,"deletion_time":"","destroyed":false}}}"#;
    let Current::Live { version, fields } = read_current(live, true).unwrap() else {
        panic!("live");
    };
    assert_eq!(version, 4);
    assert_eq!(fields.as_slice(), br#"{"value":"v","x":1}"#);
    let deleted = br#"{"data":{"data":null,"metadata":{"version":5,"deletion_time":"2020-01-01T00:00:00Z","destroyed":false}}}"#;
    assert!(matches!(
        read_current(deleted, false).unwrap(),
        Current::Gone {
            version: 5,
            state: VersionState::Deleted
        }
    ));
    let destroyed =
        br#"{"data":{"data":null,"metadata":{"version":6,"deletion_time":"","destroyed":true}}}"#;
    assert!(matches!(
        read_current(destroyed, false).unwrap(),
        Current::Gone {
            version: 6,
            state: VersionState::Destroyed
        }
    ));
    assert!(matches!(
        read_current(br#"{"errors":[]}"#, false).unwrap(),
        Current::Absent
    ));
    assert!(read_current(b"not json", true).is_err());
    assert!(read_current(br#"{"data":{"data":"s3cr3t"}}"#, true).is_err());
}

#[test]
fn secret_buf_grows() {
    let mut buf = SecretBuf::with_capacity(2);
    for _ in 0..100 {
        buf.extend(b"abc");
    }
    assert_eq!(buf.as_slice().len(), 300);
    assert_eq!(&buf.as_slice()[..6], b"abcabc");
}

fn malformed(e: ReadError) -> String {
    match e {
        ReadError::Malformed(why) => why,
        ReadError::NotText(why) => panic!("expected Malformed, got NotText: {why}"),
    }
}

fn not_text(e: ReadError) -> &'static str {
    match e {
        ReadError::NotText(kind) => kind,
        ReadError::Malformed(why) => panic!("expected NotText, got Malformed: {why}"),
    }
}

#[test]
fn read_value_shapes() {
    let ok = br#"{"data":{"data":{"value":"hi\nthere","other":1},"metadata":{}}}"#;
    assert_eq!(read_value(ok).unwrap().expose(), "hi\nthere");
    let deleted = br#"{"data":{"data":null,"metadata":{"deletion_time":"x"}}}"#;
    assert!(malformed(read_value(deleted).err().unwrap()).contains("deleted"));

    // No `value` field: the object of the fields, as sent.
    let foreign = br#"{"data":{"data":{"password":"s3cr3t","user":"\u003capp\u003e"}}}"#;
    assert_eq!(
        read_value(foreign).unwrap().expose(),
        r#"{"password":"s3cr3t","user":"\u003capp\u003e"}"#
    );

    for (body, kind) in [
        (&br#"{"data":{"data":{"value":12345}}}"#[..], "a number"),
        (br#"{"data":{"data":{"value":null,"x":"s3cr3t"}}}"#, "null"),
        (br#"{"data":{"data":{"value":true}}}"#, "a boolean"),
        (br#"{"data":{"data":{"value":["s3cr3t"]}}}"#, "an array"),
        (
            br#"{"data":{"data":{"value":{"k":"s3cr3t"}}}}"#,
            "an object",
        ),
    ] {
        assert_eq!(not_text(read_value(body).err().unwrap()), kind);
    }
    let not_object = br#"{"data":{"data":"s3cr3t-text"}}"#;
    let why = malformed(read_value(not_object).err().unwrap());
    assert!(!why.contains("s3cr3t"), "{why}");
    let broken = br#"{"data":{"data":{"value":"s3cr3t"#;
    let why = malformed(read_value(broken).err().unwrap());
    assert!(!why.contains("s3cr3t"), "{why}");
}

#[test]
fn timestamps() {
    assert_eq!(
        unix_seconds("2018-03-22T02:24:06.945319214Z"),
        1_521_685_446
    );
    assert_eq!(unix_seconds("1970-01-01T00:00:10Z"), 10);
    assert_eq!(unix_seconds(""), 0);
}

#[test]
fn metadata_states() {
    let m: KvMetadata = serde_json::from_str(
        r#"{"created_time":"1970-01-01T00:00:01Z","updated_time":"1970-01-01T00:00:03Z",
            "current_version":3,"versions":{
            "1":{"created_time":"1970-01-01T00:00:01Z","deletion_time":"","destroyed":true},
            "2":{"created_time":"1970-01-01T00:00:02Z","deletion_time":"1970-01-01T00:00:05Z","destroyed":false},
            "3":{"created_time":"1970-01-01T00:00:03Z","deletion_time":"","destroyed":false},
            "10":{"created_time":"1970-01-01T00:00:09Z","deletion_time":"","destroyed":false}}}"#,
    )
    .unwrap();
    assert!(m.is_live());
    assert_eq!(m.state_of(1), Some(VersionState::Destroyed));
    assert_eq!(m.state_of(2), Some(VersionState::Deleted));
    assert_eq!(m.state_of(4), None);
    assert_eq!(m.created_at(2), 2);
    assert_eq!(m.live_versions(), vec![(3, 3), (10, 9)]);
}
