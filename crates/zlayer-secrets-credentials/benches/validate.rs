//! `CredentialStore::validate` for a missing key beside a wrong secret for an existing key:
//! both should cost one Argon2id verification, so their medians should match. A right
//! secret is measured too, for reference.
//!
//! Flat sampling with 50 samples of one call each, so each median is over 50 calls; the
//! 500 ms measurement time is deliberately shorter than 50 calls take (criterion warns and
//! then still runs one call per sample). Both the in-memory store and SQLite back the
//! credentials. Run with `cargo bench -p zlayer-secrets-credentials --bench validate`.

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_main};
use zlayer_secrets_core::{MemoryStore, SecretsStore};
use zlayer_secrets_credentials::CredentialStore;
use zlayer_secrets_crypto::EncryptionKey;
use zlayer_secrets_sqlite::PersistentSecretsStore;

fn run<S: SecretsStore>(
    c: &mut Criterion,
    group: &str,
    rt: &tokio::runtime::Runtime,
    creds: &CredentialStore<S>,
) {
    rt.block_on(creds.create_api_key("present", "the-right-secret", &["reader"]))
        .expect("creating the benchmark key works");
    // Make the process's dummy hash before measuring: it is computed once, on first need.
    rt.block_on(creds.validate("warm-up-missing", "x"))
        .expect("validating works");

    let mut group = c.benchmark_group(group);
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(50)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(500));
    for (name, key, secret, accepted) in [
        ("missing_key", "absent", "the-right-secret", false),
        ("wrong_secret", "present", "a-wrong-secret!!", false),
        ("right_secret", "present", "the-right-secret", true),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let roles = rt
                    .block_on(creds.validate(key, secret))
                    .expect("validating works");
                assert_eq!(roles.is_some(), accepted);
            });
        });
    }
    group.finish();
}

fn validate(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime builds");

    let memory = CredentialStore::new(Arc::new(MemoryStore::new()));
    run(c, "validate_memory", &rt, &memory);

    let dir = tempfile::tempdir().expect("a temporary directory");
    let sqlite = rt
        .block_on(PersistentSecretsStore::open(
            dir.path(),
            EncryptionKey::generate(),
        ))
        .expect("the SQLite store opens");
    run(c, "validate_sqlite", &rt, &CredentialStore::new(sqlite));
}

// `criterion_group!` generates a public function that cannot carry a doc comment.
#[allow(missing_docs)]
mod groups {
    criterion::criterion_group!(benches, super::validate);
}
criterion_main!(groups::benches);
