//! Argon2id hashing and verification of API secrets, as PHC strings.
//!
//! New hashes use Argon2id v0x13 with the workspace's one set of parameters
//! ([`zlayer_secrets_crypto::argon2id`], OWASP's minimum: m = 19 456 KiB, t = 2, p = 1), a
//! 16-byte random salt and a 32-byte output, e.g.
//! `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`. Verification reads the parameters from
//! the stored string (so hashes made by older settings keep working), recomputes the output
//! and compares it with [`subtle`] in constant time; [`has_current_parameters`] tells a hash
//! made by older settings, which a successful validation replaces.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;
use zlayer_secrets_core::{Result, SecretsError};
use zlayer_secrets_crypto::{
    ARGON2_ITERATIONS as T_COST, ARGON2_MEMORY_KIB as M_COST_KIB, ARGON2_PARALLELISM as P_COST,
    KEY_SIZE as OUTPUT_LEN, SALT_LEN, argon2id,
};

use crate::random;

/// Argon2id computations (hashes and verifications) started by this process, for tests that
/// check how many a call costs.
#[cfg(test)]
pub(crate) static ARGON2_RUNS: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

fn count_run() {
    #[cfg(test)]
    ARGON2_RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

/// Hashes `secret` into a PHC string with a fresh random salt. CPU-heavy: call it through
/// [`run_blocking`](crate::blocking::run_blocking).
pub(crate) fn hash(secret: &[u8]) -> Result<String> {
    let mut salt = [0u8; SALT_LEN];
    random::fill(&mut salt)?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| SecretsError::Encryption(format!("could not encode an Argon2 salt: {e}")))?;
    count_run();
    argon2id()
        .hash_password(secret, &salt)
        .map(|h| h.to_string())
        .map_err(|e| SecretsError::Encryption(format!("Argon2id hashing failed: {e}")))
}

/// Why a stored PHC string cannot be verified against. Never contains the string itself.
#[derive(Debug)]
pub(crate) struct MalformedHash(pub(crate) &'static str);

/// Whether `secret` hashes to the stored `phc` string. CPU-heavy: call it through
/// [`run_blocking`](crate::blocking::run_blocking).
pub(crate) fn verify(phc: &str, secret: &[u8]) -> Result<bool, MalformedHash> {
    let parsed = PasswordHash::new(phc).map_err(|_| MalformedHash("not a PHC string"))?;
    if parsed.algorithm != argon2::ARGON2ID_IDENT {
        return Err(MalformedHash("not an Argon2id hash"));
    }
    let version = match parsed.version {
        None => Version::V0x13,
        Some(v) => Version::try_from(v).map_err(|_| MalformedHash("unknown Argon2 version"))?,
    };
    let params =
        Params::try_from(&parsed).map_err(|_| MalformedHash("invalid Argon2 parameters"))?;
    let expected = parsed.hash.ok_or(MalformedHash("no hash output"))?;
    let mut salt_buf = [0u8; 64];
    let salt = parsed
        .salt
        .ok_or(MalformedHash("no salt"))?
        .decode_b64(&mut salt_buf)
        .map_err(|_| MalformedHash("invalid salt"))?;
    let mut actual = Zeroizing::new(vec![0u8; expected.len()]);
    count_run();
    Argon2::new(Algorithm::Argon2id, version, params)
        .hash_password_into(secret, salt, &mut actual)
        .map_err(|_| MalformedHash("parameters the hasher refuses"))?;
    Ok(bool::from(actual.as_slice().ct_eq(expected.as_bytes())))
}

/// Whether `phc` was made with the parameters of new hashes (Argon2id v0x13, m, t and p as
/// above, a 16-byte salt and a 32-byte output). `false` for anything else, including strings
/// that do not parse (those fail verification anyway).
pub(crate) fn has_current_parameters(phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    parsed.algorithm == argon2::ARGON2ID_IDENT
        && parsed.version.unwrap_or(0x13) == 0x13
        && Params::try_from(&parsed)
            .is_ok_and(|p| p.m_cost() == M_COST_KIB && p.t_cost() == T_COST && p.p_cost() == P_COST)
        && parsed.hash.is_some_and(|h| h.len() == OUTPUT_LEN)
        && parsed
            .salt
            .and_then(|salt| salt.decode_b64(&mut salt_buf).ok())
            .is_some_and(|salt| salt.len() == SALT_LEN)
}

static DUMMY: OnceLock<String> = OnceLock::new();

/// The dummy hash if [`dummy_hash`] has computed it already (cheap, never blocks).
pub(crate) fn dummy_hash_if_ready() -> Option<&'static str> {
    DUMMY.get().map(String::as_str)
}

