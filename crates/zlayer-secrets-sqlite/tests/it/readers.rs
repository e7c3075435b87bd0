//! Reads in parallel: the pool of read connections beside the writer, and the data key they
//! share with it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use zlayer_secrets_core::testkit::steps::{put, set_op, value};
use zlayer_secrets_core::{
    BatchSecretsStore, SecretsError, SecretsProvider, VersionedSecretsStore,
};
use zlayer_secrets_sqlite::{PersistentSecretsStore, StoreOptions};

use crate::{key_a, key_b, open_a, open_with, temp_db};

/// Batches of writes the writer makes while the readers read.
const WRITES: u64 = 60;
/// Reader tasks.
const READERS: usize = 4;
/// How long a read may take while a write is held open before the test calls it stuck.
/// Only a deadline for a read that would otherwise wait for ever; not a speed target.
const STUCK: Duration = Duration::from_secs(60);

fn options(read_connections: usize) -> StoreOptions {
    StoreOptions {
        read_connections,
        // Every version stays readable, so that a reader can read the version it was told
        // is current.
        retention: u32::try_from(WRITES).unwrap() + 1,
        ..StoreOptions::default()
    }
}

/// `n` as a secret's value.
fn parse(scope_name: &str, text: &str) -> u64 {
    text.parse()
        .unwrap_or_else(|_| panic!("{scope_name} holds a value never written: {text:?}"))
}

/// One reader's loop: reads `s/a` and `s/b` (always written together, in one batch) in
/// every way the store reads, until it has seen the last write. Every read must succeed
/// and show one of the written states, never going back to an older one.
async fn read_until_last(store: Arc<PersistentSecretsStore>, reader: usize) {
    let mut seen = 0u64;
    while seen < WRITES {
        let both = store
            .get_secrets("s", &["a", "b"])
            .await
            .unwrap_or_else(|e| panic!("reader {reader}: get_secrets: {e}"));
        let a = parse("s/a", both["a"].expose());
        let b = parse("s/b", both["b"].expose());
        assert_eq!(a, b, "reader {reader}: one read saw half of a batch");
        assert!(a >= seen, "reader {reader}: went back from {seen} to {a}");
        seen = a;

        let single = store
            .get_secret("s", "a")
            .await
            .unwrap_or_else(|e| panic!("reader {reader}: get_secret: {e}"));
        let single = parse("s/a", single.expose());
        assert!(
            single >= seen,
            "reader {reader}: went back from {seen} to {single}"
        );
        seen = single;

        let meta = store
            .get_metadata("s", "a")
            .await
            .unwrap_or_else(|e| panic!("reader {reader}: get_metadata: {e}"));
        // Version 1 holds 0, version n + 1 holds n.
        let at = store
            .get_secret_version("s", "a", meta.version)
            .await
            .unwrap_or_else(|e| panic!("reader {reader}: version {}: {e}", meta.version));
        assert_eq!(
            parse("s/a", at.expose()),
            u64::from(meta.version) - 1,
            "reader {reader}: version {} holds another write's value",
            meta.version
        );
        assert!(
            u64::from(meta.version) > seen,
            "reader {reader}: metadata went back"
        );

        let listed = store
            .list_secrets("s")
            .await
            .unwrap_or_else(|e| panic!("reader {reader}: list_secrets: {e}"));
        assert_eq!(listed.len(), 2, "reader {reader}: listing");
        assert!(
            store
                .exists("s", "b")
                .await
                .unwrap_or_else(|e| panic!("reader {reader}: exists: {e}")),
            "reader {reader}: s/b vanished"
        );
        let versions = store
            .list_versions("s", "b")
            .await
            .unwrap_or_else(|e| panic!("reader {reader}: list_versions: {e}"));
        assert_eq!(versions.first().map(|v| v.version), Some(1));
    }
}

