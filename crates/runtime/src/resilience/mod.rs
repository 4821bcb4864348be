//! Resilience for calls to things outside the process: one circuit breaker and one backoff, both
//! pure functions of an injected time (RULES.md, rule 8). enrich's firmographics provider, notify's
//! channels and the runtime's retries of registry, transform and produce errors all use these.

mod backoff;
mod breaker;
mod clock;

pub use backoff::{Backoff, BackoffPolicy};
pub use breaker::{BreakerConfig, BreakerState, CircuitBreaker, HALF_OPEN_RECHECK, Permit};
pub use clock::{ManualMonotonicClock, MonotonicClock, SystemMonotonicClock, TokioMonotonicClock};
