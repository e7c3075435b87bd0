//! Bearer tokens: HS256 JSON Web Tokens (RFC 7519) signed with the server's token key.
//!
//! The header must be exactly `alg: HS256` (`none` and every other algorithm are refused
//! before anything else is read), the signature is checked in constant time, then the
//! claims: issuer `zlayer` (as the original's tokens), an expiry in the future. A token
//! carries the API key it was issued for (`key`), the key's subject (`sub`), roles and
//! groups; the server looks the key up again on every request, so a deleted key's tokens
//! stop working at once.
//!
//! The token key is 32 random bytes in the file [`TOKEN_KEY_FILE`] of the data directory
//! (mode 0600 from its creation, 64 hex digits). Replacing the file (and restarting the
//! server) invalidates every token issued before.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;
use zlayer_secrets_core::{Result, SecretsError};
use zlayer_secrets_crypto::{EncryptionKey, ownership};

/// The token key's file in the data directory.
pub const TOKEN_KEY_FILE: &str = "server_token.key";

/// The issuer written into and required of every token.
pub const ISSUER: &str = "zlayer";

/// The longest token accepted, in bytes (a real one is a few hundred).
const MAX_TOKEN_LEN: usize = 8 * 1024;

/// The claims of a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The subject: the API key's user name.
    pub sub: String,
    /// Expiry, Unix seconds.
    pub exp: u64,
    /// Issued at, Unix seconds.
    pub iat: u64,
    /// Always [`ISSUER`].
    pub iss: String,
    /// The key's roles when the token was issued.
    #[serde(default)]
    pub roles: Vec<String>,
    /// The key's groups when the token was issued.
    #[serde(default)]
    pub groups: Vec<String>,
    /// The API key the token was issued for.
    pub key: String,
}

/// Why a token was refused (the text of the 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not three base64url parts, or parts that are not the JSON they should be.
    Malformed,
    /// Another algorithm than HS256 (`none` included).
    Algorithm,
    /// The signature does not match: another key signed it, or it was altered.
    Signature,
    /// Expired, or issued by someone else.
    Expired,
}

impl Refusal {
    /// The message of the 401.
    #[must_use]
    pub fn message(self) -> &'static str {
        match self {
            Self::Malformed => "the bearer token is malformed",
            Self::Algorithm => "the bearer token is not signed with HS256",
            Self::Signature => "the bearer token's signature is not valid for this server",
            Self::Expired => "the bearer token has expired; ask POST /auth/token for a new one",
        }
    }
}

/// The key that signs and checks tokens. Zeroized on drop; `Debug` shows nothing of it.
pub struct TokenKey {
    key: EncryptionKey,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKey").finish_non_exhaustive()
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    typ: Option<String>,
}

impl TokenKey {
    /// A new random key (not stored).
    pub fn generate() -> Result<Self> {
        Ok(Self {
            key: EncryptionKey::try_generate()?,
        })
    }

    /// The key of `data_dir`'s [`TOKEN_KEY_FILE`], created (mode 0600 from the first byte)
    /// if missing. Returns the key and whether it was created.
    pub fn load_or_create(data_dir: &Path) -> Result<(Self, bool)> {
        ownership::create_private_dir(data_dir, "the data directory")?;
        let path = data_dir.join(TOKEN_KEY_FILE);
        if let Some(key) = Self::load(&path)? {
            return Ok((key, false));
        }
        let key = Self::generate()?;
        // Written to a new private file, then linked into place: a second server starting
        // at the same instant finds either no file or a whole one.
        let tmp = temp_path(&path)?;
        let written = (|| {
            let mut file = ownership::create_private_file(&tmp, "the token key file")?;
            let text = key.key.to_hex();
            file.write_all(text.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| file_error("write", &tmp, &e))
        })();
        let linked = written.and_then(|()| match std::fs::hard_link(&tmp, &path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(file_error("create", &path, &e)),
        });
        let _ = std::fs::remove_file(&tmp);
        if linked? {
            sync_dir(data_dir);
            Ok((key, true))
        } else {
            let key = Self::load(&path)?.ok_or_else(|| SecretsError::InvalidInput {
                what: format!("token key file {}", path.display()),
                reason: "it vanished while it was being created".to_owned(),
            })?;
            Ok((key, false))
        }
    }

    fn load(path: &Path) -> Result<Option<Self>> {
        if std::fs::symlink_metadata(path).is_err() {
            return Ok(None);
        }
        let mut file = ownership::open_private_file(path, "the token key file", false)?;
        let mut text = Zeroizing::new(String::new());
        std::io::Read::by_ref(&mut file)
            .take(256)
            .read_to_string(&mut text)
            .map_err(|e| file_error("read", path, &e))?;
        let bytes = Zeroizing::new(hex::decode(text.trim()).map_err(|_| bad_key_file(path))?);
        if bytes.len() != 32 {
            return Err(bad_key_file(path));
        }
        Ok(Some(Self {
            key: EncryptionKey::from_bytes(&bytes)?,
        }))
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length; 32 bytes can never be refused.
        <Hmac<Sha256> as Mac>::new_from_slice(self.key.as_bytes())
            .expect("HMAC-SHA-256 accepts a 32-byte key")
    }

