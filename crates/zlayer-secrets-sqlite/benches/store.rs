//! Benchmarks of `PersistentSecretsStore`: writes, reads, batched reads, listing, opening,
//! and the throughput of reads from several client threads.
//!
//! Run with `cargo bench -p zlayer-secrets-sqlite --bench store` (the parallel reads alone:
//! `-- reads`). Results and the machine they were taken on are recorded in
//! `docs/benchmarks.md`.
#![allow(clippy::unwrap_used)] // a benchmark reports failure by panicking

use std::cell::Cell;
use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput};
use zlayer_secrets_core::{
    BatchSecretsStore, Secret, SecretsProvider, SecretsResolver, SecretsStore, WriteOp,
};
use zlayer_secrets_crypto::EncryptionKey;
use zlayer_secrets_sqlite::{Durability, PersistentSecretsStore, StoreOptions};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn key() -> EncryptionKey {
    EncryptionKey::from_bytes(&[7; 32]).unwrap()
}

/// A store holding `count` secrets named `s0000`... in scope `bench`, with 40-byte values.
fn filled_store(
    rt: &tokio::runtime::Runtime,
    count: usize,
) -> (tempfile::TempDir, PersistentSecretsStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = rt
        .block_on(PersistentSecretsStore::open(dir.path(), key()))
        .unwrap();
    let ops: Vec<WriteOp> = (0..count)
        .map(|i| WriteOp::Set {
            scope: "bench".into(),
            name: format!("s{i:04}"),
            value: Secret::new(format!("{i:040}")),
        })
        .collect();
    rt.block_on(store.apply_batch(&ops)).unwrap();
    (dir, store)
}

fn writes(c: &mut Criterion) {
    let rt = runtime();
    let (_dir, store) = filled_store(&rt, 100);
    let value = Secret::new("x".repeat(40));
    let mut next = 0u64;
    c.bench_function("set (new secret)", |b| {
        b.iter(|| {
            next += 1;
            rt.block_on(store.set_secret("bench-new", &format!("n{next}"), &value))
                .unwrap();
        });
    });
    c.bench_function("overwrite (new version, pruning history)", |b| {
        b.iter(|| {
            rt.block_on(store.set_secret("bench", "s0001", &value))
                .unwrap();
        });
    });
}

fn writes_normal_sync(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions {
        durability: Durability::Normal,
        ..StoreOptions::default()
    };
    let store = rt
        .block_on(PersistentSecretsStore::open_with_options(
            dir.path(),
            key(),
            options,
        ))
        .unwrap();
    let value = Secret::new("x".repeat(40));
    // For comparison only: the default is `Durability::Full`.
    c.bench_function("overwrite with synchronous=NORMAL", |b| {
        b.iter(|| {
            rt.block_on(store.set_secret("bench", "s0001", &value))
                .unwrap();
        });
    });
}

fn reads(c: &mut Criterion) {
    let rt = runtime();
    let (_dir, store) = filled_store(&rt, 2_000);
    c.bench_function("get_secret", |b| {
        b.iter(|| black_box(rt.block_on(store.get_secret("bench", "s0042")).unwrap()));
    });
    let names: Vec<String> = (0..50).map(|i| format!("s{:04}", i * 37)).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    c.bench_function("get_secrets of 50", |b| {
        b.iter(|| {
            let got = rt.block_on(store.get_secrets("bench", &refs)).unwrap();
            assert_eq!(got.len(), 50);
            black_box(got)
        });
    });
    // The fixed cost of one batched call, to separate it from the cost per name.
    c.bench_function("get_secrets of 1", |b| {
        b.iter(|| black_box(rt.block_on(store.get_secrets("bench", &["s0042"])).unwrap()));
    });
    // The cipher alone, for the cost per name of `get_secrets`.
    let k = key();
    let aad = b"an associated data of about the size the store uses";
    let sealed = k.encrypt_with_aad(&[b'x'; 40], aad).unwrap();
    c.bench_function("baseline: decrypt 40 bytes", |b| {
        b.iter(|| black_box(k.decrypt_with_aad(&sealed, aad).unwrap()));
    });
    // The same 50 names read one call at a time: what `get_secrets` saves.
    c.bench_function("get_secret x 50, one by one", |b| {
        b.iter(|| {
            for name in &refs {
                black_box(rt.block_on(store.get_secret("bench", name)).unwrap());
            }
        });
    });
    c.bench_function("list_secrets over 2000", |b| {
        b.iter(|| {
            let listed = rt.block_on(store.list_secrets("bench")).unwrap();
            assert_eq!(listed.len(), 2_000);
            black_box(listed)
        });
    });
}

