//! Faults a test or a person injects per service: down, slow, rate limited, failing.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The stand-ins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Slack,
    Hubspot,
    Smtp,
}

impl Service {
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Slack => "slack",
            Service::Hubspot => "hubspot",
            Service::Smtp => "smtp",
        }
    }

    pub fn parse(s: &str) -> Option<Service> {
        match s {
            "slack" => Some(Service::Slack),
            "hubspot" | "crm" => Some(Service::Hubspot),
            "smtp" | "email" => Some(Service::Smtp),
            _ => None,
        }
    }
}

/// What the service does while the fault is active.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultMode {
    /// HTTP 503 (SMTP: `421` and the connection closed).
    Down,
    /// Answers normally after `delay_ms`.
    Slow,
    /// HTTP 429 with `Retry-After: retry_after_s` (SMTP: `421 4.7.0`).
    RateLimit,
    /// HTTP 500 (SMTP: `451` to MAIL FROM).
    Error,
}

/// A fault: a mode, for `count` requests and/or `for_ms` milliseconds (neither: until cleared).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub mode: FaultMode,
    #[serde(default)]
    pub count: Option<u32>,
    #[serde(default)]
    pub for_ms: Option<u64>,
    #[serde(default = "default_delay")]
    pub delay_ms: u64,
    /// Slow: a further delay drawn uniformly from 0 to `jitter_ms` per request (a real API's spread).
    #[serde(default)]
    pub jitter_ms: u64,
    #[serde(default = "default_retry_after")]
    pub retry_after_s: u64,
}

fn default_delay() -> u64 {
    2_000
}

fn default_retry_after() -> u64 {
    1
}

impl FaultSpec {
    pub fn new(mode: FaultMode) -> Self {
        Self {
            mode,
            count: None,
            for_ms: None,
            delay_ms: default_delay(),
            jitter_ms: 0,
            retry_after_s: default_retry_after(),
        }
    }

    pub fn count(mut self, n: u32) -> Self {
        self.count = Some(n);
        self
    }

    pub fn for_duration(mut self, d: Duration) -> Self {
        self.for_ms = Some(u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        self
    }

    pub fn delay(mut self, d: Duration) -> Self {
        self.delay_ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// Slow answers wait `delay` plus up to `jitter`, uniformly.
    pub fn jitter(mut self, jitter: Duration) -> Self {
        self.jitter_ms = u64::try_from(jitter.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// The wait of one slow answer: `delay_ms` plus a uniform draw in `0..=jitter_ms`.
    pub fn slow_wait(&self) -> Duration {
        use std::hash::{BuildHasher, Hasher};
        let extra = if self.jitter_ms == 0 {
            0
        } else {
            // a fresh random hasher per call: no random crate needed for a spread
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(self.jitter_ms);
            h.finish() % (self.jitter_ms + 1)
        };
        Duration::from_millis(self.delay_ms.saturating_add(extra))
    }

    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_s = seconds;
        self
    }
}

/// An installed fault with its remaining budget.
#[derive(Clone, Debug)]
pub(crate) struct ActiveFault {
    pub(crate) spec: FaultSpec,
    remaining: Option<u32>,
    until: Option<Instant>,
}

impl ActiveFault {
    pub(crate) fn new(spec: FaultSpec) -> Self {
        Self {
            remaining: spec.count,
            until: spec
                .for_ms
                .map(|ms| Instant::now() + Duration::from_millis(ms)),
            spec,
        }
    }

    /// Consumes one request's worth of the fault; `None` when it no longer applies.
    pub(crate) fn take(&mut self) -> Option<FaultSpec> {
        if self.until.is_some_and(|u| Instant::now() >= u) {
            return None;
        }
        match &mut self.remaining {
            Some(0) => None,
            Some(n) => {
                *n -= 1;
                Some(self.spec.clone())
            }
            None => Some(self.spec.clone()),
        }
    }

    pub(crate) fn is_spent(&self) -> bool {
        self.until.is_some_and(|u| Instant::now() >= u) || self.remaining == Some(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_limits_the_fault() {
        let mut f = ActiveFault::new(FaultSpec::new(FaultMode::Error).count(2));
        assert!(f.take().is_some());
        assert!(f.take().is_some());
        assert!(f.take().is_none());
        assert!(f.is_spent());
    }

    #[test]
    fn duration_limits_the_fault() {
        let mut f = ActiveFault::new(FaultSpec::new(FaultMode::Down).for_duration(Duration::ZERO));
        assert!(f.take().is_none());
        let mut g = ActiveFault::new(FaultSpec::new(FaultMode::Down));
        assert!(g.take().is_some());
        assert!(!g.is_spent());
    }

    #[test]
    fn a_slow_answer_waits_its_delay_plus_at_most_its_jitter() {
        let fixed = FaultSpec::new(FaultMode::Slow).delay(Duration::from_millis(50));
        assert_eq!(fixed.slow_wait(), Duration::from_millis(50));
        let spread = fixed.jitter(Duration::from_millis(100));
        let waits: Vec<Duration> = (0..200).map(|_| spread.slow_wait()).collect();
        assert!(
            waits
                .iter()
                .all(|w| (Duration::from_millis(50)..=Duration::from_millis(150)).contains(w))
        );
        let distinct: std::collections::BTreeSet<_> = waits.iter().collect();
        assert!(distinct.len() > 20, "spread, not one value: {distinct:?}");
    }
}
