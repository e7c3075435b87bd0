//! The KV v2 wire format: request and response bodies, timestamps, and buffers for plaintext.
//!
//! Secret values cross this module in two directions. Outgoing, a value is serialised straight
//! into a [`SecretBuf`]. Incoming, the whole response body is read into a [`SecretBuf`], the
//! `value` field is located without copying ([`RawValue`]) and its JSON string is decoded
//! into a buffer sized up front. The other fields of a secret (which other tools may have
//! written, and which a write keeps) are only ever handled as [`RawValue`] slices of such a
//! buffer, or copied whole into another; only field names are parsed into plain strings.
//! Every buffer this crate owns that held a value is zeroized when dropped; buffers inside
//! the HTTP stack are out of its reach.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use zeroize::Zeroizing;
use zlayer_secrets_core::{Secret, VersionState};

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

/// The body of a write to `data/{path}`: `{"data":{...},"options":{"cas":N}}`.
#[derive(Serialize)]
struct WriteRequest<D> {
    data: D,
    #[serde(skip_serializing_if = "Option::is_none")]
    options: Option<WriteOptions>,
}

#[derive(Serialize)]
struct WriteOptions {
    cas: u32,
}

/// One field of a merged write: kept as the server sent it, or the new value.
#[derive(Serialize)]
#[serde(untagged)]
enum Field<'a> {
    Kept(&'a RawValue),
    New(&'a str),
}

/// Serialises a write of `value` as the `value` field, with check-and-set against version
/// `cas` when given (`Some(0)`: only if the secret does not exist yet).
///
/// `keep` is the JSON object of the fields of the version being replaced (see
/// [`Current`]): every field but `value` is written again unchanged, so that fields other
/// tools wrote survive.
pub(crate) fn write_body(
    value: &Secret,
    keep: Option<&[u8]>,
    cas: Option<u32>,
) -> Result<SecretBuf, String> {
    let kept: BTreeMap<String, &RawValue> = match keep {
        // The parser's message could quote a field: it is not shown.
        Some(fields) => serde_json::from_slice(fields)
            .map_err(|_| "the current version's data is not a JSON object".to_owned())?,
        None => BTreeMap::new(),
    };
    let mut data: BTreeMap<&str, Field<'_>> = kept
        .iter()
        .filter(|(k, _)| k.as_str() != "value")
        .map(|(k, v)| (k.as_str(), Field::Kept(v)))
        .collect();
    data.insert("value", Field::New(value.expose()));
    let request = WriteRequest {
        data,
        options: cas.map(|cas| WriteOptions { cas }),
    };
    let extra = keep.map_or(0, <[u8]>::len);
    let mut buf = SecretBuf::with_capacity(value.len() + extra + 64);
    serde_json::to_writer(&mut buf, &request).map_err(|e| e.to_string())?;
    Ok(buf)
}

/// Serialises a write of exactly the fields in `fields` (a JSON object as [`Current`]
/// holds it), with check-and-set against `cas`: a rollback, or an undo that puts back what
/// a version held.
pub(crate) fn raw_write_body(fields: &[u8], cas: u32) -> Result<SecretBuf, String> {
    let data: &RawValue =
        serde_json::from_slice(fields).map_err(|_| "the saved data is not JSON".to_owned())?;
    let request = WriteRequest {
        data,
        options: Some(WriteOptions { cas }),
    };
    let mut buf = SecretBuf::with_capacity(fields.len() + 64);
    serde_json::to_writer(&mut buf, &request).map_err(|e| e.to_string())?;
    Ok(buf)
}

/// The usual response envelope: everything interesting is under `data`.
#[derive(Deserialize)]
pub(crate) struct Envelope<T> {
    pub(crate) data: T,
}

/// `data` of a read of `data/{path}`: the fields, and the version's metadata (also in the
/// 404 answer for a deleted or destroyed version).
#[derive(Deserialize)]
struct ReadData<'a> {
    #[serde(borrow)]
    data: Option<&'a RawValue>,
    #[serde(default)]
    metadata: Option<ReadMetadata>,
}