/// Runs `body(client)` in `threads` threads at once; the time from the moment all of them
/// start to the moment the last one ends.
fn in_threads(threads: u64, body: impl Fn(u64) + Sync) -> Duration {
    let start = Barrier::new(usize::try_from(threads).unwrap());
    let spans: Vec<(Instant, Instant)> = std::thread::scope(|s| {
        let clients: Vec<_> = (0..threads)
            .map(|client| {
                let (start, body) = (&start, &body);
                s.spawn(move || {
                    start.wait();
                    let began = Instant::now();
                    body(client);
                    (began, Instant::now())
                })
            })
            .collect();
        clients.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let first = spans.iter().map(|s| s.0).min().unwrap();
    let last = spans.iter().map(|s| s.1).max().unwrap();
    last - first
}

/// One client thread per runtime of `runtimes` (current-thread runtimes), each reading
/// `iters` random names of `filled_store`'s 2,000 through it, all at once on `store`.
fn clients_read(
    store: &Arc<PersistentSecretsStore>,
    runtimes: &[tokio::runtime::Runtime],
    iters: u64,
    seed: u64,
) -> Duration {
    in_threads(runtimes.len() as u64, |client| {
        let store = Arc::clone(store);
        // xorshift64: names spread over the whole store, differently per client and call.
        let mut x = ((seed << 8) | client).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        runtimes[usize::try_from(client).unwrap()].block_on(async {
            for _ in 0..iters {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let name = format!("s{:04}", x % 2_000);
                black_box(store.get_secret("bench", &name).await.unwrap());
            }
        });
    })
}

/// Samples of the `reads` group: criterion calls the routine this many times after its
/// warm-up, each call one sample.
const READ_SAMPLES: usize = 10;
/// Rounds of the interleaved pass of the `reads` group, and reads per client thread in each.
const INTERLEAVED_ROUNDS: u64 = 15;
const INTERLEAVED_READS: u64 = 1_000;
/// Decryptions per thread in each round of the interleaved pass's baseline.
const BASELINE_DECRYPTIONS: u64 = 10_000;

/// The median of `values` (not empty).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Reads per second of `reads` reads in `time`.
fn rate(reads: u64, time: Duration) -> f64 {
    #[allow(clippy::cast_precision_loss)] // read counts far below 2^52
    let reads = reads as f64;
    reads / time.as_secs_f64()
}

/// Read throughput of one store shared by 1 and by 2 client threads (std threads, each with
/// its own current-thread runtime), and by 2 with a single read connection (every read
/// queued behind the others, as before the pool). Criterion reports reads per second of
/// each, measured one after the other; then, so that a change of load on the machine
/// affects all three alike, an interleaved pass runs them in turn, [`INTERLEAVED_ROUNDS`]
/// times, and prints each one's median rate and its ratio to one client thread.
fn parallel_reads(c: &mut Criterion) {
    let rt = runtime();
    let (dir, store) = filled_store(&rt, 2_000);
    let store = Arc::new(store);
    let single = rt
        .block_on(PersistentSecretsStore::open_with_options(
            dir.path(),
            key(),
            StoreOptions {
                read_connections: 1,
                ..StoreOptions::default()
            },
        ))
        .unwrap();
    let single = Arc::new(single);
    let client_runtimes = |threads| -> Vec<tokio::runtime::Runtime> {
        (0..threads)
            .map(|_| {
                tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap()
            })
            .collect()
    };
    let configs = [
        ("1 client thread", &store, client_runtimes(1)),
        ("2 client threads", &store, client_runtimes(2)),
        (
            "2 client threads, read_connections = 1",
            &single,
            client_runtimes(2),
        ),
    ];
    let mut group = c.benchmark_group("reads");
    group
        .sample_size(READ_SAMPLES)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    let mut ran = 0;
    for (label, store, runtimes) in &configs {
        let threads = runtimes.len() as u64;
        let calls = Cell::new(0u64);
        group.throughput(Throughput::Elements(threads));
        group.bench_function(format!("get_secret of random names, {label}"), |b| {
            b.iter_custom(|iters| {
                calls.set(calls.get() + 1);
                clients_read(store, runtimes, iters, calls.get())
            });
        });
        ran += usize::from(calls.get() > 0);
    }
    group.finish();
    if ran < configs.len() {
        return; // filtered out: nothing to compare
    }
    let mut rates = vec![Vec::new(); configs.len()];
    for round in 0..INTERLEAVED_ROUNDS {
        for ((_, store, runtimes), rates) in configs.iter().zip(&mut rates) {
            let elapsed = clients_read(store, runtimes, INTERLEAVED_READS, 1_000 + round);
            rates.push(rate(INTERLEAVED_READS * runtimes.len() as u64, elapsed));
        }
    }
    let medians: Vec<f64> = rates.into_iter().map(median).collect();
    for ((label, _, _), m) in configs.iter().zip(&medians) {
        // The figures this group exists for; criterion prints the rest.
        #[allow(clippy::print_stdout)]
        {
            println!(
                "reads, interleaved ({INTERLEAVED_ROUNDS} rounds): {label}: {m:.0} reads/s, \
                 {:.2}x 1 client thread",
                m / medians[0]
            );
        }
    }
    // What two threads of this machine give at best in the same minutes: the store's
    // decryption alone (no store, no lock, no I/O) in 1 and 2 threads, interleaved as well.
    let k = key();
    let aad = b"an associated data of about the size the store uses";
    let sealed = k.encrypt_with_aad(&[b'x'; 40], aad).unwrap();
    let decrypt = |_| {
        for _ in 0..BASELINE_DECRYPTIONS {
            black_box(k.decrypt_with_aad(&sealed, aad).unwrap());
        }
    };
    let (mut one, mut two) = (Vec::new(), Vec::new());
    for _ in 0..INTERLEAVED_ROUNDS {
        one.push(rate(BASELINE_DECRYPTIONS, in_threads(1, decrypt)));
        two.push(rate(2 * BASELINE_DECRYPTIONS, in_threads(2, decrypt)));
    }
    let (one, two) = (median(one), median(two));
    #[allow(clippy::print_stdout)]
    {
        println!(
            "reads, interleaved ({INTERLEAVED_ROUNDS} rounds): baseline, decryption alone: \
             {one:.0}/s in 1 thread, {two:.0}/s in 2, {:.2}x",
            two / one
        );
    }
}

/// A [`filled_store`] of 2,000 secrets whose handle records (`audit`) or not.
fn audited_store(
    rt: &tokio::runtime::Runtime,
    audit: bool,
) -> (tempfile::TempDir, PersistentSecretsStore) {
    let (dir, store) = filled_store(rt, 2_000);
    drop(store);
    let options = StoreOptions {
        audit,
        ..StoreOptions::default()
    };
    let store = rt
        .block_on(PersistentSecretsStore::open_with_options(
            dir.path(),
            key(),
            options,
        ))
        .unwrap();
    (dir, store)
}

/// Rounds of the interleaved pass of the `audit` group, and calls per round.
const AUDIT_ROUNDS: u32 = 15;
const AUDIT_READS: u32 = 2_000;
const AUDIT_WRITES: u32 = 100;

/// The cost of the audit log: `get_secret` and `set_secret` (durable) on a store that
/// records them and on one that does not. Criterion reports each; then an interleaved pass
/// runs on and off in turn, [`AUDIT_ROUNDS`] times, and prints the median time of each and
/// their ratio, so that a change of load on the machine affects both alike.
fn audit_cost(c: &mut Criterion) {
    let rt = runtime();
    let (_on_dir, on) = audited_store(&rt, true);
    let (_off_dir, off) = audited_store(&rt, false);
    let value = Secret::new("x".repeat(40));
    let mut group = c.benchmark_group("audit");
    let mut ran = 0;
    for (label, store) in [("on", &on), ("off", &off)] {
        let (mut reads, mut writes) = (0, 0);
        group.bench_function(format!("get_secret, auditing {label}"), |b| {
            reads += 1;
            b.iter(|| black_box(rt.block_on(store.get_secret("bench", "s0042")).unwrap()));
        });
        group.bench_function(format!("set_secret, auditing {label}"), |b| {
            writes += 1;
            b.iter(|| {
                rt.block_on(store.set_secret("bench", "s0001", &value))
                    .unwrap();
            });
        });
        ran += usize::from(reads > 0 && writes > 0);
    }
    group.finish();
    if ran < 2 {
        return; // filtered out: nothing to compare
    }
    let time = |store: &PersistentSecretsStore, calls: u32, write: bool| {
        let began = Instant::now();
        for _ in 0..calls {
            if write {
                rt.block_on(store.set_secret("bench", "s0001", &value))
                    .unwrap();
            } else {
                black_box(rt.block_on(store.get_secret("bench", "s0042")).unwrap());
            }
        }
        began.elapsed().as_secs_f64() * 1e6 / f64::from(calls)
    };
    for (what, calls, write) in [
        ("get_secret", AUDIT_READS, false),
        ("set_secret", AUDIT_WRITES, true),
    ] {
        let (mut with, mut without) = (Vec::new(), Vec::new());
        for _ in 0..AUDIT_ROUNDS {
            with.push(time(&on, calls, write));
            without.push(time(&off, calls, write));
        }
        let (with, without) = (median(with), median(without));
        #[allow(clippy::print_stdout)]
        {
            println!(
                "audit, interleaved ({AUDIT_ROUNDS} rounds): {what}: {with:.1} us recorded, \
                 {without:.1} us not recorded, {:.2}x",
                with / without
            );
        }
    }
}

fn rekeying(c: &mut Criterion) {
    let rt = runtime();
    let (_dir, store) = filled_store(&rt, 2_000);
    let mut group = c.benchmark_group("keys");
    group.sample_size(10);
    group.bench_function("rekey (one row)", |b| {
        b.iter(|| rt.block_on(store.rekey(key())).unwrap());
    });
    group.bench_function("reencrypt_all of 2000 versions", |b| {
        b.iter(|| rt.block_on(store.reencrypt_all(key())).unwrap());
    });
    group.finish();
}

/// Set in a child process of the "fresh process" benchmark: the store to open.
const CHILD_VAR: &str = "ZLAYER_SQLITE_BENCH_CHILD";

/// What the child process does: open the store and read one secret, then exit.
fn child(path: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = PersistentSecretsStore::open(path, key()).await.unwrap();
        let value = store.get_secret("bench", "s0042").await.unwrap();
        assert_eq!(value.len(), 40);
    });
}

