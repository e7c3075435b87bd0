//! Random identifiers and secrets, from the workspace's one source of randomness
//! ([`zlayer_secrets_crypto::random::fill`]).

use zeroize::Zeroizing;
use zlayer_secrets_core::Result;
pub(crate) use zlayer_secrets_crypto::random::fill;

/// `n` random bytes as lowercase hex (2n characters), in a buffer wiped on drop.
pub(crate) fn hex_token(n: usize) -> Result<Zeroizing<String>> {
    let mut bytes = Zeroizing::new(vec![0u8; n]);
    fill(&mut bytes)?;
    Ok(Zeroizing::new(hex::encode(&*bytes)))
}

/// A random (version 4) UUID in its usual hyphenated lowercase form.
pub(crate) fn uuid_v4() -> Result<String> {
    let mut b = [0u8; 16];
    fill(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    let h = hex::encode(b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_have_the_v4_shape_and_differ() {
        let a = uuid_v4().unwrap();
        let b = uuid_v4().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"));
        assert!(a.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }

    #[test]
    fn hex_tokens_have_the_asked_length() {
        let t = hex_token(32).unwrap();
        assert_eq!(t.len(), 64);
        assert_ne!(*t, *hex_token(32).unwrap());
    }
}
