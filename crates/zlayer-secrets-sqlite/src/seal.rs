//! The AEAD operations the store needs, on top of [`EncryptionKey`].

use zeroize::Zeroizing;
use zlayer_secrets_core::Result;
use zlayer_secrets_crypto::EncryptionKey;

/// Encrypts `plaintext` under `key`, bound to `aad`.
pub(crate) fn seal(key: &EncryptionKey, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    key.encrypt_with_aad(plaintext, aad)
}

/// Decrypts `ciphertext` under `key`, checking `aad`. `None` when authentication fails.
pub(crate) fn open(
    key: &EncryptionKey,
    aad: &[u8],
    ciphertext: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    key.decrypt_with_aad(ciphertext, aad).ok()
}

/// Encrypts the data key `dek` under the key-encryption key `kek`, bound to `aad`.
pub(crate) fn wrap_key(kek: &EncryptionKey, dek: &EncryptionKey, aad: &[u8]) -> Result<Vec<u8>> {
    kek.wrap_key(dek, aad)
}

/// Decrypts a data key wrapped by [`wrap_key`]. `None` when authentication fails.
pub(crate) fn unwrap_key(kek: &EncryptionKey, wrapped: &[u8], aad: &[u8]) -> Option<EncryptionKey> {
    kek.unwrap_key(wrapped, aad).ok()
}

/// The printable fingerprint of a key.
pub(crate) fn fingerprint(key: &EncryptionKey) -> String {
    key.fingerprint()
}
