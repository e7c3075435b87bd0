//! Opening arbitrary bytes as a sealed box (with and without associated data) never panics and fails with one opaque error; what does open re-seals and opens again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zlayer_secrets_core::SecretsError;
use zlayer_secrets_crypto::{EncryptionKey, KEY_SIZE, OVERHEAD};

/// The key of the seed corpus's valid boxes (`fuzz/corpus/decrypt/`).
const KEY: [u8; KEY_SIZE] = [0x42; KEY_SIZE];

/// Input layout: one byte `n`, then `n % 64` bytes of associated data, then the box.
fn split(data: &[u8]) -> (&[u8], &[u8]) {
    let Some((&n, rest)) = data.split_first() else {
        return (&[], &[]);
    };
    let aad_len = usize::from(n % 64).min(rest.len());
    rest.split_at(aad_len)
}

fn assert_opaque(error: &SecretsError, first: &mut Option<String>) {
    assert!(
        matches!(error, SecretsError::Decryption(_)),
        "a failed decryption is not SecretsError::Decryption: {error:?}"
    );
    let message = error.to_string();
    match first {
        Some(seen) => assert_eq!(&message, seen, "decryption failures differ"),
        None => *first = Some(message),
    }
}

fuzz_target!(|data: &[u8]| {
    let key = EncryptionKey::from_bytes(&KEY).expect("32 bytes make a key");
    let (aad, sealed) = split(data);
    let mut message = None;

    for result in [key.decrypt_with_aad(sealed, aad), key.decrypt_zeroizing(sealed)] {
        match result {
            Ok(plaintext) => {
                assert_eq!(plaintext.len() + OVERHEAD, sealed.len());
                // One flipped bit anywhere makes the same box fail.
                let mut tampered = sealed.to_vec();
                let at = usize::from(data[0]) % tampered.len();
                tampered[at] ^= 0x01;
                if let Err(e) = key.decrypt_with_aad(&tampered, aad) {
                    assert_opaque(&e, &mut message);
                } else {
                    panic!("a tampered box opened");
                }
            }
            Err(e) => assert_opaque(&e, &mut message),
        }
    }
    if let Err(e) = key.unwrap_key(sealed, aad) {
        assert_opaque(&e, &mut message);
    }

    // Seal the input as a value: it opens with the same associated data only.
    let boxed = key
        .encrypt_with_aad(sealed, aad)
        .expect("encryption succeeds");
    assert_eq!(boxed.len(), sealed.len() + OVERHEAD);
    let opened = key
        .decrypt_with_aad(&boxed, aad)
        .expect("a fresh box opens");
    assert_eq!(&opened[..], sealed);
    let mut other_aad = aad.to_vec();
    other_aad.push(0);
    match key.decrypt_with_aad(&boxed, &other_aad) {
        Ok(_) => panic!("a box opened with other associated data"),
        Err(e) => assert_opaque(&e, &mut message),
    }
    let other_key = EncryptionKey::from_bytes(&[0x43; KEY_SIZE]).expect("32 bytes make a key");
    match other_key.decrypt_with_aad(&boxed, aad) {
        Ok(_) => panic!("a box opened with another key"),
        Err(e) => assert_opaque(&e, &mut message),
    }
});
