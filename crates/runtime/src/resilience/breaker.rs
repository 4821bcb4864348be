//! The circuit breaker (RULES.md, rule 8): opens after `threshold` consecutive failures, lets one
//! probe through after `open_for` (half-open), closes when the probe succeeds and re-opens for a full
//! `open_for` when it fails. Pure: every decision takes `now` from the caller's clock.

use std::time::{Duration, Instant};

/// How long a caller refused while a half-open probe is out waits before asking again.
pub const HALF_OPEN_RECHECK: Duration = Duration::from_millis(100);

/// The numbers of one breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures that open the breaker (at least 1).
    pub threshold: u32,
    /// How long an open breaker refuses calls before it lets a probe through.
    pub open_for: Duration,
    /// A probe that has not reported after this long frees the half-open slot for another one (a
    /// cancelled call never reports). `None`: the slot stays taken until the probe reports.
    pub probe_timeout: Option<Duration>,
}

/// The breaker's state as observed from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls flow; `failures` consecutive failures so far.
    Closed { failures: u32 },
    /// Calls are refused until `open_for` has passed.
    Open,
    /// A probe may go, or is out.
    HalfOpen,
}

impl BreakerState {
    /// The value of a breaker-state gauge: 0 closed, 1 half-open, 2 open.
    pub fn gauge_value(self) -> i64 {
        match self {
            Self::Closed { .. } => 0,
            Self::HalfOpen => 1,
            Self::Open => 2,
        }
    }
}

/// What a caller may do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permit {
    Call,
    /// Do not call before this instant.
    WaitUntil(Instant),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probe_since: Instant },
}

/// Consecutive-failure circuit breaker.
#[derive(Clone, Debug)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    state: State,
    /// Since when calls have been failing (the first failure after the last success).
    unavailable_since: Option<Instant>,
}

