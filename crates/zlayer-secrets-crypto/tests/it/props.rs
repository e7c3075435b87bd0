//! Properties of sealed boxes over arbitrary inputs.

use proptest::prelude::*;
use zlayer_secrets_core::SecretsError;
use zlayer_secrets_crypto::{EncryptionKey, OVERHEAD};

proptest! {
    #[test]
    fn any_plaintext_and_associated_data_round_trip(
        key in any::<[u8; 32]>(),
        plaintext in proptest::collection::vec(any::<u8>(), 0..2048),
        aad in proptest::collection::vec(any::<u8>(), 0..128),
    ) {
        let key = EncryptionKey::from_bytes(&key).unwrap();
        let sealed = key.encrypt_with_aad(&plaintext, &aad).unwrap();
        prop_assert_eq!(sealed.len(), plaintext.len() + OVERHEAD);
        let opened = key.decrypt_with_aad(&sealed, &aad).unwrap();
        prop_assert_eq!(opened.as_slice(), plaintext.as_slice());
    }

    #[test]
    fn arbitrary_bytes_never_open_and_never_panic(
        data in proptest::collection::vec(any::<u8>(), 0..512),
        aad in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let key = EncryptionKey::generate();
        let result = key.decrypt_with_aad(&data, &aad);
        prop_assert!(matches!(result, Err(SecretsError::Decryption(_))));
        prop_assert!(key.unwrap_key(&data, &aad).is_err());
    }

    #[test]
    fn any_changed_byte_is_detected(
        plaintext in proptest::collection::vec(any::<u8>(), 0..256),
        position in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let key = EncryptionKey::generate();
        let mut sealed = key.encrypt_with_aad(&plaintext, b"aad").unwrap();
        let at = position.index(sealed.len());
        sealed[at] ^= flip;
        prop_assert!(key.decrypt_with_aad(&sealed, b"aad").is_err());
    }
}
