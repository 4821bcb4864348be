//! Readiness follows the broker: a stage that cannot reach its broker answers `/readyz` 503
//! (`crates/runtime/RULES.md` rule 5).
//!
//! Every quarter of `http.unready_after_ms` the probe asks the broker for the input topic's
//! metadata on the stage's producer client (one small request, on a connection the producer keeps
//! anyway), with a timeout of a quarter of the bound. When no probe has succeeded for
//! `unready_after_ms` the stage turns not-ready; the first success turns it ready again. The
//! consumer, the producer and their retries carry on meanwhile: readiness only tells the
//! orchestrator and the operator, it stops nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::producer::{FutureProducer, Producer};
use tokio_util::sync::CancellationToken;

use crate::http::Health;

/// Probes per bound.
const PROBES_PER_BOUND: u32 = 4;

/// Whether the broker counts as reachable, from the outcomes of probes (the pure rule).
#[derive(Debug)]
pub(crate) struct Reachability {
    bound: Duration,
    last_ok: Instant,
    reachable: bool,
}

impl Reachability {
    pub(crate) fn new(bound: Duration, now: Instant) -> Self {
        Self {
            bound,
            last_ok: now,
            reachable: true,
        }
    }

    /// Records one probe's outcome at `now`; returns the new state when it changed.
    pub(crate) fn observe(&mut self, ok: bool, now: Instant) -> Option<bool> {
        if ok {
            self.last_ok = now;
        }
        let reachable = now.saturating_duration_since(self.last_ok) < self.bound;
        if reachable == self.reachable {
            return None;
        }
        self.reachable = reachable;
        Some(reachable)
    }
}

/// Starts the probe; `bound` zero disables it. It ends with `stop`.
pub(crate) fn spawn_broker_probe(
    producer: FutureProducer,
    topic: String,
    health: Arc<Health>,
    bound: Duration,
    stop: CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    if bound.is_zero() {
        return None;
    }
    let every = bound / PROBES_PER_BOUND;
    Some(tokio::spawn(async move {
        let mut state = Reachability::new(bound, Instant::now());
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let p = producer.clone();
            let t = topic.clone();
            let ok = tokio::task::spawn_blocking(move || {
                p.client().fetch_metadata(Some(&t), every).is_ok()
            })
            .await
            .unwrap_or(false);
            match state.observe(ok, Instant::now()) {
                Some(false) => {
                    tracing::warn!(
                        unready_after_ms = bound.as_millis() as u64,
                        "no request to the broker has succeeded for http.unready_after_ms; \
                         /readyz answers 503 until one does"
                    );
                    health.set_broker_reachable(false);
                }
                Some(true) => {
                    tracing::info!("the broker answers again; /readyz follows the stage again");
                    health.set_broker_reachable(true);
                }
                None => {}
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUND: Duration = Duration::from_secs(15);

    #[test]
    fn unreachable_after_the_bound_without_a_success_and_back_at_the_first_success() {
        let t0 = Instant::now();
        let mut r = Reachability::new(BOUND, t0);
        let at = |s: u64| t0 + Duration::from_secs(s);
        assert_eq!(r.observe(true, at(3)), None);
        // failures inside the bound change nothing
        assert_eq!(r.observe(false, at(7)), None);
        assert_eq!(r.observe(false, at(17)), None);
        assert_eq!(r.observe(false, at(18)), Some(false));
        assert_eq!(r.observe(false, at(40)), None);
        assert_eq!(r.observe(true, at(41)), Some(true));
        assert_eq!(r.observe(true, at(44)), None);
    }

    #[test]
    fn a_broker_that_never_answered_counts_from_the_start() {
        let t0 = Instant::now();
        let mut r = Reachability::new(BOUND, t0);
        assert_eq!(r.observe(false, t0 + Duration::from_secs(14)), None);
        assert_eq!(r.observe(false, t0 + BOUND), Some(false));
    }
}
