use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use zlayer_secrets_core::{MemoryStore, SecretsProvider};

use super::*;

/// Counts the Argon2id verifications [`CredentialStore::validate`] starts, by the hash it
/// verifies against.
#[derive(Debug, Default)]
pub(crate) struct Verifications {
    dummy: AtomicUsize,
    stored: AtomicUsize,
}

impl Verifications {
    pub(crate) fn record(&self, is_dummy: bool) {
        let counter = if is_dummy { &self.dummy } else { &self.stored };
        counter.fetch_add(1, Ordering::SeqCst);
    }

    fn counts(&self) -> (usize, usize) {
        (
            self.dummy.load(Ordering::SeqCst),
            self.stored.load(Ordering::SeqCst),
        )
    }
}

fn store() -> CredentialStore<Arc<MemoryStore>> {
    CredentialStore::new(Arc::new(MemoryStore::new()))
}

#[tokio::test]
async fn missing_key_and_wrong_secret_both_run_one_verification() {
    let creds = store();
    creds.create_api_key("k", "right", &["r"]).await.unwrap();

    assert_eq!(creds.validate("k", "wrong").await.unwrap(), None);
    assert_eq!(
        creds.verifications.counts(),
        (0, 1),
        "wrong secret: stored hash"
    );

    assert_eq!(creds.validate("missing", "wrong").await.unwrap(), None);
    assert_eq!(
        creds.verifications.counts(),
        (1, 1),
        "missing key: dummy hash"
    );

    assert_eq!(creds.validate("not/a/name", "x").await.unwrap(), None);
    assert_eq!(
        creds.verifications.counts(),
        (2, 1),
        "invalid key: dummy hash"
    );

    assert_eq!(
        creds.validate("k", "right").await.unwrap(),
        Some(vec!["r".to_owned()])
    );
    assert_eq!(creds.verifications.counts(), (2, 2));
}

#[tokio::test]
async fn dummy_and_real_hashes_use_the_same_parameters() {
    let creds = store();
    creds.create_api_key("k", "s", &[]).await.unwrap();
    let stored = creds.store.get_secret(API_KEYS_SCOPE, "k").await.unwrap();
    let rec: ApiKeyRecord = record::decode("t", &stored).unwrap();
    let params = |phc: &str| phc.rsplitn(3, '$').nth(2).map(str::to_owned);
    assert_eq!(params(&rec.hash), params(hashing::dummy_hash().unwrap()));
    assert_eq!(
        params(&rec.hash).as_deref(),
        Some("$argon2id$v=19$m=19456,t=2,p=1")
    );
}

#[test]
fn record_debug_hides_the_hash() {
    let rec = ApiKeyRecord {
        hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        roles: vec!["admin".to_owned()],
    };
    let dbg = format!("{rec:?}");
    assert!(!dbg.contains("argon2"), "{dbg}");
    assert!(dbg.contains("admin"), "{dbg}");
}

#[test]
fn roles_are_checked_and_deduplicated() {
    assert_eq!(
        clean_roles(&["a", "b", "a"]).unwrap(),
        vec!["a".to_owned(), "b".to_owned()]
    );
    for bad in ["", " a", "a\n", &"r".repeat(129)] {
        let msg = clean_roles(&[bad]).unwrap_err().to_string();
        assert!(msg.contains("invalid role"), "{msg}");
    }
}

#[test]
fn generated_keys_and_secrets_are_strong_and_distinct() {
    let k1 = generate_api_key().unwrap();
    let k2 = generate_api_key().unwrap();
    assert_ne!(k1, k2);
    assert!(k1.starts_with(GENERATED_KEY_PREFIX));
    assert_eq!(k1.len(), GENERATED_KEY_PREFIX.len() + 32);
    validate_name(&k1).unwrap();
    let s1 = generate_api_secret().unwrap();
    let s2 = generate_api_secret().unwrap();
    assert_eq!(s1.len(), 64);
    assert_ne!(s1.expose(), s2.expose());
    assert!(s1.expose().bytes().all(|b| b.is_ascii_hexdigit()));
}