impl CircuitBreaker {
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            config: BreakerConfig {
                threshold: config.threshold.max(1),
                ..config
            },
            state: State::Closed { failures: 0 },
            unavailable_since: None,
        }
    }

    /// Whether a call may go now. An open breaker whose time is up lets one probe through and is
    /// half-open from then on; while the probe is out, others wait ([`HALF_OPEN_RECHECK`]).
    pub fn permit(&mut self, now: Instant) -> Permit {
        match self.state {
            State::Closed { .. } => Permit::Call,
            State::Open { until } if now >= until => {
                self.state = State::HalfOpen { probe_since: now };
                Permit::Call
            }
            State::Open { until } => Permit::WaitUntil(until),
            State::HalfOpen { probe_since } => match self.config.probe_timeout {
                Some(timeout) if now >= probe_since + timeout => {
                    self.state = State::HalfOpen { probe_since: now };
                    Permit::Call
                }
                _ => Permit::WaitUntil(now + HALF_OPEN_RECHECK),
            },
        }
    }

    /// [`permit`](Self::permit) as a yes or no.
    pub fn try_acquire(&mut self, now: Instant) -> bool {
        self.permit(now) == Permit::Call
    }

    /// The call answered: close.
    pub fn on_success(&mut self) {
        self.state = State::Closed { failures: 0 };
        self.unavailable_since = None;
    }

    /// The call failed: count it; open at the threshold, or re-open after a failed probe.
    pub fn on_failure(&mut self, now: Instant) {
        self.unavailable_since.get_or_insert(now);
        self.state = match self.state {
            State::Closed { failures } if failures + 1 < self.config.threshold => State::Closed {
                failures: failures + 1,
            },
            State::Closed { .. } | State::Open { .. } | State::HalfOpen { .. } => State::Open {
                until: now + self.config.open_for,
            },
        };
    }

    /// The service is up but asks to wait: a probe that got this answer re-opens the breaker for
    /// `wait`; a closed or open breaker is left as it is.
    pub fn on_rate_limited(&mut self, now: Instant, wait: Duration) {
        if matches!(self.state, State::HalfOpen { .. }) {
            self.state = State::Open { until: now + wait };
        }
    }

    /// The state at `now`: an open breaker whose time is up reads half-open.
    pub fn state(&self, now: Instant) -> BreakerState {
        match self.state {
            State::Open { until } if now >= until => BreakerState::HalfOpen,
            _ => self.recorded_state(),
        }
    }

    /// The state as the last call left it: an open breaker reads open until a caller asks for a
    /// permit after its time is up.
    pub fn recorded_state(&self) -> BreakerState {
        match self.state {
            State::Closed { failures } => BreakerState::Closed { failures },
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Since when calls have been failing, if they are (reset by a success).
    pub fn unavailable_since(&self) -> Option<Instant> {
        self.unavailable_since
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resilience::{ManualMonotonicClock, MonotonicClock};

    #[derive(Clone, Copy, Debug)]
    enum Step {
        /// Ask for a permit at t (ms): `Some(w)` expects to wait until t = w, `None` to call.
        Permit(u64, Option<u64>),
        Success,
        Failure(u64),
        /// Rate limited at t (ms) for w (ms).
        RateLimited(u64, u64),
        /// Expected state at t (ms), as of now and as recorded.
        State(u64, BreakerState, BreakerState),
        /// Expected start of the failing streak (ms).
        Since(Option<u64>),
    }

    const CALL: Option<u64> = None;

    fn run(name: &str, config: BreakerConfig, steps: &[Step]) {
        let clock = ManualMonotonicClock::default();
        let t0 = clock.now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut b = CircuitBreaker::new(config);
        for (i, step) in steps.iter().enumerate() {
            match *step {
                Step::Permit(t, want) => {
                    let want = want.map_or(Permit::Call, |w| Permit::WaitUntil(at(w)));
                    assert_eq!(b.permit(at(t)), want, "{name}: step {i}");
                }
                Step::Success => b.on_success(),
                Step::Failure(t) => b.on_failure(at(t)),
                Step::RateLimited(t, w) => b.on_rate_limited(at(t), Duration::from_millis(w)),
                Step::State(t, now, recorded) => {
                    assert_eq!(b.state(at(t)), now, "{name}: step {i} (now)");
                    assert_eq!(b.recorded_state(), recorded, "{name}: step {i} (recorded)");
                }
                Step::Since(want) => {
                    assert_eq!(b.unavailable_since(), want.map(at), "{name}: step {i}")
                }
            }
        }
    }

    /// enrich's provider: 3 failures, 1 s open, a probe holds the slot until it reports.
    const HELD: BreakerConfig = BreakerConfig {
        threshold: 3,
        open_for: Duration::from_millis(1000),
        probe_timeout: None,
    };

    /// notify's channels: 2 failures, 1 s open, a probe that does not report frees the slot after
    /// 500 ms.
    const FREED: BreakerConfig = BreakerConfig {
        threshold: 2,
        open_for: Duration::from_millis(1000),
        probe_timeout: Some(Duration::from_millis(500)),
    };

    #[test]
    fn scenarios() {
        use BreakerState::{Closed, HalfOpen, Open};
        use Step::*;
        let cases: &[(&str, BreakerConfig, &[Step])] = &[
            (
                "opens at the threshold",
                HELD,
                &[
                    Permit(0, CALL),
                    Failure(0),
                    State(0, Closed { failures: 1 }, Closed { failures: 1 }),
                    Since(Some(0)),
                    Failure(1),
                    Failure(2),
                    State(2, Open, Open),
                    Permit(3, Some(1002)),
                    Since(Some(0)),
                ],
            ),
            (
                "a success resets the count and the streak",
                HELD,
                &[
                    Failure(0),
                    Failure(0),
                    Success,
                    State(0, Closed { failures: 0 }, Closed { failures: 0 }),
                    Since(None),
                    Failure(5),
                    State(5, Closed { failures: 1 }, Closed { failures: 1 }),
                    Since(Some(5)),
                ],
            ),
            (
                "half-open after the wait admits one probe; success closes",
                HELD,
                &[
                    Failure(0),
                    Failure(0),
                    Failure(0),
                    Permit(999, Some(1000)),
                    State(1000, HalfOpen, Open),
                    Permit(1000, CALL),
                    State(1000, HalfOpen, HalfOpen),
                    Permit(1001, Some(1101)),
                    Success,
                    State(1001, Closed { failures: 0 }, Closed { failures: 0 }),
                    Permit(1001, CALL),
                ],
            ),
            (
                "a failed probe re-opens for a full wait",
                HELD,
                &[
                    Failure(0),
                    Failure(0),
                    Failure(0),
                    Permit(1500, CALL),
                    Failure(1500),
                    State(1500, Open, Open),
                    Since(Some(0)),
                    Permit(2499, Some(2500)),
                    Permit(2500, CALL),
                ],
            ),
            (
                "held: a probe that never reports keeps the slot",
                HELD,
                &[
                    Failure(0),
                    Failure(0),
                    Failure(0),
                    Permit(1000, CALL),
                    Permit(60_000, Some(60_100)),
                ],
            ),
            (
                "freed: a probe that never reports frees the slot after the probe timeout",
                FREED,
                &[
                    Failure(0),
                    Failure(0),
                    Permit(1000, CALL),
                    Permit(1499, Some(1599)),
                    Permit(1500, CALL),
                    Permit(1501, Some(1601)),
                ],
            ),
            (
                "rate limited: a probe re-opens for the wait, a closed breaker stays closed",
                FREED,
                &[
                    RateLimited(0, 5000),
                    State(0, Closed { failures: 0 }, Closed { failures: 0 }),
                    Failure(0),
                    Failure(0),
                    Permit(1000, CALL),
                    RateLimited(1000, 3000),
                    State(1000, Open, Open),
                    Permit(1000, Some(4000)),
                ],
            ),
            (
                "rate limited while open leaves the open wait as it is",
                FREED,
                &[
                    Failure(0),
                    Failure(0),
                    RateLimited(10, 5000),
                    Permit(10, Some(1000)),
                ],
            ),
            (
                "a threshold of 0 is 1",
                BreakerConfig {
                    threshold: 0,
                    ..HELD
                },
                &[
                    Failure(7),
                    State(7, Open, Open),
                    State(1007, HalfOpen, Open),
                ],
            ),
        ];
        for (name, config, steps) in cases {
            run(name, *config, steps);
        }
    }

    #[test]
    fn gauge_values() {
        assert_eq!(BreakerState::Closed { failures: 3 }.gauge_value(), 0);
        assert_eq!(BreakerState::HalfOpen.gauge_value(), 1);
        assert_eq!(BreakerState::Open.gauge_value(), 2);
    }
}
