//! [`EncryptionKey`]: a 256-bit XChaCha20-Poly1305 key, its sealed-box format and its
//! Argon2id derivation from a password.
//!
//! A sealed box is `nonce (24 bytes) || ciphertext (as long as the plaintext) || tag (16
//! bytes)`. The nonce is drawn from the operating system for every call, so one key can seal
//! about 2^80 values before a nonce repeats with any real probability.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{KeyInit, Tag, XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;
use zlayer_secrets_core::{Result, SecretsError};

use crate::random;

/// Size of a key in bytes.
pub const KEY_SIZE: usize = 32;

/// Size of the XChaCha20-Poly1305 nonce at the start of every sealed box, in bytes.
pub const NONCE_SIZE: usize = 24;

/// Size of the Poly1305 tag at the end of every sealed box, in bytes.
pub const TAG_SIZE: usize = 16;

/// How many bytes a sealed box is longer than its plaintext (`NONCE_SIZE + TAG_SIZE`).
pub const OVERHEAD: usize = NONCE_SIZE + TAG_SIZE;

/// Argon2id memory cost in KiB (19 MiB, OWASP's minimum for Argon2id).
pub const ARGON2_MEMORY_KIB: u32 = 19 * 1024;

/// Argon2id number of passes over memory (OWASP's minimum at 19 MiB).
pub const ARGON2_ITERATIONS: u32 = 2;

/// Argon2id degree of parallelism.
pub const ARGON2_PARALLELISM: u32 = 1;

/// The shortest salt [`EncryptionKey::derive_from_password`] accepts, in bytes (Argon2's floor).
pub const MIN_SALT_LEN: usize = argon2::MIN_SALT_LEN;

/// Length of the salts [`generate_salt`] returns, in bytes.
pub const SALT_LEN: usize = 16;

/// The one error every failed decryption returns, whichever check failed.
const DECRYPTION_FAILED: &str = "the data cannot be opened with this key: wrong key, wrong \
     associated data, or the data was truncated or altered";

/// Domain separation for [`EncryptionKey::fingerprint`], so the fingerprint is not a hash that
/// any other protocol computes over the same key.
const FINGERPRINT_DOMAIN: &[u8] = b"zlayer-secrets key fingerprint v1\0";

/// A 256-bit XChaCha20-Poly1305 key.
///
/// The bytes live in [`Zeroizing`] and are wiped when the key is dropped. `Debug` prints only
/// the [fingerprint](Self::fingerprint); there is no `Display`. Equality is constant-time.
#[derive(Clone)]
pub struct EncryptionKey {
    key: Zeroizing<[u8; KEY_SIZE]>,
}

impl EncryptionKey {
    /// Generates a random key from the operating system's random number generator.
    ///
    /// Panics only if the operating system cannot supply randomness at all (see
    /// [`try_generate`](Self::try_generate) for a fallible version).
    #[must_use]
    pub fn generate() -> Self {
        Self::try_generate().expect("the operating system's random number generator failed")
    }

    /// Generates a random key, returning an error if the operating system cannot supply
    /// randomness.
    pub fn try_generate() -> Result<Self> {
        let mut key = Zeroizing::new([0u8; KEY_SIZE]);
        random::fill(key.as_mut())?;
        Ok(Self { key })
    }

