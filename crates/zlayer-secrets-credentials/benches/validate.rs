//! `CredentialStore::validate` for a missing key beside a wrong secret for an existing key:
//! both should cost one Argon2id verification, so their medians should match.
//!
//! Flat sampling with 50 samples of one call each: each median is over 50 calls.
//! Run with `cargo bench -p zlayer-secrets-credentials --bench validate`.

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_main};
use zlayer_secrets_core::MemoryStore;
use zlayer_secrets_credentials::CredentialStore;

fn validate(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime builds");
    let creds = CredentialStore::new(Arc::new(MemoryStore::new()));
    rt.block_on(creds.create_api_key("present", "the-right-secret", &["reader"]))
        .expect("creating the benchmark key works");
    // Compute the dummy hash outside the measurement: it is made once per process.
    rt.block_on(creds.validate("warm-up-missing", "x"))
        .expect("validating works");

    let mut group = c.benchmark_group("validate");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(50)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(500));
    group.bench_function("missing_key", |b| {
        b.iter(|| {
            let roles = rt
                .block_on(creds.validate("absent", "the-right-secret"))
                .expect("validating works");
            assert!(roles.is_none());
        });
    });
    group.bench_function("wrong_secret", |b| {
        b.iter(|| {
            let roles = rt
                .block_on(creds.validate("present", "a-wrong-secret!!"))
                .expect("validating works");
            assert!(roles.is_none());
        });
    });
    group.bench_function("right_secret", |b| {
        b.iter(|| {
            let roles = rt
                .block_on(creds.validate("present", "the-right-secret"))
                .expect("validating works");
            assert!(roles.is_some());
        });
    });
    group.finish();
}

// `criterion_group!` generates a public function that cannot carry a doc comment.
#[allow(missing_docs)]
mod groups {
    criterion::criterion_group!(benches, super::validate);
}
criterion_main!(groups::benches);
