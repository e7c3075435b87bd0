//! `EncryptionKey`: round trips, tampering, wrong keys and associated data, malformed input.

use zlayer_secrets_core::SecretsError;
use zlayer_secrets_crypto::{
    EncryptionKey, KEY_SIZE, NONCE_SIZE, OVERHEAD, TAG_SIZE, generate_salt,
};

fn assert_opaque_decryption_error(result: zlayer_secrets_core::Result<impl Sized>) {
    match result {
        Err(SecretsError::Decryption(message)) => {
            assert!(message.contains("cannot be opened"), "{message}");
        }
        Err(other) => panic!("expected the decryption error, got {other:?}"),
        Ok(_) => panic!("expected the decryption error, got a plaintext"),
    }
}

#[test]
fn round_trips_empty_one_byte_and_one_mebibyte() {
    let key = EncryptionKey::generate();
    let big: Vec<u8> = (0..1024 * 1024)
        .map(|i: u32| i.wrapping_mul(31).to_le_bytes()[1])
        .collect();
    for plaintext in [&b""[..], &b"x"[..], &big[..]] {
        let sealed = key.encrypt(plaintext).unwrap();
        assert_eq!(sealed.len(), plaintext.len() + OVERHEAD);
        assert_eq!(key.decrypt(&sealed).unwrap().as_slice(), plaintext);

        let sealed = key.encrypt_with_aad(plaintext, b"scope/name/1").unwrap();
        assert_eq!(
            key.decrypt_with_aad(&sealed, b"scope/name/1")
                .unwrap()
                .as_slice(),
            plaintext
        );
    }
}

#[test]
fn every_encryption_uses_a_fresh_nonce() {
    let key = EncryptionKey::generate();
    let a = key.encrypt(b"same").unwrap();
    let b = key.encrypt(b"same").unwrap();
    assert_ne!(a[..NONCE_SIZE], b[..NONCE_SIZE]);
    assert_ne!(a, b);
}

#[test]
fn every_single_bit_flip_fails() {
    let key = EncryptionKey::generate();
    for aad in [&b""[..], &b"prod/API_KEY/3"[..]] {
        let sealed = key.encrypt_with_aad(b"hunter2", aad).unwrap();
        for byte in 0..sealed.len() {
            for bit in 0..8 {
                let mut tampered = sealed.clone();
                tampered[byte] ^= 1 << bit;
                assert_opaque_decryption_error(key.decrypt_with_aad(&tampered, aad));
            }
        }
        // Untouched, it still opens: the failures above are due to the flips.
        assert_eq!(
            key.decrypt_with_aad(&sealed, aad).unwrap().as_slice(),
            b"hunter2"
        );
    }
}

#[test]
fn bit_flips_in_an_empty_plaintext_box_fail() {
    let key = EncryptionKey::generate();
    let sealed = key.encrypt(b"").unwrap();
    assert_eq!(sealed.len(), NONCE_SIZE + TAG_SIZE);
    for byte in 0..sealed.len() {
        for bit in 0..8 {
            let mut tampered = sealed.clone();
            tampered[byte] ^= 1 << bit;
            assert_opaque_decryption_error(key.decrypt(&tampered));
        }
    }
}

#[test]
fn wrong_key_fails() {
    let key = EncryptionKey::generate();
    let other = EncryptionKey::generate();
    let sealed = key.encrypt(b"secret").unwrap();
    assert_opaque_decryption_error(other.decrypt(&sealed));
    let sealed = key.encrypt_with_aad(b"secret", b"aad").unwrap();
    assert_opaque_decryption_error(other.decrypt_with_aad(&sealed, b"aad"));
}

#[test]
fn wrong_associated_data_fails() {
    let key = EncryptionKey::generate();
    let sealed = key.encrypt_with_aad(b"secret", b"prod\0db\0\x01").unwrap();
    for wrong in [
        &b""[..],
        b"prod\0db\0\x02",
        b"prod\0db\0",
        b"prod\0db\0\x01\0",
        b"dev\0db\0\x01",
    ] {
        assert_opaque_decryption_error(key.decrypt_with_aad(&sealed, wrong));
    }
    // A box sealed without associated data does not open with some.
    let plain = key.encrypt(b"secret").unwrap();
    assert_opaque_decryption_error(key.decrypt_with_aad(&plain, b"x"));
}

#[test]
fn truncated_inputs_of_every_length_up_to_40_fail() {
    let key = EncryptionKey::generate();
    let sealed = key.encrypt(b"a value of some length").unwrap();
    for len in 0..=40 {
        assert_opaque_decryption_error(key.decrypt(&vec![0u8; len]));
        assert_opaque_decryption_error(key.decrypt(&vec![0xffu8; len]));
        assert_opaque_decryption_error(key.decrypt(&sealed[..len]));
        assert_opaque_decryption_error(key.decrypt_with_aad(&sealed[..len], b"aad"));
    }
    // Every prefix and every suffix shorter than the whole fails too.
    for len in 0..sealed.len() {
        assert_opaque_decryption_error(key.decrypt(&sealed[..len]));
        assert_opaque_decryption_error(key.decrypt(&sealed[sealed.len() - len..]));
    }
}

