//! What several fuzz targets share: running the stores' futures without a runtime, and
//! marking the values whose leaks a target looks for.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Marks every value whose leaks are checked: no error message text contains it by chance.
pub const MARK: char = '\u{2603}';

/// `s` with [`MARK`] in front.
pub fn marked(s: &str) -> String {
    format!("{MARK}{s}")
}

/// Polls a future that never waits (a `MemoryStore` only takes a mutex) to completion.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1000 {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
    panic!("a MemoryStore operation did not complete");
}