    /// Makes a key of exactly [`KEY_SIZE`] raw bytes.
    ///
    /// Any other length is a [`SecretsError::Encryption`] that says which length was given.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let array: &[u8; KEY_SIZE] = bytes.try_into().map_err(|_| {
            SecretsError::Encryption(format!(
                "invalid key length: expected {KEY_SIZE} bytes, got {}",
                bytes.len()
            ))
        })?;
        Ok(Self {
            key: Zeroizing::new(*array),
        })
    }

    /// Derives a key from a password with Argon2id (version 0x13, m = 19456 KiB, t = 2, p = 1).
    ///
    /// The same password and salt always give the same key. The salt must be at least
    /// [`MIN_SALT_LEN`] bytes and should be [`SALT_LEN`] random bytes from [`generate_salt`],
    /// stored beside whatever the key protects.
    pub fn derive_from_password(password: &str, salt: &[u8]) -> Result<Self> {
        if salt.len() < MIN_SALT_LEN {
            return Err(SecretsError::Encryption(format!(
                "key derivation needs a salt of at least {MIN_SALT_LEN} bytes, got {}",
                salt.len()
            )));
        }
        let mut key = Zeroizing::new([0u8; KEY_SIZE]);
        argon2id()
            .hash_password_into(password.as_bytes(), salt, key.as_mut())
            .map_err(|e| SecretsError::Encryption(format!("key derivation failed: {e}")))?;
        Ok(Self { key })
    }

    /// The raw key bytes.
    ///
    /// Only for persisting the key (a key file) or handing it to another cipher; never log or
    /// print them. To protect one key with another, use [`wrap_key`](Self::wrap_key).
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.key.as_ref()
    }

    /// The key as 64 lowercase hex characters, in a buffer that is wiped on drop.
    #[must_use]
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.key.as_ref()))
    }

    /// A short identifier of this key that is safe to print and to store in clear.
    ///
    /// It is the first 8 bytes, as 16 lowercase hex characters, of
    /// `SHA-256("zlayer-secrets key fingerprint v1\0" || key)`. Two different keys have the
    /// same fingerprint with probability 2^-64; the fingerprint reveals nothing usable about
    /// the key.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(FINGERPRINT_DOMAIN);
        hasher.update(self.key.as_ref());
        let digest = hasher.finalize();
        hex::encode(&digest[..8])
    }

    /// Seals `plaintext` as `nonce (24) || ciphertext || tag (16)` with a fresh random nonce.
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>> {
        self.encrypt_with_aad(plaintext, &[])
    }

    /// Opens a box sealed by [`encrypt`](Self::encrypt), returning the plaintext as a plain
    /// `Vec<u8>`, as the original crate does.
    ///
    /// The caller owns that buffer and must wipe it; prefer
    /// [`decrypt_zeroizing`](Self::decrypt_zeroizing), which returns one that wipes itself
    /// (every crate of this workspace uses that one). Any failure (too short, wrong key,
    /// altered bytes) is the same [`SecretsError::Decryption`], which does not say which
    /// check failed. Never panics.
    pub fn decrypt(&self, sealed: &[u8]) -> Result<Vec<u8>> {
        let mut plaintext = self.decrypt_zeroizing(sealed)?;
        // Moved out, not copied: no second copy of the plaintext is left behind.
        Ok(std::mem::take(&mut *plaintext))
    }

    /// Opens a box sealed by [`encrypt`](Self::encrypt) into a buffer that is wiped when
    /// dropped.
    ///
    /// Fails like [`decrypt`](Self::decrypt). Never panics.
    pub fn decrypt_zeroizing(&self, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        self.decrypt_with_aad(sealed, &[])
    }

    /// Seals `plaintext` bound to the associated data `aad`.
    ///
    /// The associated data is authenticated but neither encrypted nor stored: opening the box
    /// needs the same bytes again. Use it to tie a value to where it lives (for example its
    /// scope, name and version), so a box copied elsewhere does not open.
    pub fn encrypt_with_aad(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_SIZE];
        random::fill(&mut nonce)?;
        let capacity = plaintext.len().checked_add(OVERHEAD).ok_or_else(|| {
            SecretsError::Encryption("the value is too large to encrypt".to_owned())
        })?;
        // Sized up front so the buffer is never reallocated (which would leave a copy of the
        // plaintext behind in freed memory) before it is encrypted in place.
        let mut sealed = Vec::with_capacity(capacity);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(plaintext);
        let tag = self
            .cipher()
            .encrypt_in_place_detached(XNonce::from_slice(&nonce), aad, &mut sealed[NONCE_SIZE..])
            .map_err(|_| {
                SecretsError::Encryption("the value is too large to encrypt".to_owned())
            })?;
        sealed.extend_from_slice(&tag);
        Ok(sealed)
    }

    /// Opens a box sealed by [`encrypt_with_aad`](Self::encrypt_with_aad) with the same `aad`,
    /// into a buffer that is wiped when dropped (the original crate has no associated data,
    /// so this has no plain-`Vec` twin).
    ///
    /// Any failure (too short, wrong key, wrong associated data, altered bytes) is the same
    /// [`SecretsError::Decryption`], which does not say which check failed. Never panics.
    pub fn decrypt_with_aad(&self, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let failed = || SecretsError::Decryption(DECRYPTION_FAILED.to_owned());
        if sealed.len() < OVERHEAD {
            return Err(failed());
        }
        let (nonce, rest) = sealed.split_at(NONCE_SIZE);
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG_SIZE);
        let mut plaintext = Zeroizing::new(ciphertext.to_vec());
        self.cipher()
            .decrypt_in_place_detached(
                XNonce::from_slice(nonce),
                aad,
                &mut plaintext,
                Tag::from_slice(tag),
            )
            .map_err(|_| failed())?;
        Ok(plaintext)
    }

    /// Seals another key's bytes under this key, bound to `aad` (envelope encryption).
    ///
    /// The result is an ordinary sealed box of `KEY_SIZE + OVERHEAD` (72) bytes; open it with
    /// [`unwrap_key`](Self::unwrap_key) and the same `aad`.
    pub fn wrap_key(&self, other: &EncryptionKey, aad: &[u8]) -> Result<Vec<u8>> {
        self.encrypt_with_aad(other.key.as_ref(), aad)
    }

    /// Opens a key sealed by [`wrap_key`](Self::wrap_key).
    ///
    /// Fails with the opaque [`SecretsError::Decryption`] if the box does not open or does not
    /// hold exactly one key.
    pub fn unwrap_key(&self, wrapped: &[u8], aad: &[u8]) -> Result<EncryptionKey> {
        let bytes = self.decrypt_with_aad(wrapped, aad)?;
        Self::from_bytes(&bytes).map_err(|_| SecretsError::Decryption(DECRYPTION_FAILED.to_owned()))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        // The cipher keeps its own copy of the key and wipes it on drop.
        XChaCha20Poly1305::new(self.key.as_ref().into())
    }
}