    /// A token for `claims`' subject, valid for `lifetime` from now.
    pub fn issue(
        &self,
        key: &str,
        subject: &str,
        roles: &[String],
        groups: &[String],
        lifetime: Duration,
    ) -> Result<String> {
        let iat = now();
        let claims = Claims {
            sub: subject.to_owned(),
            exp: iat.saturating_add(lifetime.as_secs()),
            iat,
            iss: ISSUER.to_owned(),
            roles: roles.to_vec(),
            groups: groups.to_vec(),
            key: key.to_owned(),
        };
        self.sign(&claims)
    }

    /// Signs any claims (tests make expired ones with it).
    pub fn sign(&self, claims: &Claims) -> Result<String> {
        let encode = |value: &dyn erased::Json| -> Result<String> {
            Ok(URL_SAFE_NO_PAD.encode(value.to_json()?))
        };
        let header = Header {
            alg: "HS256".to_owned(),
            typ: Some("JWT".to_owned()),
        };
        let mut token = format!("{}.{}", encode(&header)?, encode(claims)?);
        let mut mac = self.mac();
        mac.update(token.as_bytes());
        let signature = mac.finalize().into_bytes();
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature));
        Ok(token)
    }

    /// Checks a token and returns its claims.
    pub fn verify(&self, token: &str) -> std::result::Result<Claims, Refusal> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(Refusal::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Refusal::Malformed);
        };
        let header: Header = decode_json(header)?;
        if header.alg != "HS256" {
            return Err(Refusal::Algorithm);
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| Refusal::Malformed)?;
        let mut mac = self.mac();
        mac.update(&token.as_bytes()[..header_and_payload_len(token)]);
        // `verify_slice` compares in constant time.
        mac.verify_slice(&signature)
            .map_err(|_| Refusal::Signature)?;
        let claims: Claims = decode_json(payload)?;
        if claims.iss != ISSUER || claims.exp <= now() {
            return Err(Refusal::Expired);
        }
        Ok(claims)
    }
}

/// The length of `header.payload` in a token of three parts.
fn header_and_payload_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(0)
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> std::result::Result<T, Refusal> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| Refusal::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| Refusal::Malformed)
}

mod erased {
    use zlayer_secrets_core::{Result, SecretsError};

    /// Serialises to JSON bytes (so one closure encodes header and claims).
    pub(super) trait Json {
        fn to_json(&self) -> Result<Vec<u8>>;
    }

    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> Result<Vec<u8>> {
            serde_json::to_vec(self).map_err(|e| SecretsError::Encryption(e.to_string()))
        }
    }
}

fn temp_path(path: &Path) -> Result<PathBuf> {
    let mut suffix = [0u8; 8];
    zlayer_secrets_crypto::random::fill(&mut suffix)?;
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{}.tmp", hex::encode(suffix)));
    Ok(PathBuf::from(name))
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

fn file_error(verb: &str, path: &Path, e: &std::io::Error) -> SecretsError {
    SecretsError::Storage(format!(
        "cannot {verb} the token key file {}: {e}",
        path.display()
    ))
}

fn bad_key_file(path: &Path) -> SecretsError {
    SecretsError::InvalidInput {
        what: format!("token key file {}", path.display()),
        reason: "it does not hold 64 hex digits; remove it to have the server make a new one \
                 (every token issued so far stops working)"
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: u64) -> Claims {
        Claims {
            sub: "alice".to_owned(),
            exp,
            iat: 0,
            iss: ISSUER.to_owned(),
            roles: vec![],
            groups: vec!["ops".to_owned()],
            key: "zk_1".to_owned(),
        }
    }

    #[test]
    fn tokens_round_trip_and_are_bound_to_their_key() {
        let key = TokenKey::generate().unwrap();
        let token = key
            .issue(
                "zk_1",
                "alice",
                &[],
                &["ops".to_owned()],
                Duration::from_secs(60),
            )
            .unwrap();
        let got = key.verify(&token).unwrap();
        assert_eq!((got.sub.as_str(), got.key.as_str()), ("alice", "zk_1"));
        let other = TokenKey::generate().unwrap();
        assert_eq!(other.verify(&token), Err(Refusal::Signature));
    }

    #[test]
    fn expired_alg_none_and_altered_tokens_are_refused() {
        let key = TokenKey::generate().unwrap();
        assert_eq!(
            key.verify(&key.sign(&claims(1)).unwrap()),
            Err(Refusal::Expired)
        );
        let good = key.sign(&claims(u64::MAX)).unwrap();
        let (_, rest) = good.split_once('.').unwrap();
        let none = format!("{}.{rest}", URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#));
        assert_eq!(key.verify(&none), Err(Refusal::Algorithm));
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            rest.split_once('.').unwrap().0
        );
        assert_eq!(key.verify(&unsigned), Err(Refusal::Algorithm));
        // Another subject under the same signature.
        let mut forged = claims(u64::MAX);
        forged.roles = vec!["admin".to_owned()];
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        let parts: Vec<&str> = good.split('.').collect();
        let swapped = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
        assert_eq!(key.verify(&swapped), Err(Refusal::Signature));
        for bad in ["", "a.b", "a.b.c.d", "!!.!!.!!", &"a".repeat(10_000)] {
            assert!(key.verify(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_key_file_is_private_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (first, created) = TokenKey::load_or_create(dir.path()).unwrap();
        assert!(created);
        let (again, created) = TokenKey::load_or_create(dir.path()).unwrap();
        assert!(!created);
        let token = first.sign(&claims(u64::MAX)).unwrap();
        assert!(again.verify(&token).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(TOKEN_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.path().join(TOKEN_KEY_FILE), "not hex").unwrap();
        let err = TokenKey::load_or_create(dir.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("64 hex digits"), "{err}");
    }
}
