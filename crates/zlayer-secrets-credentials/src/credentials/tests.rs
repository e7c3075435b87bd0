use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::password_hash::{PasswordHasher, SaltString};

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

/// Set in the child process of [`the_dummy_hash_is_ready_once_a_store_is_built`].
const FRESH_PROCESS_VAR: &str = "ZLAYER_TEST_FRESH_PROCESS_DUMMY_HASH";

/// Runs in a fresh process (the dummy hash is per process, and other tests of this binary
/// compute it): building a store computes the dummy hash, and the first validation of an
/// unknown key then runs exactly one Argon2id computation. Returns at once unless
/// [`FRESH_PROCESS_VAR`] is set.
#[tokio::test]
async fn child_first_unknown_key_costs_one_argon2_run() {
    if std::env::var_os(FRESH_PROCESS_VAR).is_none() {
        return;
    }
    assert!(
        hashing::dummy_hash_if_ready().is_none(),
        "a fresh process has no dummy hash yet"
    );
    let creds = store();
    assert!(
        hashing::dummy_hash_if_ready().is_some(),
        "building the store computed the dummy hash"
    );
    let before = hashing::ARGON2_RUNS.load(Ordering::SeqCst);
    assert_eq!(
        creds.validate("never-created", "guess").await.unwrap(),
        None
    );
    let runs = hashing::ARGON2_RUNS.load(Ordering::SeqCst) - before;
    assert_eq!(
        runs, 1,
        "the first unknown key costs one Argon2id run, not {runs}"
    );
    println!("CHILD-OK");
}

#[test]
fn the_dummy_hash_is_ready_once_a_store_is_built() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "credentials::tests::child_first_unknown_key_costs_one_argon2_run",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(FRESH_PROCESS_VAR, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("CHILD-OK"),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A PHC string of `secret` made with cheaper parameters than new hashes use.
fn old_hash(secret: &str) -> String {
    let params = argon2::Params::new(4096, 1, 1, Some(32)).unwrap();
    let salt = SaltString::encode_b64(&[3u8; 16]).unwrap();
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password(secret.as_bytes(), &salt)
        .unwrap()
        .to_string()
}

async fn stored_hash(creds: &CredentialStore<Arc<MemoryStore>>, key: &str) -> String {
    let stored = creds.store.get_secret(API_KEYS_SCOPE, key).await.unwrap();
    let rec: ApiKeyRecord = record::decode("t", &stored).unwrap();
    rec.hash.clone()
}

#[tokio::test]
async fn a_hash_with_older_parameters_is_replaced_on_successful_validation() {
    let creds = store();
    let old = old_hash("right");
    let value = format!(r#"{{"hash":"{old}","roles":["r"]}}"#);
    creds
        .store
        .set_secret(API_KEYS_SCOPE, "k", &Secret::new(value))
        .await
        .unwrap();

    // A wrong secret changes nothing.
    assert_eq!(creds.validate("k", "wrong").await.unwrap(), None);
    assert_eq!(stored_hash(&creds, "k").await, old);

    // The right one is accepted and the hash rewritten with the current parameters.
    assert_eq!(
        creds.validate("k", "right").await.unwrap(),
        Some(vec!["r".to_owned()])
    );
    let new = stored_hash(&creds, "k").await;
    assert_ne!(new, old);
    assert!(hashing::has_current_parameters(&new), "{new}");
    assert!(new.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{new}");
    assert_eq!(creds.roles("k").await.unwrap(), Some(vec!["r".to_owned()]));

    // It still validates, and is not rewritten again.
    assert_eq!(
        creds.validate("k", "right").await.unwrap(),
        Some(vec!["r".to_owned()])
    );
    assert_eq!(stored_hash(&creds, "k").await, new);
    assert_eq!(creds.validate("k", "wrong").await.unwrap(), None);
}

#[tokio::test]
async fn a_hash_with_current_parameters_is_left_alone() {
    let creds = store();
    creds.create_api_key("k", "right", &[]).await.unwrap();
    let before = stored_hash(&creds, "k").await;
    assert!(creds.validate("k", "right").await.unwrap().is_some());
    assert_eq!(stored_hash(&creds, "k").await, before);
}

#[test]
fn record_debug_hides_the_hash() {
    let rec = ApiKeyRecord {
        hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        roles: vec!["admin".to_owned()],
        subject: None,
        groups: Vec::new(),
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

#[tokio::test]
async fn user_keys_carry_subject_roles_and_groups() {
    let creds = store();
    let (made, secret) = creds
        .create_user_api_key("alice", &["deployer"], &["ops", "dev", "ops"])
        .await
        .unwrap();
    assert_eq!(made.subject, "alice");
    assert_eq!(made.groups, ["ops", "dev"]);
    assert!(made.api_key.starts_with(GENERATED_KEY_PREFIX));

    let found = creds
        .authenticate(&made.api_key, secret.expose())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, made);
    assert!(!found.is_admin());
    assert_eq!(
        creds.authenticate(&made.api_key, "wrong").await.unwrap(),
        None
    );
    assert_eq!(
        creds.identity(&made.api_key).await.unwrap(),
        Some(made.clone())
    );
    assert_eq!(creds.identity("nope").await.unwrap(), None);
    assert!(!creds.has_admin().await.unwrap());

    // A record of the original shape speaks for its key.
    creds.create_api_key("old", "s", &["admin"]).await.unwrap();
    let old = creds.identity("old").await.unwrap().unwrap();
    assert_eq!((old.subject.as_str(), old.groups.len()), ("old", 0));
    assert!(creds.has_admin().await.unwrap());
    let all = creds.list_identities().await.unwrap();
    assert_eq!(all.len(), 2);

    for (subject, groups) in [
        ("", &[][..]),
        ("a\nb", &[][..]),
        ("group:ops", &[][..]),
        ("bob", &[" ops"][..]),
    ] {
        assert!(
            creds
                .create_user_api_key(subject, &[], groups)
                .await
                .is_err(),
            "{subject:?} {groups:?}"
        );
    }
    assert_eq!(creds.list_identities().await.unwrap().len(), 2);
}
