//! The backoff (RULES.md, rule 8): `initial × 2^(n−1)` before retry `n`, capped at `max`, spread by
//! ±`jitter` (a fraction) with a random sample the caller supplies; and a retry budget per input.

use std::time::Duration;

use crate::config::RetryConfig;

/// How long to wait before each retry.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BackoffPolicy {
    /// The wait before the first retry.
    pub initial: Duration,
    /// The longest wait (before jitter).
    pub max: Duration,
    /// The wait is spread uniformly over ±`jitter` × itself (0: no jitter).
    pub jitter: f64,
}

impl BackoffPolicy {
    /// The wait after the `attempt`-th failed attempt (1 for the first; 0 reads as 1). `sample` is
    /// uniform in [0, 1) and places the wait in its jitter range (0.5 is the middle); ignored without
    /// jitter. A jittered wait is at least 1 ms.
    pub fn delay(&self, attempt: u32, sample: f64) -> Duration {
        let mut base = self.initial;
        for _ in 1..attempt {
            if base >= self.max || base.is_zero() {
                break;
            }
            base = base.saturating_mul(2);
        }
        let base = base.min(self.max);
        if self.jitter <= 0.0 {
            return base;
        }
        let secs = base.as_secs_f64();
        let spread = secs * self.jitter * (sample * 2.0 - 1.0);
        Duration::from_secs_f64((secs + spread).max(0.001))
    }
}

impl From<&RetryConfig> for BackoffPolicy {
    fn from(cfg: &RetryConfig) -> Self {
        Self {
            initial: Duration::from_millis(cfg.initial_backoff_ms),
            max: Duration::from_millis(cfg.max_backoff_ms),
            jitter: 0.0,
        }
    }
}

/// Backoff state for one input: the waits of its policy until `max_attempts` attempts are made.
#[derive(Clone, Debug)]
pub struct Backoff {
    policy: BackoffPolicy,
    attempts: u32,
    /// 0: no limit.
    max_attempts: u32,
}

impl Backoff {
    pub fn new(policy: BackoffPolicy, max_attempts: u32) -> Self {
        Self {
            policy,
            attempts: 0,
            max_attempts,
        }
    }

    /// The runtime's retries of retryable errors (`[retry]`, rule 2).
    pub fn from_retry(cfg: &RetryConfig) -> Self {
        Self::new(BackoffPolicy::from(cfg), cfg.max_attempts)
    }

    /// Counts a failed attempt; the wait before the next one, or `None` when the attempts are used
    /// up. Jitter, if the policy has any, is left at the middle of its range.
    pub fn next_delay(&mut self) -> Option<Duration> {
        self.attempts += 1;
        if self.max_attempts > 0 && self.attempts >= self.max_attempts {
            return None;
        }
        Some(self.policy.delay(self.attempts, 0.5))
    }

    /// The longest time an input can spend backing off before its attempts run out.
    pub fn budget(cfg: &RetryConfig) -> Duration {
        let mut b = Self::from_retry(cfg);
        std::iter::from_fn(|| b.next_delay()).take(10_000).sum()
    }

    /// Attempts made so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    fn policy(initial: u64, max: u64, jitter: f64) -> BackoffPolicy {
        BackoffPolicy {
            initial: MS(initial),
            max: MS(max),
            jitter,
        }
    }

    #[test]
    fn delays() {
        // (what, policy, attempt, sample, expected ms)
        let cases: &[(&str, BackoffPolicy, u32, f64, u64)] = &[
            ("first retry", policy(500, 30_000, 0.0), 1, 0.0, 500),
            (
                "attempt 0 reads as 1",
                policy(500, 30_000, 0.0),
                0,
                0.0,
                500,
            ),
            ("doubles", policy(500, 30_000, 0.0), 3, 0.0, 2_000),
            ("capped", policy(500, 30_000, 0.0), 7, 0.0, 30_000),
            (
                "far past the cap",
                policy(1, 30_000, 0.0),
                4_000_000,
                0.0,
                30_000,
            ),
            (
                "enrich default, retry 2",
                policy(100, 5_000, 0.0),
                2,
                0.0,
                200,
            ),
            ("enrich cap", policy(100, 5_000, 0.0), 10, 0.0, 5_000),
            ("jitter, lowest", policy(500, 30_000, 0.2), 1, 0.0, 400),
            ("jitter, middle", policy(500, 30_000, 0.2), 1, 0.5, 500),
            (
                "jitter on the cap",
                policy(500, 30_000, 0.2),
                9,
                0.75,
                33_000,
            ),
            ("jitter never below 1 ms", policy(1, 1, 1.0), 1, 0.0, 1),
            (
                "zero initial without jitter",
                policy(0, 1_000, 0.0),
                5,
                0.0,
                0,
            ),
        ];
        for (what, p, attempt, sample, want) in cases {
            let got = p.delay(*attempt, *sample);
            let diff = got.abs_diff(MS(*want));
            assert!(diff < Duration::from_micros(1), "{what}: {got:?}");
        }
    }

    #[test]
    fn doubles_up_to_the_cap_then_gives_up() {
        let mut b = Backoff::from_retry(&RetryConfig {
            initial_backoff_ms: 100,
            max_backoff_ms: 300,
            max_attempts: 5,
        });
        let delays: Vec<_> = std::iter::from_fn(|| b.next_delay()).collect();
        assert_eq!(delays, [100, 200, 300, 300].map(MS).to_vec());
        assert_eq!(b.attempts(), 5);
    }

    #[test]
    fn the_default_budget_ends_before_the_poll_interval_would_expire() {
        // librdkafka's default max.poll.interval.ms; the harness keeps polling while a partition
        // retries, but a stage that gives up later than this would still be wrong on a client
        // that does not (and the budget says how long a lead can be held back)
        let max_poll_interval = MS(300_000);
        let budget = Backoff::budget(&RetryConfig::default());
        assert!(budget < max_poll_interval, "{budget:?}");
        assert!(
            budget > Duration::from_secs(60),
            "{budget:?}: rides out a short outage"
        );
    }
}
