//! Monotonic time for breakers and backoffs, injected so tests need not sleep.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A monotonic clock; tests use [`ManualMonotonicClock`] so they need not sleep through a cooldown.
pub trait MonotonicClock: Send + Sync + 'static {
    fn now(&self) -> Instant;
}

/// The real monotonic clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemMonotonicClock;

impl MonotonicClock for SystemMonotonicClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// tokio's clock: the real one, or the paused one of a `#[tokio::test(start_paused = true)]`, so
/// code that sleeps with `tokio::time` and asks a breaker sees one time.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioMonotonicClock;

impl MonotonicClock for TokioMonotonicClock {
    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }
}

/// A clock that moves only when told to. Clones share the same time.
#[derive(Clone, Debug)]
pub struct ManualMonotonicClock(Arc<Mutex<Instant>>);

impl Default for ManualMonotonicClock {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(Instant::now())))
    }
}

impl ManualMonotonicClock {
    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *t += by;
    }
}

impl MonotonicClock for ManualMonotonicClock {
    fn now(&self) -> Instant {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_clones_share_it() {
        let clock = ManualMonotonicClock::default();
        let t0 = clock.now();
        assert_eq!(clock.now(), t0);
        clock.clone().advance(Duration::from_secs(30));
        assert_eq!(clock.now(), t0 + Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn the_tokio_clock_follows_paused_time() {
        let t0 = TokioMonotonicClock.now();
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(TokioMonotonicClock.now(), t0 + Duration::from_secs(10));
    }
}