/// A valid Argon2id PHC string, made with the same parameters as real hashes, of a random
/// secret nobody knows. [`CredentialStore::validate`](crate::credentials::CredentialStore::validate)
/// verifies against it when the asked key does not exist, so that a missing key costs the
/// same Argon2id work as a wrong secret. Computed once per process, by the first
/// [`CredentialStore::new`](crate::credentials::CredentialStore::new), so that no validation
/// pays for it.
pub(crate) fn dummy_hash() -> Result<&'static str> {
    if let Some(h) = DUMMY.get() {
        return Ok(h);
    }
    let unknowable = random::hex_token(32)?;
    let computed = hash(unknowable.as_bytes())?;
    // Two first callers may race; either string serves, and the first one stays.
    Ok(DUMMY.get_or_init(|| computed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_at_the_owasp_floor() {
        let phc = hash(b"correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify(&phc, b"correct horse").unwrap());
        assert!(!verify(&phc, b"correct horse ").unwrap());
        assert!(!verify(&phc, b"").unwrap());
        assert_ne!(phc, hash(b"correct horse").unwrap(), "salts differ");
    }

    #[test]
    fn dummy_hash_has_the_real_parameters() {
        let dummy = dummy_hash().unwrap();
        assert!(dummy.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(dummy_hash().unwrap(), dummy, "computed once");
        assert!(!verify(dummy, b"").unwrap());
    }

    #[test]
    fn hashes_with_older_parameters_are_told_apart() {
        assert!(has_current_parameters(&hash(b"x").unwrap()));
        let salt = SaltString::encode_b64(&[7u8; SALT_LEN]).unwrap();
        for (m, t, p, len) in [
            (4096, 2, 1, 32),
            (M_COST_KIB, 1, 1, 32),
            (M_COST_KIB, 2, 2, 32),
            (M_COST_KIB, 2, 1, 16),
        ] {
            let params = Params::new(m, t, p, Some(len)).unwrap();
            let old = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                .hash_password(b"x", &salt)
                .unwrap()
                .to_string();
            assert!(verify(&old, b"x").unwrap(), "{old}");
            assert!(!has_current_parameters(&old), "{old}");
        }
        let params = Params::new(M_COST_KIB, T_COST, P_COST, Some(OUTPUT_LEN)).unwrap();
        let short_salt = SaltString::encode_b64(&[7u8; 8]).unwrap();
        let old = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password(b"x", &short_salt)
            .unwrap()
            .to_string();
        assert!(!has_current_parameters(&old), "8-byte salt: {old}");
        let old = Argon2::new(Algorithm::Argon2id, Version::V0x10, params)
            .hash_password(b"x", &salt)
            .unwrap()
            .to_string();
        assert!(!has_current_parameters(&old), "version 0x10: {old}");
        assert!(!has_current_parameters("garbage"));
    }

    #[test]
    fn malformed_hashes_are_refused_not_panicked_on() {
        let good = hash(b"x").unwrap();
        for bad in [
            String::new(),
            "garbage".to_owned(),
            "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_owned(),
            "$argon2id$v=99$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_owned(),
            "$argon2id$v=19$m=1,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_owned(),
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ".to_owned(),
            good.replace("$argon2id$", "$scrypt$"),
            good[..good.len() - 10].to_owned() + "!!!!!!!!!!",
        ] {
            assert!(verify(&bad, b"x").is_err(), "{bad}");
        }
    }
}
