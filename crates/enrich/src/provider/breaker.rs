//! A circuit breaker with injected time: opens after N consecutive failures, lets one trial request
//! through after a cooldown (half-open), closes again when the trial succeeds.

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

/// The breaker's state as observed from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Requests flow; `failures` consecutive failures so far.
    Closed { failures: u32 },
    /// Requests are refused until the cooldown has passed.
    Open,
    /// The cooldown passed: one trial request may go (or is in flight).
    HalfOpen,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { trial_in_flight: bool },
}

/// Consecutive-failure circuit breaker. Pure: every decision takes `now`.
#[derive(Clone, Debug)]
pub struct CircuitBreaker {
    threshold: u32,
    cooldown: Duration,
    state: State,
}

impl CircuitBreaker {
    /// Opens after `threshold` (at least 1) consecutive failures, for `cooldown`.
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            cooldown,
            state: State::Closed { failures: 0 },
        }
    }

    /// Whether a request may go now; in half-open state only one trial is admitted at a time.
    pub fn try_acquire(&mut self, now: Instant) -> bool {
        match self.state {
            State::Closed { .. } => true,
            State::Open { until } if now >= until => {
                self.state = State::HalfOpen {
                    trial_in_flight: true,
                };
                true
            }
            State::Open { .. } => false,
            State::HalfOpen { trial_in_flight } => {
                if trial_in_flight {
                    false
                } else {
                    self.state = State::HalfOpen {
                        trial_in_flight: true,
                    };
                    true
                }
            }
        }
    }

    /// The request admitted last succeeded: close.
    pub fn on_success(&mut self) {
        self.state = State::Closed { failures: 0 };
    }

    /// The request admitted last failed: count it; open at the threshold, or re-open after a failed
    /// trial.
    pub fn on_failure(&mut self, now: Instant) {
        self.state = match self.state {
            State::Closed { failures } if failures + 1 < self.threshold => State::Closed {
                failures: failures + 1,
            },
            State::Closed { .. } | State::HalfOpen { .. } | State::Open { .. } => State::Open {
                until: now + self.cooldown,
            },
        };
    }

    /// The state at `now` (an open breaker whose cooldown passed reports half-open).
    pub fn state(&self, now: Instant) -> BreakerState {
        match self.state {
            State::Closed { failures } => BreakerState::Closed { failures },
            State::Open { until } if now >= until => BreakerState::HalfOpen,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug)]
    enum Step {
        /// Try to acquire at t (ms), expecting admission or not.
        Acquire(u64, bool),
        Success,
        Failure(u64),
        /// Expected state at t (ms).
        State(u64, BreakerState),
    }

    #[test]
    fn scenarios() {
        use BreakerState::*;
        use Step::*;
        let cases: &[(&str, &[Step])] = &[
            (
                "opens at the threshold",
                &[
                    Acquire(0, true),
                    Failure(0),
                    State(0, Closed { failures: 1 }),
                    Acquire(1, true),
                    Failure(1),
                    Acquire(2, true),
                    Failure(2),
                    State(2, Open),
                    Acquire(3, false),
                ],
            ),
            (
                "a success resets the count",
                &[
                    Acquire(0, true),
                    Failure(0),
                    Acquire(0, true),
                    Failure(0),
                    Acquire(0, true),
                    Success,
                    State(0, Closed { failures: 0 }),
                    Acquire(0, true),
                    Failure(0),
                    State(0, Closed { failures: 1 }),
                ],
            ),
            (
                "half-open after the cooldown admits one trial; success closes",
                &[
                    Acquire(0, true),
                    Failure(0),
                    Acquire(0, true),
                    Failure(0),
                    Acquire(0, true),
                    Failure(0),
                    Acquire(999, false),
                    State(1000, HalfOpen),
                    Acquire(1000, true),
                    Acquire(1001, false),
                    Success,
                    State(1001, Closed { failures: 0 }),
                    Acquire(1001, true),
                ],
            ),
            (
                "a failed trial re-opens for a full cooldown",
                &[
                    Acquire(0, true),
                    Failure(0),
                    Acquire(0, true),
                    Failure(0),
                    Acquire(0, true),
                    Failure(0),
                    Acquire(1500, true),
                    Failure(1500),
                    State(1500, Open),
                    Acquire(2499, false),
                    Acquire(2500, true),
                ],
            ),
        ];
        for (name, steps) in cases {
            let t0 = Instant::now();
            let at = |ms: u64| t0 + Duration::from_millis(ms);
            let mut b = CircuitBreaker::new(3, Duration::from_millis(1000));
            for (i, step) in steps.iter().enumerate() {
                match *step {
                    Acquire(t, want) => assert_eq!(b.try_acquire(at(t)), want, "{name}: step {i}"),
                    Success => b.on_success(),
                    Failure(t) => b.on_failure(at(t)),
                    State(t, want) => assert_eq!(b.state(at(t)), want, "{name}: step {i}"),
                }
            }
        }
    }

    #[test]
    fn threshold_one_opens_at_once_and_manual_clock_moves() {
        let clock = ManualMonotonicClock::default();
        let mut b = CircuitBreaker::new(0, Duration::from_secs(30));
        assert!(b.try_acquire(clock.now()));
        b.on_failure(clock.now());
        assert_eq!(b.state(clock.now()), BreakerState::Open);
        clock.clone().advance(Duration::from_secs(30));
        assert_eq!(b.state(clock.now()), BreakerState::HalfOpen);
    }
}