/// `data.metadata` of a read of `data/{path}`.
#[derive(Deserialize)]
struct ReadMetadata {
    #[serde(default)]
    version: u32,
    #[serde(default)]
    deletion_time: String,
    #[serde(default)]
    destroyed: bool,
}

impl ReadMetadata {
    /// What became of a version that could not be read: deleted unless destroyed.
    fn gone_state(&self) -> VersionState {
        match version_state(&self.deletion_time, self.destroyed) {
            VersionState::Live => VersionState::Deleted,
            other => other,
        }
    }
}

/// The state of a version from its metadata fields.
fn version_state(deletion_time: &str, destroyed: bool) -> VersionState {
    if destroyed {
        VersionState::Destroyed
    } else if deletion_time.is_empty() {
        VersionState::Live
    } else {
        VersionState::Deleted
    }
}

/// Why the body of a read holds no usable value.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The answer is not what KV v2 sends.
    Malformed(String),
    /// The version holds data, but no text: its `value` field is of another JSON kind
    /// (`null`, `a number`, ...).
    NotText(&'static str),
}

/// A version of a secret as read before a write, or for a rollback.
pub(crate) enum Current {
    /// Nothing was ever written (or everything was deleted, metadata included).
    Absent,
    /// Version `version` exists but was deleted or destroyed.
    Gone {
        /// Which version.
        version: u32,
        /// Deleted or destroyed.
        state: VersionState,
    },
    /// Version `version` holds `fields`: the JSON object of its data, exactly as the server
    /// sent it, in a zeroizing buffer.
    Live {
        /// Which version.
        version: u32,
        /// `{"value": "...", ...}`, or whatever fields another tool wrote.
        fields: SecretBuf,
    },
}

impl Current {
    /// The version to check-and-set against when replacing this one: 0 when absent.
    pub(crate) fn version(&self) -> u32 {
        match self {
            Self::Absent => 0,
            Self::Gone { version, .. } | Self::Live { version, .. } => *version,
        }
    }

    /// The fields to keep when writing over this version.
    pub(crate) fn fields(&self) -> Option<&[u8]> {
        match self {
            Self::Live { fields, .. } => Some(fields.as_slice()),
            Self::Absent | Self::Gone { .. } => None,
        }
    }
}

/// Reads the body of an answer to a read of `data/{path}`: a 200 (`found`) or a 404.
pub(crate) fn read_current(body: &[u8], found: bool) -> Result<Current, String> {
    if !found {
        // A 404 names the version it is about when that version was deleted or
        // destroyed; for a secret that was never written it holds only `errors`.
        let gone = serde_json::from_slice::<Envelope<ReadData<'_>>>(body)
            .ok()
            .and_then(|e| e.data.metadata)
            .filter(|m| m.version > 0);
        return Ok(match gone {
            Some(m) => Current::Gone {
                version: m.version,
                state: m.gone_state(),
            },
            None => Current::Absent,
        });
    }
    let envelope: Envelope<ReadData<'_>> = serde_json::from_slice(body)
        .map_err(|_| "the answer is not a KV v2 read response".to_owned())?;
    let version = envelope.data.metadata.as_ref().map_or(0, |m| m.version);
    match envelope.data.data {
        Some(raw) if raw.get().starts_with('{') => {
            let mut fields = SecretBuf::with_capacity(raw.get().len());
            fields.extend(raw.get().as_bytes());
            Ok(Current::Live { version, fields })
        }
        Some(raw) if raw.get() != "null" => {
            Err("the version's data is not a JSON object".to_owned())
        }
        _ => Ok(Current::Gone {
            version,
            state: envelope
                .data
                .metadata
                .as_ref()
                .map_or(VersionState::Deleted, ReadMetadata::gone_state),
        }),
    }
}

