//! Exponential backoff for retryable errors.

use std::time::Duration;

use crate::config::RetryConfig;

/// Backoff state for one input.
#[derive(Clone, Debug)]
pub struct Backoff {
    next: Duration,
    max: Duration,
    attempts: u32,
    max_attempts: u32,
}

impl Backoff {
    pub fn new(cfg: &RetryConfig) -> Self {
        Self {
            next: Duration::from_millis(cfg.initial_backoff_ms),
            max: Duration::from_millis(cfg.max_backoff_ms),
            attempts: 0,
            max_attempts: cfg.max_attempts,
        }
    }

    /// The delay before the next attempt, or `None` when the attempts are used up.
    pub fn next_delay(&mut self) -> Option<Duration> {
        self.attempts += 1;
        if self.max_attempts > 0 && self.attempts >= self.max_attempts {
            return None;
        }
        let d = self.next;
        self.next = (self.next * 2).min(self.max);
        Some(d)
    }

    /// The longest time an input can spend backing off before its attempts run out.
    pub fn budget(cfg: &RetryConfig) -> Duration {
        let mut b = Self::new(cfg);
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

    #[test]
    fn doubles_up_to_the_cap_then_gives_up() {
        let mut b = Backoff::new(&RetryConfig {
            initial_backoff_ms: 100,
            max_backoff_ms: 300,
            max_attempts: 5,
        });
        let delays: Vec<_> = std::iter::from_fn(|| b.next_delay()).collect();
        assert_eq!(
            delays,
            [100, 200, 300, 300].map(Duration::from_millis).to_vec()
        );
        assert_eq!(b.attempts(), 5);
    }

    #[test]
    fn the_default_budget_ends_before_the_poll_interval_would_expire() {
        // librdkafka's default max.poll.interval.ms; the harness keeps polling while a partition
        // retries, but a stage that gives up later than this would still be wrong on a client
        // that does not (and the budget says how long a lead can be held back)
        let max_poll_interval = Duration::from_millis(300_000);
        let budget = Backoff::budget(&RetryConfig::default());
        assert!(budget < max_poll_interval, "{budget:?}");
        assert!(
            budget > Duration::from_secs(60),
            "{budget:?}: rides out a short outage"
        );
    }
}
