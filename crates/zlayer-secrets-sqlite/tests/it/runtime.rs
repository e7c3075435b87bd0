//! The store works under both tokio runtimes, and under no tokio runtime at all.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use zlayer_secrets_core::SecretsProvider;
use zlayer_secrets_core::testkit::steps::{put, value};

use crate::{new_store, open_a, temp_db};

async fn exercise(path: std::path::PathBuf) {
    let store = open_a(&path).await;
    put(&store, "s", "n", "v1").await;
    put(&store, "s", "n", "v2").await;
    assert_eq!(value(&store, "s", "n").await, "v2");
    assert_eq!(store.list_secrets("s").await.unwrap().len(), 1);
}

#[test]
fn current_thread_runtime() {
    let (_dir, path) = temp_db();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(exercise(path));
}

#[test]
fn multi_thread_runtime() {
    let (_dir, path) = temp_db();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(exercise(path));
}

#[tokio::test(flavor = "current_thread")]
async fn concurrent_tasks_on_one_thread_share_a_store() {
    let (_dir, _, store) = new_store().await;
    let mut tasks = Vec::new();
    for t in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                put(&store, "s", &format!("t{t}"), i.to_string()).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(store.list_secrets("s").await.unwrap().len(), 8);
}

/// A minimal executor that is not tokio: the store runs its work in place.
fn block_on<F: Future>(fut: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}

#[test]
fn no_tokio_runtime() {
    let (_dir, path) = temp_db();
    block_on(exercise(path));
}
