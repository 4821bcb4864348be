//! A channel with its circuit breaker (RULES.md §2): after `breaker_failures` consecutive unavailable
//! answers the breaker opens for `breaker_open`; then one probe goes through (half-open): success
//! closes it, failure re-opens it. While open, packets do not call the channel at all, so a dead
//! channel costs no time per packet beyond waiting for the next probe, and never blocks the other
//! channel. The breaker is the runtime's (`leadflow_runtime::resilience`); time is tokio's, so the
//! delivery engine's sleeps and the breaker agree, paused in tests.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use leadflow_runtime::resilience::{
    BreakerConfig, CircuitBreaker, MonotonicClock, Permit, TokioMonotonicClock,
};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::channel::Channel;

/// A channel with its breaker.
pub struct Lane {
    pub channel: Arc<dyn Channel>,
    breaker: Mutex<CircuitBreaker>,
    clock: TokioMonotonicClock,
    /// Counts the channel's recoveries (an answer after a failing streak): packets backing off
    /// after an outage retry as soon as it moves, not when their own backoff ends (RULES.md §2).
    recoveries: watch::Sender<u64>,
}

/// What a caller may do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LanePermit {
    Call,
    /// Do not call before this instant.
    WaitUntil(Instant),
}

impl Lane {
    pub fn new(channel: Arc<dyn Channel>, breaker: BreakerConfig) -> Self {
        Self {
            channel,
            breaker: Mutex::new(CircuitBreaker::new(breaker)),
            clock: TokioMonotonicClock,
            recoveries: watch::Sender::new(0),
        }
    }

    fn breaker(&self) -> MutexGuard<'_, CircuitBreaker> {
        self.breaker.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn permit(&self) -> LanePermit {
        match self.breaker().permit(self.clock.now()) {
            Permit::Call => LanePermit::Call,
            Permit::WaitUntil(until) => LanePermit::WaitUntil(Instant::from_std(until)),
        }
    }

    /// The channel answered (delivered, or rejected this packet: it is up either way). After a
    /// failing streak this is a recovery: the packets backing off are woken.
    pub fn success(&self) {
        let recovered = {
            let mut b = self.breaker();
            let failing = b.unavailable_since().is_some();
            b.on_success();
            failing
        };
        if recovered {
            self.recoveries.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// Sees the channel's next recovery: take it before an attempt, await `changed()` while
    /// backing off after it.
    pub fn recoveries(&self) -> watch::Receiver<u64> {
        self.recoveries.subscribe()
    }

    /// The channel was unavailable.
    pub fn failure(&self) {
        self.breaker().on_failure(self.clock.now());
    }

    /// Rate limited: the service is up but asks us to wait; a probe that got it re-opens the breaker
    /// for the wait, closed breakers stay closed.
    pub fn rate_limited(&self, wait: Duration) {
        self.breaker().on_rate_limited(self.clock.now(), wait);
    }

    /// Since when the channel has been failing (first unavailable answer after the last success).
    pub fn unavailable_since(&self) -> Option<Instant> {
        self.breaker().unavailable_since().map(Instant::from_std)
    }

    /// 0 closed, 1 half-open, 2 open (the gauge's value): the state the last call left, so an open
    /// breaker reads open until a packet asks after its wait.
    pub fn state_value(&self) -> i64 {
        self.breaker().recorded_state().gauge_value()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::{Attempt, ChannelError, Delivered};
    use crate::packet::Handoff;
    use futures::future::BoxFuture;

    struct Idle;

    impl Channel for Idle {
        fn kind(&self) -> leadflow_events::DeliveryChannel {
            leadflow_events::DeliveryChannel::Slack
        }

        fn deliver<'a>(
            &'a self,
            _: &'a Handoff,
            _: &'a Attempt<'a>,
        ) -> BoxFuture<'a, Result<Delivered, ChannelError>> {
            Box::pin(async { Err(ChannelError::unavailable("idle")) })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn opens_after_threshold_and_probes_after_the_wait() {
        let config = BreakerConfig {
            threshold: 2,
            open_for: Duration::from_secs(10),
            probe_timeout: Some(Duration::from_secs(5)),
        };
        let b = Lane::new(Arc::new(Idle), config);
        assert_eq!(b.permit(), LanePermit::Call);
        b.failure();
        assert_eq!(b.permit(), LanePermit::Call);
        b.failure();
        assert!(matches!(b.permit(), LanePermit::WaitUntil(_)));
        assert_eq!(b.state_value(), 2);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(b.state_value(), 2, "open until a packet asks");
        assert_eq!(b.permit(), LanePermit::Call, "one probe");
        assert!(
            matches!(b.permit(), LanePermit::WaitUntil(_)),
            "only one probe"
        );
        assert_eq!(b.state_value(), 1);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(b.permit(), LanePermit::Call, "a lost probe's slot is freed");
        b.failure();
        assert_eq!(b.state_value(), 2);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(b.permit(), LanePermit::Call);
        b.success();
        assert_eq!(b.state_value(), 0);
        assert_eq!(b.unavailable_since(), None);
    }
}
