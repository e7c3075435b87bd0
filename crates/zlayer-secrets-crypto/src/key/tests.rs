use super::*;

#[test]
fn debug_shows_the_fingerprint_not_the_key() {
    let key = EncryptionKey::from_bytes(&[0xab; KEY_SIZE]).unwrap();
    let debug = format!("{key:?}");
    assert!(debug.contains(&key.fingerprint()), "{debug}");
    assert!(!debug.contains("abab"), "{debug}");
    assert!(!debug.contains("171"), "{debug}");
}

#[test]
fn fingerprint_is_16_hex_chars_and_depends_on_the_key() {
    let a = EncryptionKey::from_bytes(&[1; KEY_SIZE]).unwrap();
    let b = EncryptionKey::from_bytes(&[2; KEY_SIZE]).unwrap();
    let fp = a.fingerprint();
    assert_eq!(fp.len(), 16);
    assert!(
        fp.bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert_eq!(fp, a.clone().fingerprint());
    assert_ne!(fp, b.fingerprint());
    // Not a prefix of the key or of its plain SHA-256.
    assert!(!a.to_hex().starts_with(&fp));
    assert!(!hex::encode(Sha256::digest(a.as_bytes())).starts_with(&fp));
}

#[test]
fn fingerprint_of_a_known_key_is_stable() {
    // The fingerprint is stored and printed; changing its definition is a format change.
    let key = EncryptionKey::from_bytes(&[0; KEY_SIZE]).unwrap();
    let mut hasher = Sha256::new();
    hasher.update(b"zlayer-secrets key fingerprint v1\0");
    hasher.update([0u8; KEY_SIZE]);
    assert_eq!(key.fingerprint(), hex::encode(&hasher.finalize()[..8]));
}

#[test]
fn argon2_parameters_are_the_owasp_floor() {
    assert_eq!(ARGON2_MEMORY_KIB, 19_456);
    assert_eq!(ARGON2_ITERATIONS, 2);
    assert_eq!(ARGON2_PARALLELISM, 1);
    assert_eq!(OVERHEAD, 40);
}

#[test]
fn sealed_box_layout_is_nonce_ciphertext_tag() {
    let key = EncryptionKey::generate();
    let sealed = key.encrypt(b"hello").unwrap();
    assert_eq!(sealed.len(), NONCE_SIZE + 5 + TAG_SIZE);
    // The same nonce and key through the cipher directly give the same ciphertext and tag.
    let nonce = XNonce::from_slice(&sealed[..NONCE_SIZE]);
    let mut buf = *b"hello";
    let tag = key
        .cipher()
        .encrypt_in_place_detached(nonce, &[], &mut buf)
        .unwrap();
    assert_eq!(&sealed[NONCE_SIZE..NONCE_SIZE + 5], &buf);
    assert_eq!(&sealed[NONCE_SIZE + 5..], tag.as_slice());
}

#[test]
fn decrypt_returns_a_plain_vec_and_decrypt_zeroizing_a_wiping_one() {
    let key = EncryptionKey::generate();
    let sealed = key.encrypt(b"hunter2").unwrap();
    let plain: Vec<u8> = key.decrypt(&sealed).unwrap();
    assert_eq!(plain, b"hunter2");
    let wiping: Zeroizing<Vec<u8>> = key.decrypt_zeroizing(&sealed).unwrap();
    assert_eq!(wiping.as_slice(), b"hunter2");
    let other = EncryptionKey::generate();
    for result in [
        other.decrypt(&sealed).map(drop),
        other.decrypt_zeroizing(&sealed).map(drop),
    ] {
        assert!(matches!(result, Err(SecretsError::Decryption(_))));
    }
}

#[test]
fn argon2id_is_the_one_set_of_parameters() {
    let argon2 = argon2id();
    let params = argon2.params();
    assert_eq!(
        (params.m_cost(), params.t_cost(), params.p_cost()),
        (ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_PARALLELISM)
    );
    assert_eq!(params.output_len(), Some(KEY_SIZE));
    let salt = [7u8; SALT_LEN];
    let mut expected = [0u8; KEY_SIZE];
    argon2
        .hash_password_into(b"pw", &salt, &mut expected)
        .unwrap();
    let derived = EncryptionKey::derive_from_password("pw", &salt).unwrap();
    assert_eq!(derived.as_bytes(), expected);
}
