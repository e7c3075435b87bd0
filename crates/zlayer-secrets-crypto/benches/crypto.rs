//! Throughput of sealing and opening values, and the cost of one Argon2id derivation.
//!
//! Run with `cargo bench -p zlayer-secrets-crypto`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};
use zlayer_secrets_crypto::{EncryptionKey, SALT_LEN};

const SIZES: [(&str, usize); 3] = [("64B", 64), ("4KiB", 4 * 1024), ("1MiB", 1024 * 1024)];

fn seal_and_open(c: &mut Criterion) {
    let key = EncryptionKey::generate();
    let aad = b"prod\0API_KEY\0\x00\x00\x00\x01";
    let mut group = c.benchmark_group("aead");
    for (label, size) in SIZES {
        let plaintext = vec![0x42u8; size];
        let sealed = key
            .encrypt_with_aad(&plaintext, aad)
            .expect("encryption works");
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("encrypt", label), &plaintext, |b, p| {
            b.iter(|| {
                key.encrypt_with_aad(black_box(p), aad)
                    .expect("encryption works")
            });
        });
        group.bench_with_input(BenchmarkId::new("decrypt", label), &sealed, |b, s| {
            b.iter(|| {
                key.decrypt_with_aad(black_box(s), aad)
                    .expect("the box is intact")
            });
        });
    }
    group.finish();
}

fn derive(c: &mut Criterion) {
    let salt = [7u8; SALT_LEN];
    let mut group = c.benchmark_group("argon2id");
    // One derivation takes tens of milliseconds: fewer samples keep the run short.
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("derive_m19456_t2_p1", |b| {
        b.iter(|| {
            EncryptionKey::derive_from_password(black_box("correct horse battery staple"), &salt)
                .expect("valid parameters")
        });
    });
    group.finish();
}

// `criterion_group!` generates a public function that cannot carry a doc comment.
#[allow(missing_docs)]
mod groups {
    criterion::criterion_group!(benches, super::seal_and_open, super::derive);
}
criterion_main!(groups::benches);
