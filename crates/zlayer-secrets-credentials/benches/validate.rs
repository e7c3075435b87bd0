//! `CredentialStore::validate` for a missing key beside a wrong secret for an existing key:
//! both should cost one Argon2id verification, so their medians should match. A right
//! secret is measured too, for reference.
//!
//! Flat sampling with 50 samples of one call each, so each median is over 50 calls; the
//! 500 ms measurement time is deliberately shorter than 50 calls take (criterion warns and
//! then still runs one call per sample). Both the in-memory store and SQLite back the
//! credentials. Run with `cargo bench -p zlayer-secrets-credentials --bench validate`.
//!
//! Criterion measures one function after the other, so on a loaded machine a change of
//! load between them shows as a difference. Each group therefore starts with an
//! interleaved pass, printed to stderr: 50 pairs of calls (missing key, wrong secret),
//! alternating which goes first, timed one by one; both medians come from the same minutes.

use std::sync::Arc;
use std::time::{Duration, Instant};

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
    // The store made the process's dummy hash when it was built; one call warms the rest.
    rt.block_on(creds.validate("warm-up-missing", "x"))
        .expect("validating works");

    interleaved(group, rt, creds);

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

/// 50 pairs of (missing key, wrong secret) calls, alternating the order; prints both
/// medians and their ratio.
fn interleaved<S: SecretsStore>(
    group: &str,
    rt: &tokio::runtime::Runtime,
    creds: &CredentialStore<S>,
) {
    let time = |key: &str, secret: &str| {
        let start = Instant::now();
        let roles = rt
            .block_on(creds.validate(key, secret))
            .expect("validating works");
        assert!(roles.is_none());
        start.elapsed()
    };
    let (mut missing, mut wrong) = (Vec::with_capacity(50), Vec::with_capacity(50));
    for i in 0..50 {
        if i % 2 == 0 {
            missing.push(time("absent", "the-right-secret"));
            wrong.push(time("present", "a-wrong-secret!!"));
        } else {
            wrong.push(time("present", "a-wrong-secret!!"));
            missing.push(time("absent", "the-right-secret"));
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort_unstable();
        (v[24] + v[25]) / 2
    };
    let (m, w) = (median(&mut missing), median(&mut wrong));
    eprintln!(
        "{group}/interleaved: median of 50 calls: missing_key {:.2} ms, wrong_secret {:.2} ms, \
         ratio missing/wrong {:.3}",
        m.as_secs_f64() * 1e3,
        w.as_secs_f64() * 1e3,
        m.as_secs_f64() / w.as_secs_f64()
    );
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