impl PartialEq for EncryptionKey {
    /// Constant-time comparison of the key bytes.
    fn eq(&self, other: &Self) -> bool {
        self.key.as_ref().ct_eq(other.key.as_ref()).into()
    }
}

impl Eq for EncryptionKey {}

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptionKey")
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

/// Returns [`SALT_LEN`] random bytes for [`EncryptionKey::derive_from_password`].
pub fn generate_salt() -> Result<[u8; SALT_LEN]> {
    let mut salt = [0u8; SALT_LEN];
    random::fill(&mut salt)?;
    Ok(salt)
}

/// Argon2id (version 0x13) with this crate's parameters: m = [`ARGON2_MEMORY_KIB`] KiB,
/// t = [`ARGON2_ITERATIONS`], p = [`ARGON2_PARALLELISM`] and a [`KEY_SIZE`]-byte output.
///
/// The one definition of the parameters: [`EncryptionKey::derive_from_password`] derives
/// keys with it, and the API-key hashes of `zlayer-secrets-credentials` are made with it.
#[must_use]
pub fn argon2id() -> Argon2<'static> {
    let params = Params::new(
        ARGON2_MEMORY_KIB,
        ARGON2_ITERATIONS,
        ARGON2_PARALLELISM,
        Some(KEY_SIZE),
    )
    .expect("constant Argon2id parameters are within the algorithm's limits");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[cfg(test)]
mod tests;