/// Extracts the secret from the body of a successful read of `data/{path}`.
///
/// - A `value` field that is a string is the secret (other fields are left out).
/// - Without a `value` field, the secret is the JSON object of all the fields, exactly as
///   the server sent it (`{"password":"...","username":"app"}`), so that `$S:name/field`
///   references read single fields.
/// - A `value` field of another kind (`null`, a number, ...) is [`ReadError::NotText`].
///
/// The error says what is wrong with the shape of the data, never what it holds.
pub(crate) fn read_value(body: &[u8]) -> Result<Secret, ReadError> {
    // The parser's message could quote a piece of the body, which may hold the value: it is
    // not shown.
    let envelope: Envelope<ReadData<'_>> = serde_json::from_slice(body)
        .map_err(|_| ReadError::Malformed("the answer is not a KV v2 read response".to_owned()))?;
    let raw = envelope
        .data
        .data
        .filter(|raw| raw.get() != "null")
        .ok_or_else(|| {
            ReadError::Malformed("the version holds no data (deleted or destroyed)".to_owned())
        })?;
    let fields: BTreeMap<String, &RawValue> = serde_json::from_str(raw.get())
        .map_err(|_| ReadError::Malformed("the version's data is not a JSON object".to_owned()))?;
    let Some(value) = fields.get("value") else {
        // Moved into the `Secret`, which zeroizes it: no other copy is made.
        return Ok(Secret::new(raw.get().to_owned()));
    };
    let literal = value.get();
    if literal.starts_with('"') {
        return decode_json_string(literal).ok_or_else(|| {
            ReadError::Malformed("the `value` field is not a valid JSON string".to_owned())
        });
    }
    Err(ReadError::NotText(json_kind(literal)))
}

/// The kind of a JSON text, by its first character: `null`, `a number`, ...
fn json_kind(literal: &str) -> &'static str {
    match literal.as_bytes().first() {
        Some(b'n') => "null",
        Some(b't' | b'f') => "a boolean",
        Some(b'[') => "an array",
        Some(b'{') => "an object",
        Some(b'"') => "a string",
        _ => "a number",
    }
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

impl KvVersion {
    fn state(&self) -> VersionState {
        version_state(&self.deletion_time, self.destroyed)
    }
}

impl KvMetadata {
    /// The state of `version`; `None` when it is not in the metadata (never written, or
    /// pruned by `max_versions`).
    pub(crate) fn state_of(&self, version: u32) -> Option<VersionState> {
        self.versions
            .get(&version.to_string())
            .map(KvVersion::state)
    }

    /// When `version` was written (Unix seconds; 0 when not known).
    pub(crate) fn created_at(&self, version: u32) -> i64 {
        self.versions
            .get(&version.to_string())
            .map_or(0, |v| unix_seconds(&v.created_time))
    }

    /// Whether the current version can be read, that is whether the secret exists.
    pub(crate) fn is_live(&self) -> bool {
        self.current_version > 0 && self.state_of(self.current_version) == Some(VersionState::Live)
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

/// Words for a version's state in an error message; `None` is a version not retained.
pub(crate) fn describe(state: Option<VersionState>) -> &'static str {
    state.map_or("not retained", VersionState::as_str)
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

/// `data` of `GET sys/internal/ui/mounts/{path}`: the engine mounted at or above `path`.
#[derive(Deserialize)]
pub(crate) struct MountInfo {
    /// The engine's type: `kv`, `generic`, `transit`, ...
    #[serde(rename = "type", default)]
    pub(crate) kind: String,
    /// Where it is mounted, with a trailing `/`, relative to the namespace.
    #[serde(default)]
    pub(crate) path: String,
    #[serde(default)]
    options: Option<MountOptions>,
}

#[derive(Deserialize)]
struct MountOptions {
    #[serde(default)]
    version: Option<String>,
}

impl MountInfo {
    /// The `version` option of a KV engine (`"1"`, `"2"`), if set.
    pub(crate) fn version(&self) -> Option<&str> {
        self.options.as_ref()?.version.as_deref()
    }
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
mod tests;
