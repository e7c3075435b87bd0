//! The KV v2 wire format: request and response bodies, timestamps, and buffers for plaintext.
//!
//! Secret values cross this module in two directions. Outgoing, a value is serialised straight
//! into a [`SecretBuf`]. Incoming, the whole response body is read into a [`SecretBuf`], the
//! `value` field is located without copying ([`RawValue`]) and its JSON string is decoded
//! into a buffer sized up front. Every buffer this crate owns that held a value is zeroized
//! when dropped; buffers inside the HTTP stack are out of its reach.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use zeroize::Zeroizing;
use zlayer_secrets_core::Secret;

/// A growable byte buffer that zeroizes every allocation it leaves behind.
///
/// `Vec` growth copies into a new allocation and frees the old one as it is; this buffer
/// grows by hand so that the old allocation is wiped first.
pub(crate) struct SecretBuf(Zeroizing<Vec<u8>>);

impl SecretBuf {
    /// An empty buffer with room for `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self(Zeroizing::new(Vec::with_capacity(capacity)))
    }

    /// Appends bytes, moving to a larger zeroizing allocation when needed.
    pub(crate) fn extend(&mut self, data: &[u8]) {
        let needed = self.0.len() + data.len();
        if needed > self.0.capacity() {
            let mut bigger = Zeroizing::new(Vec::with_capacity(needed.max(self.0.capacity() * 2)));
            bigger.extend_from_slice(&self.0);
            // The old allocation is zeroized as it is dropped here.
            self.0 = bigger;
        }
        self.0.extend_from_slice(data);
    }

    /// The bytes written so far.
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// Hands the buffer to the HTTP client as a body; it is zeroized when the client drops it.
    pub(crate) fn into_body(self) -> bytes::Bytes {
        bytes::Bytes::from_owner(self.0)
    }
}

impl std::io::Write for SecretBuf {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.extend(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The body of a write to `data/{path}`: `{"data":{"value":...},"options":{"cas":N}}`.
#[derive(Serialize)]
struct WriteRequest<'a> {
    data: WriteData<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    options: Option<WriteOptions>,
}

#[derive(Serialize)]
struct WriteData<'a> {
    value: &'a str,
}

#[derive(Serialize)]
struct WriteOptions {
    cas: u32,
}

/// Serialises a write of `value`, with check-and-set against version `cas` when given
/// (`Some(0)`: only if the secret does not exist yet).
pub(crate) fn write_body(value: &Secret, cas: Option<u32>) -> Result<SecretBuf, String> {
    let request = WriteRequest {
        data: WriteData {
            value: value.expose(),
        },
        options: cas.map(|cas| WriteOptions { cas }),
    };
    let mut buf = SecretBuf::with_capacity(value.len() + 64);
    serde_json::to_writer(&mut buf, &request).map_err(|e| e.to_string())?;
    Ok(buf)
}

/// The usual response envelope: everything interesting is under `data`.
#[derive(Deserialize)]
pub(crate) struct Envelope<T> {
    pub(crate) data: T,
}

/// `data` of a read of `data/{path}`.
#[derive(Deserialize)]
pub(crate) struct ReadData<'a> {
    #[serde(borrow)]
    data: Option<ValueFields<'a>>,
}

#[derive(Deserialize)]
struct ValueFields<'a> {
    #[serde(borrow)]
    value: Option<&'a RawValue>,
}

/// Extracts the secret from the body of a successful read of `data/{path}`.
///
/// The error says what is wrong with the shape of the data, never what it holds.
pub(crate) fn read_value(body: &[u8]) -> Result<Secret, String> {
    // The parser's message could quote a piece of the body, which may hold the value: it is
    // not shown.
    let envelope: Envelope<ReadData<'_>> = serde_json::from_slice(body)
        .map_err(|_| "the answer is not a KV v2 read response".to_owned())?;
    let fields = envelope
        .data
        .data
        .ok_or("the version holds no data (deleted or destroyed)")?;
    let raw = fields.value.ok_or(
        "the data has no `value` field: it was not written by zlayer-secrets \
         (it must be a JSON object {\"value\": \"...\"})",
    )?;
    decode_json_string(raw.get())
        .ok_or_else(|| "the `value` field is not a valid JSON string".to_owned())
}

/// Decodes a JSON string literal (with its quotes) into a [`Secret`], without any buffer
/// that is not zeroized.
///
/// The decoded text is never longer than the literal, so the output buffer is allocated once.
pub(crate) fn decode_json_string(literal: &str) -> Option<Secret> {
    let inner = literal.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = Zeroizing::new(String::with_capacity(inner.len()));
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let decoded = match chars.next()? {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let first = hex4(&mut chars)?;
                match first {
                    0xD800..=0xDBFF => {
                        if chars.next()? != '\\' || chars.next()? != 'u' {
                            return None;
                        }
                        let second = hex4(&mut chars)?;
                        if !(0xDC00..=0xDFFF).contains(&second) {
                            return None;
                        }
                        char::from_u32(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))?
                    }
                    _ => char::from_u32(first)?,
                }
            }
            _ => return None,
        };
        out.push(decoded);
    }
    Some(Secret::new(std::mem::take(&mut *out)))
}

