//! A limit on failed authentications per client address.
//!
//! Each address may fail [`FailureLimiter::max_failures`] times within a window; after that
//! its requests that need authentication are answered 429 until the window ends, without
//! doing the work of checking (so the limit also caps the Argon2id work an address can
//! cause). A success does not reset the count: the window does.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries kept at most; past this, expired windows are dropped, and if none expired the
/// oldest window goes.
const MAX_TRACKED: usize = 10_000;

/// Failed authentications per address.
#[derive(Debug)]
pub(crate) struct FailureLimiter {
    max_failures: u32,
    window: Duration,
    seen: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl FailureLimiter {
    pub(crate) fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures: max_failures.max(1),
            window,
            seen: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, (Instant, u32)>> {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `Some(seconds to wait)` when `addr` has used up its failures in the current window.
    pub(crate) fn blocked(&self, addr: IpAddr) -> Option<u64> {
        let seen = self.lock();
        let (start, count) = seen.get(&addr)?;
        let elapsed = start.elapsed();
        (elapsed < self.window && *count >= self.max_failures)
            .then(|| self.window.saturating_sub(elapsed).as_secs().max(1))
    }

    /// Counts a failed authentication of `addr`.
    pub(crate) fn failed(&self, addr: IpAddr) {
        let mut seen = self.lock();
        let now = Instant::now();
        if seen.len() >= MAX_TRACKED && !seen.contains_key(&addr) {
            seen.retain(|_, (start, _)| now.duration_since(*start) < self.window);
            if seen.len() >= MAX_TRACKED
                && let Some(oldest) = seen.iter().min_by_key(|(_, (s, _))| *s).map(|(a, _)| *a)
            {
                seen.remove(&oldest);
            }
        }
        let entry = seen.entry(addr).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_blocked_after_its_failures_and_others_are_not() {
        let limiter = FailureLimiter::new(3, Duration::from_secs(60));
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        for _ in 0..2 {
            limiter.failed(a);
        }
        assert_eq!(limiter.blocked(a), None);
        limiter.failed(a);
        assert!(limiter.blocked(a).is_some());
        assert_eq!(limiter.blocked(b), None);
    }

    #[test]
    fn the_window_ends() {
        let limiter = FailureLimiter::new(1, Duration::ZERO);
        let a: IpAddr = "::1".parse().unwrap();
        limiter.failed(a);
        assert_eq!(limiter.blocked(a), None);
    }
}