#[test]
fn extended_input_fails() {
    let key = EncryptionKey::generate();
    let mut sealed = key.encrypt(b"value").unwrap();
    sealed.push(0);
    assert_opaque_decryption_error(key.decrypt(&sealed));
}

#[test]
fn pseudo_random_inputs_never_panic() {
    // A cheap deterministic generator: many lengths and contents, none of which may panic.
    let key = EncryptionKey::generate();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for len in 0..600 {
        let data: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[0]
            })
            .collect();
        assert_opaque_decryption_error(key.decrypt(&data));
        assert_opaque_decryption_error(key.unwrap_key(&data, b""));
    }
}

#[test]
fn from_bytes_accepts_exactly_32_bytes() {
    let key = EncryptionKey::from_bytes(&[7; KEY_SIZE]).unwrap();
    assert_eq!(key.as_bytes(), &[7; KEY_SIZE]);
    for len in [0, 1, 16, 31, 33, 64] {
        match EncryptionKey::from_bytes(&vec![7; len]) {
            Err(SecretsError::Encryption(message)) => {
                assert!(message.contains("expected 32 bytes"), "{message}");
                assert!(message.contains(&format!("got {len}")), "{message}");
            }
            other => panic!("length {len}: expected an error, got {other:?}"),
        }
    }
}

#[test]
fn generated_keys_differ_and_compare_by_value() {
    let a = EncryptionKey::generate();
    let b = EncryptionKey::generate();
    assert_ne!(a, b);
    assert_eq!(a, EncryptionKey::from_bytes(a.as_bytes()).unwrap());
    assert_eq!(a.to_hex().len(), 64);
    assert_eq!(hex::decode(a.to_hex().as_str()).unwrap(), a.as_bytes());
}

#[test]
fn password_derivation_is_deterministic_and_salt_and_password_sensitive() {
    let salt = generate_salt().unwrap();
    let a = EncryptionKey::derive_from_password("correct horse", &salt).unwrap();
    let again = EncryptionKey::derive_from_password("correct horse", &salt).unwrap();
    assert_eq!(a, again);
    let other_password = EncryptionKey::derive_from_password("correct horsf", &salt).unwrap();
    assert_ne!(a, other_password);
    let other_salt =
        EncryptionKey::derive_from_password("correct horse", &generate_salt().unwrap()).unwrap();
    assert_ne!(a, other_salt);
}

#[test]
fn password_derivation_matches_argon2id_at_the_owasp_floor() {
    // Independent computation with the argon2 crate's own API and the documented parameters.
    let salt = *b"0123456789abcdef";
    let params = argon2::Params::new(19_456, 2, 1, Some(32)).unwrap();
    let argon2 = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut expected = [0u8; 32];
    argon2
        .hash_password_into(b"pw", &salt, &mut expected)
        .unwrap();
    let key = EncryptionKey::derive_from_password("pw", &salt).unwrap();
    assert_eq!(key.as_bytes(), &expected);
}

#[test]
fn password_derivation_refuses_short_salts_clearly() {
    for len in [0, 1, 7] {
        match EncryptionKey::derive_from_password("pw", &vec![0; len]) {
            Err(SecretsError::Encryption(message)) => {
                assert!(message.contains("at least 8 bytes"), "{message}");
                assert!(!message.contains("pw"), "{message}");
            }
            other => panic!("salt of {len} bytes: expected an error, got {other:?}"),
        }
    }
}

#[test]
fn wrapped_keys_round_trip_and_are_bound_to_their_associated_data() {
    let outer = EncryptionKey::generate();
    let inner = EncryptionKey::generate();
    let wrapped = outer.wrap_key(&inner, b"store data key").unwrap();
    assert_eq!(wrapped.len(), KEY_SIZE + OVERHEAD);
    assert_eq!(
        outer.unwrap_key(&wrapped, b"store data key").unwrap(),
        inner
    );
    assert_opaque_decryption_error(outer.unwrap_key(&wrapped, b"other"));
    assert_opaque_decryption_error(
        EncryptionKey::generate().unwrap_key(&wrapped, b"store data key"),
    );
    // A box that opens but does not hold a key is refused the same way.
    let not_a_key = outer.encrypt_with_aad(&[1; 31], b"store data key").unwrap();
    assert_opaque_decryption_error(outer.unwrap_key(&not_a_key, b"store data key"));
}

#[test]
fn errors_and_debug_never_show_key_or_plaintext() {
    let key = EncryptionKey::from_bytes(&[0x5a; KEY_SIZE]).unwrap();
    let debug = format!("{key:?}");
    assert!(!debug.contains(&"5a".repeat(4)), "{debug}");
    assert!(!debug.contains("90, 90"), "{debug}");
    let mut sealed = key.encrypt(b"TOPSECRETVALUE").unwrap();
    sealed[NONCE_SIZE] ^= 1;
    let message = key.decrypt(&sealed).unwrap_err().to_string();
    assert!(!message.contains("TOPSECRET"), "{message}");
    assert!(!message.contains("5a5a"), "{message}");
}