fn hex4(chars: &mut std::str::Chars<'_>) -> Option<u32> {
    let mut n = 0;
    for _ in 0..4 {
        n = n * 16 + chars.next()?.to_digit(16)?;
    }
    Some(n)
}

/// `data` of a read of `metadata/{path}`.
#[derive(Debug, Deserialize)]
pub(crate) struct KvMetadata {
    #[serde(default)]
    pub(crate) created_time: String,
    #[serde(default)]
    pub(crate) updated_time: String,
    #[serde(default)]
    pub(crate) current_version: u32,
    #[serde(default)]
    pub(crate) versions: BTreeMap<String, KvVersion>,
}

/// One entry of [`KvMetadata::versions`].
#[derive(Debug, Deserialize)]
pub(crate) struct KvVersion {
    #[serde(default)]
    pub(crate) created_time: String,
    #[serde(default)]
    pub(crate) deletion_time: String,
    #[serde(default)]
    pub(crate) destroyed: bool,
}

/// What became of one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VersionState {
    /// Readable.
    Live,
    /// Soft-deleted (`deletion_time` set); it can be undeleted with the Vault tools.
    Deleted,
    /// Destroyed: the data is gone for good.
    Destroyed,
    /// Not in the metadata: never written, or pruned by `max_versions`.
    Unknown,
}

impl VersionState {
    /// Words for an error message.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Deleted => "deleted",
            Self::Destroyed => "destroyed",
            Self::Unknown => "not retained",
        }
    }
}

impl KvVersion {
    fn state(&self) -> VersionState {
        if self.destroyed {
            VersionState::Destroyed
        } else if self.deletion_time.is_empty() {
            VersionState::Live
        } else {
            VersionState::Deleted
        }
    }
}

impl KvMetadata {
    /// The state of `version`.
    pub(crate) fn state_of(&self, version: u32) -> VersionState {
        self.versions
            .get(&version.to_string())
            .map_or(VersionState::Unknown, KvVersion::state)
    }

    /// Whether the current version can be read, that is whether the secret exists.
    pub(crate) fn is_live(&self) -> bool {
        self.current_version > 0 && self.state_of(self.current_version) == VersionState::Live
    }

    /// The readable versions with their creation times, oldest first.
    pub(crate) fn live_versions(&self) -> Vec<(u32, i64)> {
        let mut out: Vec<(u32, i64)> = self
            .versions
            .iter()
            .filter(|(_, v)| v.state() == VersionState::Live)
            .filter_map(|(k, v)| Some((k.parse().ok()?, unix_seconds(&v.created_time))))
            .collect();
        out.sort_unstable();
        out
    }
}

/// `data` of a successful write to `data/{path}`.
#[derive(Deserialize)]
pub(crate) struct WriteResult {
    pub(crate) version: u32,
}

/// `data` of a LIST of `metadata/{path}/`.
#[derive(Deserialize)]
pub(crate) struct KeyList {
    #[serde(default)]
    pub(crate) keys: Vec<String>,
}

/// An error body: `{"errors": ["..."]}`.
#[derive(Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub(crate) errors: Vec<String>,
}

/// An RFC 3339 timestamp as Vault writes it (UTC, `Z`, nanoseconds) in Unix seconds; 0 when
/// absent or unreadable (Vault leaves some times empty).
pub(crate) fn unix_seconds(text: &str) -> i64 {
    humantime::parse_rfc3339_weak(text)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_secs()).ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
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
        let buf = write_body(&Secret::new("a\"b\nc"), Some(3)).unwrap();
        let v: serde_json::Value = serde_json::from_slice(buf.as_slice()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"data": {"value": "a\"b\nc"}, "options": {"cas": 3}})
        );
        let buf = write_body(&Secret::new("x"), None).unwrap();
        assert_eq!(buf.as_slice(), br#"{"data":{"value":"x"}}"#);
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

    #[test]
    fn read_value_shapes() {
        let ok = br#"{"data":{"data":{"value":"hi\nthere","other":1},"metadata":{}}}"#;
        assert_eq!(read_value(ok).unwrap().expose(), "hi\nthere");
        let deleted = br#"{"data":{"data":null,"metadata":{"deletion_time":"x"}}}"#;
        assert!(read_value(deleted).unwrap_err().contains("deleted"));
        let foreign = br#"{"data":{"data":{"password":"s3cr3t"}}}"#;
        let err = read_value(foreign).unwrap_err();
        assert!(err.contains("no `value` field"), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
        let number = br#"{"data":{"data":{"value":12345}}}"#;
        let err = read_value(number).unwrap_err();
        assert!(!err.contains("12345"), "{err}");
        let not_object = br#"{"data":{"data":"s3cr3t-text"}}"#;
        let err = read_value(not_object).unwrap_err();
        assert!(!err.contains("s3cr3t"), "{err}");
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
        assert_eq!(m.state_of(1), VersionState::Destroyed);
        assert_eq!(m.state_of(2), VersionState::Deleted);
        assert_eq!(m.state_of(4), VersionState::Unknown);
        assert_eq!(m.live_versions(), vec![(3, 3), (10, 9)]);
    }
}