fn open_and_read(c: &mut Criterion) {
    let rt = runtime();
    let (dir, store) = filled_store(&rt, 2_000);
    drop(store);
    // In process: a new connection, the pragmas, the schema check and the data-key unwrap,
    // then one read. Process start-up is not included.
    c.bench_function("open and read one", |b| {
        b.iter_batched(
            key,
            |key| {
                rt.block_on(async {
                    let store = PersistentSecretsStore::open(dir.path(), key).await.unwrap();
                    black_box(store.get_secret("bench", "s0042").await.unwrap())
                })
            },
            BatchSize::SmallInput,
        );
    });
    // The same from a fresh process (this benchmark binary run again): what a command-line
    // call pays, including process start-up.
    let exe = std::env::current_exe().unwrap();
    let mut group = c.benchmark_group("fresh process");
    group.sample_size(20);
    group.bench_function("open and read one", |b| {
        b.iter(|| {
            let status = std::process::Command::new(&exe)
                .env(CHILD_VAR, dir.path())
                .status()
                .unwrap();
            assert!(status.success());
        });
    });
    group.bench_function("start and exit only", |b| {
        b.iter(|| {
            let status = std::process::Command::new(&exe)
                .env(CHILD_VAR, "")
                .status()
                .unwrap();
            assert!(status.success());
        });
    });
    group.finish();
}