/// Readers in several tasks on a multi-thread runtime, a writer in another, one store.
async fn readers_and_a_writer(read_connections: usize) {
    let (_dir, path) = temp_db();
    let store = Arc::new(open_with(&path, options(read_connections)).await);
    store
        .apply_batch(&[set_op("s", "a", "0"), set_op("s", "b", "0")])
        .await
        .unwrap();
    let readers: Vec<_> = (0..READERS)
        .map(|reader| tokio::spawn(read_until_last(Arc::clone(&store), reader)))
        .collect();
    let writer = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            for i in 1..=WRITES {
                let i = i.to_string();
                store
                    .apply_batch(&[set_op("s", "a", &i), set_op("s", "b", &i)])
                    .await
                    .unwrap_or_else(|e| panic!("write {i}: {e}"));
            }
        })
    };
    writer.await.unwrap();
    for reader in readers {
        reader.await.unwrap();
    }
    assert_eq!(value(&*store, "s", "a").await, WRITES.to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_see_whole_writes_in_order_while_one_writer_writes() {
    readers_and_a_writer(4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_read_connection_serves_readers_in_many_tasks() {
    readers_and_a_writer(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_in_several_threads_share_one_store() {
    // Plain threads, each with its own runtime, as a server's request threads would be.
    let (_dir, path) = temp_db();
    let store = Arc::new(open_with(&path, options(2)).await);
    store
        .apply_batch(&[set_op("s", "a", "0"), set_op("s", "b", "0")])
        .await
        .unwrap();
    let threads: Vec<_> = (0..READERS)
        .map(|reader| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap()
                    .block_on(read_until_last(store, reader));
            })
        })
        .collect();
    for i in 1..=WRITES {
        let i = i.to_string();
        store
            .apply_batch(&[set_op("s", "a", &i), set_op("s", "b", &i)])
            .await
            .unwrap();
    }
    for thread in threads {
        thread.join().unwrap();
    }
}

/// Reads while this store's re-encryption is held open between its first progress report
/// and the commit: they are not queued behind it, and they read the old data key's values.
/// (Their audit entries are queued, and committed after the re-encryption.)
async fn reads_during_a_reencryption(read_connections: usize) {
    let (_dir, path) = temp_db();
    let store = open_with(&path, options(read_connections)).await;
    put(&store, "s", "a", "1").await;
    put(&store, "s", "b", "2").await;

    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let rotation = {
        let store = store.clone();
        let mut first = true;
        tokio::spawn(async move {
            store
                .reencrypt_all_with_progress(key_b(), move |_, _| {
                    if std::mem::take(&mut first) {
                        started_tx.send(()).unwrap();
                        // Waits for the test, or for its end if it failed.
                        release_rx.recv().ok();
                    }
                })
                .await
        })
    };
    tokio::task::spawn_blocking(move || started_rx.recv())
        .await
        .unwrap()
        .unwrap();

    let reads = async {
        assert_eq!(value(&store, "s", "a").await, "1");
        let both = store.get_secrets("s", &["a", "b"]).await.unwrap();
        assert_eq!(both["b"].expose(), "2");
        assert_eq!(store.list_secrets("s").await.unwrap().len(), 2);
        assert!(store.exists("s", "b").await.unwrap());
        assert_eq!(store.get_metadata("s", "a").await.unwrap().version, 1);
        let info = store.key_info().await.unwrap();
        assert_eq!(info.data_key_generation, 1, "not committed yet");
        assert_eq!(info.fingerprint, key_a().fingerprint());
    };
    let in_time = tokio::time::timeout(STUCK, reads).await;
    release_tx.send(()).unwrap();
    let report = rotation.await.unwrap().unwrap();
    in_time.expect("reads waited for the write under way");

    // Right after the call returns, reads use the new data key, on the connections
    // that read with the old one a moment ago.
    assert_eq!(report.data_key_generation, 2);
    let info = store.key_info().await.unwrap();
    assert_eq!(info.data_key_generation, 2);
    assert_eq!(info.fingerprint, key_b().fingerprint());
    assert_eq!(value(&store, "s", "a").await, "1");
    assert_eq!(store.get_secrets("s", &["a", "b"]).await.unwrap().len(), 2);
    drop(store);
    let reopened = PersistentSecretsStore::open(&path, key_b()).await.unwrap();
    assert_eq!(value(&reopened, "s", "b").await, "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_not_queued_behind_a_reencryption() {
    reads_during_a_reencryption(4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_read_connection_reads_during_a_reencryption() {
    reads_during_a_reencryption(1).await;
}

/// Readers that loop on `store` until `stop` is set, each read succeeding with one of the
/// values `s/n` was given (`0`, `1`, ...), never an older one than before. Each reader
/// makes one read before the function returns.
async fn looping_readers(
    store: &PersistentSecretsStore,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<u64>> {
    let ready = Arc::new(tokio::sync::Barrier::new(READERS + 1));
    let readers = (0..READERS)
        .map(|reader| {
            let (store, stop, ready) = (store.clone(), Arc::clone(stop), Arc::clone(&ready));
            tokio::spawn(async move {
                let mut seen = 0;
                let mut done = 0u64;
                loop {
                    let got = store
                        .get_secret("s", "n")
                        .await
                        .unwrap_or_else(|e| panic!("reader {reader}: {e}"));
                    let got = parse("s/n", got.expose());
                    assert!(
                        got >= seen,
                        "reader {reader}: went back from {seen} to {got}"
                    );
                    seen = got;
                    let listed = store
                        .list_secrets("s")
                        .await
                        .unwrap_or_else(|e| panic!("reader {reader}: list: {e}"));
                    assert_eq!(listed.len(), 1);
                    done += 1;
                    if done == 1 {
                        ready.wait().await;
                    }
                    if stop.load(Ordering::Acquire) {
                        return done;
                    }
                }
            })
        })
        .collect();
    ready.wait().await;
    readers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_follow_this_stores_reencryptions_without_an_error() {
    let (_dir, path) = temp_db();
    let store = open_a(&path).await;
    put(&store, "s", "n", "0").await;
    let stop = Arc::new(AtomicBool::new(false));
    let readers = looping_readers(&store, &stop).await;

    for round in 1..=8u32 {
        // The outer key changes every time, so that a read with a stale key could not
        // even unwrap the data key.
        let new_key = if round % 2 == 1 { key_b() } else { key_a() };
        let fingerprint = new_key.fingerprint();
        let report = store.reencrypt_all(new_key).await.unwrap();
        assert_eq!(report.data_key_generation, round + 1);
        let info = store.key_info().await.unwrap();
        assert_eq!(info.data_key_generation, round + 1, "seen right after");
        assert_eq!(info.fingerprint, fingerprint);
        put(&store, "s", "n", round.to_string()).await;
        assert_eq!(value(&store, "s", "n").await, round.to_string());
    }
    stop.store(true, Ordering::Release);
    for reader in readers {
        assert!(reader.await.unwrap() >= 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_pick_up_a_data_key_another_store_object_replaced() {
    let (_dir, path) = temp_db();
    let first = open_a(&path).await;
    put(&first, "s", "n", "0").await;
    let second = open_a(&path).await;
    let stop = Arc::new(AtomicBool::new(false));
    let readers = looping_readers(&first, &stop).await;

    for round in 1..=6u32 {
        // Same outer key: the first store can unwrap each new data key it finds.
        let report = second.reencrypt_all(key_a()).await.unwrap();
        assert_eq!(report.data_key_generation, round + 1);
        put(&second, "s", "n", round.to_string()).await;
        // The first store's readers find the new data key in the next read.
        assert_eq!(value(&first, "s", "n").await, round.to_string());
        assert_eq!(
            first.key_info().await.unwrap().data_key_generation,
            round + 1
        );
    }
    stop.store(true, Ordering::Release);
    for reader in readers {
        assert!(reader.await.unwrap() >= 1);
    }
    // The first store's writer uses the data key its readers picked up.
    put(&first, "s", "n", "last").await;
    assert_eq!(value(&second, "s", "n").await, "last");
    drop((first, second));
    assert_eq!(value(&open_a(&path).await, "s", "n").await, "last");
}

#[tokio::test]
async fn a_data_key_replaced_under_another_key_is_refused_by_every_read() {
    let (_dir, path) = temp_db();
    let first = open_a(&path).await;
    put(&first, "s", "n", "v").await;
    let second = open_a(&path).await;
    second.reencrypt_all(key_b()).await.unwrap();
    let wrong_key = |e: &SecretsError| matches!(e, SecretsError::WrongKey { .. });
    let err = first.get_secret("s", "n").await.unwrap_err();
    assert!(wrong_key(&err), "{err}");
    let err = first.get_secrets("s", &["n"]).await.unwrap_err();
    assert!(wrong_key(&err), "{err}");
    let err = first.list_secrets("s").await.unwrap_err();
    assert!(wrong_key(&err), "{err}");
    let err = first.key_info().await.unwrap_err();
    assert!(wrong_key(&err), "{err}");
}

#[tokio::test]
async fn zero_read_connections_are_refused() {
    let (_dir, path) = temp_db();
    let err = PersistentSecretsStore::open_with_options(&path, key_a(), options(0))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SecretsError::InvalidInput { what, .. } if what == "read connections 0"),
        "{err}"
    );
    assert!(!path.exists(), "nothing was created");
}
