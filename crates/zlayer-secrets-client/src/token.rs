//! The bearer token: when to renew it, and the one kept in memory.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::HeaderValue;
use zeroize::Zeroizing;

/// Renew a token when less than this much of its life remains (or 10 % of its lifetime,
/// when that is less: see [`renewal_margin`]).
pub(crate) const RENEW_BEFORE: Duration = Duration::from_secs(60);

/// How long before its end a token of `lifetime` is renewed: 60 s, or a tenth of the
/// lifetime for tokens shorter than 10 minutes (a token of 30 s is renewed with 3 s left,
/// not at once).
pub(crate) fn renewal_margin(lifetime: Duration) -> Duration {
    RENEW_BEFORE.min(lifetime / 10)
}

/// Whether a token of `lifetime`, obtained `age` ago, should be replaced before the next
/// request: it has expired, or less than its [`renewal_margin`] remains.
pub(crate) fn needs_renewal(age: Duration, lifetime: Duration) -> bool {
    lifetime
        .checked_sub(age)
        .is_none_or(|left| left.is_zero() || left < renewal_margin(lifetime))
}

/// A token obtained from `POST /auth/token`.
pub(crate) struct Token {
    /// `Bearer TOKEN`, wiped on drop.
    bearer: Zeroizing<String>,
    /// When it was asked for (a little before the server issued it: renewal errs early).
    obtained: Instant,
    /// The lifetime the server gave.
    lifetime: Duration,
    /// Which token of this client it is (1, 2, ...), so that a 401 drops only the token the
    /// refused request carried.
    pub(crate) generation: u64,
}

impl Token {
    /// A token `access_token` (moved in, and wiped with the token) asked for at `obtained`,
    /// valid for `lifetime`.
    pub(crate) fn new(
        access_token: &str,
        obtained: Instant,
        lifetime: Duration,
        generation: u64,
    ) -> Self {
        let mut bearer = Zeroizing::new(String::with_capacity(7 + access_token.len()));
        bearer.push_str("Bearer ");
        bearer.push_str(access_token);
        Self {
            bearer,
            obtained,
            lifetime,
            generation,
        }
    }

    /// Whether it should be replaced before a request sent `now`.
    pub(crate) fn needs_renewal(&self, now: Instant) -> bool {
        needs_renewal(now.saturating_duration_since(self.obtained), self.lifetime)
    }

    /// The `Authorization` header, marked sensitive (never shown by the HTTP stack's
    /// `Debug`); `None` if the token cannot be a header value.
    pub(crate) fn header(&self) -> Option<HeaderValue> {
        let mut value = HeaderValue::from_str(&self.bearer).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

/// The token of a client: none until the first request that needs one.
#[derive(Default)]
pub(crate) struct TokenSlot {
    current: tokio::sync::Mutex<Option<Arc<Token>>>,
    /// How many tokens were obtained.
    obtained: std::sync::atomic::AtomicU64,
}

impl TokenSlot {
    /// The current token if it needs no renewal, else a new one from `obtain` (which gets
    /// the next generation number). Concurrent callers wait for one renewal instead of
    /// each asking for a token.
    pub(crate) async fn get<F, Fut>(&self, obtain: F) -> zlayer_secrets_core::Result<Arc<Token>>
    where
        F: FnOnce(u64) -> Fut,
        Fut: Future<Output = zlayer_secrets_core::Result<Token>>,
    {
        let mut slot = self.current.lock().await;
        if let Some(token) = slot.as_ref()
            && !token.needs_renewal(Instant::now())
        {
            return Ok(token.clone());
        }
        // Generations count every token obtained, so that none is used twice.
        let generation = self.obtained() + 1;
        let token = Arc::new(obtain(generation).await?);
        self.obtained
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *slot = Some(token.clone());
        Ok(token)
    }

    /// How many tokens were obtained so far.
    pub(crate) fn obtained(&self) -> u64 {
        self.obtained.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Drops the token of `generation` (the server refused it); a newer one is kept.
    pub(crate) async fn refused(&self, generation: u64) {
        let mut slot = self.current.lock().await;
        if slot.as_ref().is_some_and(|t| t.generation == generation) {
            *slot = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn an_hour_long_token_is_renewed_in_its_last_minute() {
        let hour = secs(3600);
        assert_eq!(renewal_margin(hour), secs(60));
        assert!(!needs_renewal(secs(0), hour));
        assert!(!needs_renewal(secs(3540), hour), "exactly 60 s left");
        assert!(needs_renewal(secs(3541), hour));
        assert!(needs_renewal(secs(3600), hour));
        assert!(needs_renewal(secs(9999), hour));
    }

    #[test]
    fn short_tokens_are_renewed_in_their_last_tenth() {
        assert_eq!(renewal_margin(secs(600)), secs(60));
        assert_eq!(renewal_margin(secs(300)), secs(30));
        assert_eq!(renewal_margin(secs(30)), secs(3));
        assert!(!needs_renewal(secs(27), secs(30)));
        assert!(needs_renewal(Duration::from_millis(27_001), secs(30)));
        assert_eq!(renewal_margin(secs(1)), Duration::from_millis(100));
        assert!(!needs_renewal(Duration::from_millis(899), secs(1)));
        assert!(needs_renewal(Duration::from_millis(901), secs(1)));
    }

    #[test]
    fn a_token_without_lifetime_is_always_renewed() {
        assert!(needs_renewal(secs(0), secs(0)));
    }

    #[test]
    fn the_header_is_bearer_and_sensitive() {
        let token = Token::new("abc.def", Instant::now(), secs(60), 1);
        let header = token.header().unwrap();
        assert_eq!(header.to_str().unwrap(), "Bearer abc.def");
        assert!(header.is_sensitive());
        assert!(!format!("{header:?}").contains("abc.def"));
        assert!(
            Token::new("a\nb", Instant::now(), secs(60), 1)
                .header()
                .is_none()
        );
    }

    #[test]
    fn the_slot_renews_only_when_needed_and_drops_only_the_refused_token() {
        zlayer_secrets_core::testkit::block_on(async {
            let slot = TokenSlot::default();
            let fresh = |lifetime: Duration| {
                move |generation| async move {
                    Ok(Token::new("t", Instant::now(), lifetime, generation))
                }
            };
            let first = slot.get(fresh(secs(3600))).await.unwrap();
            assert_eq!(first.generation, 1);
            let again = slot
                .get(|_| async { panic!("a valid token is not renewed") })
                .await
                .unwrap();
            assert_eq!(again.generation, 1);

            // A refusal of an older token leaves the current one.
            slot.refused(0).await;
            assert_eq!(slot.get(fresh(secs(3600))).await.unwrap().generation, 1);
            slot.refused(1).await;
            let second = slot.get(fresh(secs(0))).await.unwrap();
            assert_eq!(second.generation, 2);
            // A token already at its end is replaced at the next request.
            assert_eq!(slot.get(fresh(secs(3600))).await.unwrap().generation, 3);
            assert_eq!(slot.obtained(), 3);
        });
    }
}