fn resolving(c: &mut Criterion) {
    let rt = runtime();
    let (_dir, store) = filled_store(&rt, 2_000);
    // An environment of 50 variables, 40 of them references into the same scope: what a
    // container start costs. One batched read per scope, then JSON-free substitution.
    let env: std::collections::HashMap<String, String> = (0..50)
        .map(|i| {
            let value = if i < 40 {
                format!("$S:s{:04}", i * 41)
            } else {
                format!("plain value {i}")
            };
            (format!("VAR_{i}"), value)
        })
        .collect();
    let resolver = SecretsResolver::new(store, "bench");
    c.bench_function("resolve_env of 50 entries, 40 references", |b| {
        b.iter(|| {
            let out = rt.block_on(resolver.resolve_env(&env)).unwrap();
            assert_eq!(out.len(), 50);
            black_box(out)
        });
    });
}

// `criterion_group!` generates a public function that cannot carry a doc comment.
#[allow(missing_docs)]
mod groups {
    criterion::criterion_group!(
        benches,
        super::writes,
        super::writes_normal_sync,
        super::reads,
        super::parallel_reads,
        super::audit_cost,
        super::resolving,
        super::open_and_read,
        super::rekeying
    );
}
fn main() {
    if let Ok(path) = std::env::var(CHILD_VAR) {
        if !path.is_empty() {
            child(&path);
        }
        return;
    }
    groups::benches();
    Criterion::default().configure_from_args().final_summary();
}
