//! Per-publisher rate limits (R1): a token bucket per configured publisher, refilled at
//! `rate_limit_per_sec` leads per second up to `rate_burst`. Each authenticated request costs one
//! token, each further lead of a batch one more; an empty bucket is a 429 with `Retry-After`. One
//! publisher's burst never takes another's tokens. Pure: the caller passes the time (a tiny own bucket
//! rather than `governor`: the service's clock is injected, and the whole bucket is 20 lines).

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at_ms: i64,
}

/// The buckets of every configured publisher.
#[derive(Debug)]
pub struct RateLimits {
    buckets: HashMap<String, Mutex<Bucket>>,
    per_ms: f64,
    burst: f64,
}

impl RateLimits {
    /// Full buckets for `publishers`.
    pub fn new<'a>(
        publishers: impl IntoIterator<Item = &'a str>,
        per_sec: u32,
        burst: u32,
        now_ms: i64,
    ) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            buckets: publishers
                .into_iter()
                .map(|p| {
                    (
                        p.to_owned(),
                        Mutex::new(Bucket {
                            tokens: burst,
                            at_ms: now_ms,
                        }),
                    )
                })
                .collect(),
            per_ms: f64::from(per_sec.max(1)) / 1000.0,
            burst,
        }
    }

    /// Takes `n` tokens of `publisher`'s bucket, or returns the whole seconds until they are there.
    pub fn take(&self, publisher: &str, n: usize, now_ms: i64) -> Result<(), u32> {
        let Some(bucket) = self.buckets.get(publisher) else {
            return Ok(());
        };
        let mut b = bucket
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        #[allow(clippy::cast_precision_loss)]
        let elapsed = now_ms.saturating_sub(b.at_ms).max(0) as f64;
        b.tokens = (b.tokens + elapsed * self.per_ms).min(self.burst);
        b.at_ms = b.at_ms.max(now_ms);
        #[allow(clippy::cast_precision_loss)]
        let n = n as f64;
        if b.tokens >= n {
            b.tokens -= n;
            return Ok(());
        }
        let wait_secs = ((n - b.tokens) / self.per_ms / 1000.0).ceil();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Err((wait_secs as u32).max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_publisher_gets_its_burst_then_its_rate() {
        let r = RateLimits::new(["forms", "chat"], 10, 20, 0);
        assert_eq!(r.take("forms", 20, 0), Ok(()));
        assert_eq!(r.take("forms", 1, 0), Err(1));
        // 100 ms later: one token
        assert_eq!(r.take("forms", 1, 100), Ok(()));
        assert_eq!(r.take("forms", 1, 100), Err(1));
        // 20 tokens missing at 10 per second: 2 seconds
        assert_eq!(r.take("forms", 20, 100), Err(2));
        // the other publisher's bucket is untouched
        assert_eq!(r.take("chat", 20, 100), Ok(()));
        // never more than the burst
        assert_eq!(r.take("chat", 21, 1_000_000), Err(1));
    }
}
