//! A circuit breaker per channel: after `failures` consecutive unavailable answers it opens for
//! `open_for`; then one probe goes through (half-open): success closes it, failure re-opens it.
//! While open, packets do not call the channel at all, so a dead channel costs no time per packet
//! beyond waiting for the next probe, and never blocks the other channel.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { since: Instant },
}

/// What a caller may do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permit {
    Call,
    /// Do not call before this instant.
    WaitUntil(Instant),
}

#[derive(Debug)]
struct Inner {
    state: State,
    /// Since when the channel has been failing (first unavailable answer after the last success).
    unavailable_since: Option<Instant>,
}

#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    open_for: Duration,
    /// A probe that never reports (cancelled) frees the half-open slot after this.
    probe_timeout: Duration,
    inner: Mutex<Inner>,
}

impl Breaker {
    pub fn new(threshold: u32, open_for: Duration, probe_timeout: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            open_for,
            probe_timeout,
            inner: Mutex::new(Inner {
                state: State::Closed { failures: 0 },
                unavailable_since: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn permit(&self) -> Permit {
        let now = Instant::now();
        let mut inner = self.lock();
        match inner.state {
            State::Closed { .. } => Permit::Call,
            State::Open { until } if now >= until => {
                inner.state = State::HalfOpen { since: now };
                Permit::Call
            }
            State::Open { until } => Permit::WaitUntil(until),
            State::HalfOpen { since } if now >= since + self.probe_timeout => {
                inner.state = State::HalfOpen { since: now };
                Permit::Call
            }
            State::HalfOpen { .. } => Permit::WaitUntil(now + Duration::from_millis(100)),
        }
    }

    /// The channel answered (delivered, or rejected this packet: it is up either way).
    pub fn success(&self) {
        let mut inner = self.lock();
        inner.state = State::Closed { failures: 0 };
        inner.unavailable_since = None;
    }

    /// The channel was unavailable.
    pub fn failure(&self) {
        let now = Instant::now();
        let mut inner = self.lock();
        inner.unavailable_since.get_or_insert(now);
        inner.state = match inner.state {
            State::Closed { failures } if failures + 1 < self.threshold => State::Closed {
                failures: failures + 1,
            },
            _ => State::Open {
                until: now + self.open_for,
            },
        };
    }

    /// Rate limited: the service is up but asks us to wait; a probe that got it re-opens the breaker
    /// for the wait, closed breakers stay closed.
    pub fn rate_limited(&self, wait: Duration) {
        let mut inner = self.lock();
        if matches!(inner.state, State::HalfOpen { .. }) {
            inner.state = State::Open {
                until: Instant::now() + wait,
            };
        }
    }

    pub fn unavailable_since(&self) -> Option<Instant> {
        self.lock().unavailable_since
    }

    /// 0 closed, 1 half-open, 2 open (the gauge's value).
    pub fn state_value(&self) -> i64 {
        match self.lock().state {
            State::Closed { .. } => 0,
            State::HalfOpen { .. } => 1,
            State::Open { .. } => 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn opens_after_threshold_and_probes_after_the_wait() {
        let b = Breaker::new(2, Duration::from_secs(10), Duration::from_secs(5));
        assert_eq!(b.permit(), Permit::Call);
        b.failure();
        assert_eq!(b.permit(), Permit::Call);
        b.failure();
        assert!(matches!(b.permit(), Permit::WaitUntil(_)));
        assert_eq!(b.state_value(), 2);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(b.permit(), Permit::Call, "one probe");
        assert!(matches!(b.permit(), Permit::WaitUntil(_)), "only one probe");
        b.failure();
        assert_eq!(b.state_value(), 2);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(b.permit(), Permit::Call);
        b.success();
        assert_eq!(b.state_value(), 0);
        assert_eq!(b.unavailable_since(), None);
    }
}
