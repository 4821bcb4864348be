//! Prometheus metrics of the locator, registered through the runtime's [`StageRegistry`]
//! (`leadflow_locator_*`, `RULES.md` L6).

use leadflow_runtime::StageRegistry;
use prometheus::{IntCounter, IntCounterVec, IntGauge};

/// The values of `lookups_total`'s `result` label.
pub const LOOKUP_RESULTS: [&str; 3] = ["found", "not_found", "not_ready"];

/// The locator's metrics; cheap to clone (handles to shared counters).
#[derive(Clone, Debug)]
pub struct LocatorMetrics {
    /// `leadflow_locator_book_keys`: keys booked.
    pub book_keys: IntGauge,
    /// `leadflow_locator_book_bytes`: the book's estimated resident size.
    pub book_bytes: IntGauge,
    /// `leadflow_locator_records_total`: records read from the lead topics.
    pub records: IntCounter,
    /// `leadflow_locator_dropped_records_total`: records not booked (key bounds L1, L3; no key).
    pub dropped: IntCounter,
    /// `leadflow_locator_lookups_total{result}`: `found`, `not_found`, `not_ready`.
    lookups: IntCounterVec,
    /// `leadflow_locator_caught_up`: 1 once every topic was read to the end it had at the start.
    pub caught_up: IntGauge,
}

impl LocatorMetrics {
    pub fn register(registry: &StageRegistry) -> Result<Self, prometheus::Error> {
        let metrics = Self {
            book_keys: registry.gauge("book_keys", "Keys booked")?,
            book_bytes: registry.gauge(
                "book_bytes",
                "Estimated resident bytes of the book (keys and positions)",
            )?,
            records: registry.counter(
                "records_total",
                "Records read from the lead topics (keys, offsets and timestamps only)",
            )?,
            dropped: registry.counter(
                "dropped_records_total",
                "Records not booked: a key past the key bound, too long, or no key (RULES.md L1, L3)",
            )?,
            lookups: registry.counter_vec(
                "lookups_total",
                "Lookups answered, by result: found, not_found, not_ready",
                &["result"],
            )?,
            caught_up: registry.gauge(
                "caught_up",
                "1 once every lead topic was read to the end it had when the locator started",
            )?,
        };
        // every result from the start, at 0: a rate over it needs no first lookup
        for result in LOOKUP_RESULTS {
            metrics.lookups.with_label_values(&[result]);
        }
        Ok(metrics)
    }

    pub fn lookup(&self, result: &'static str) {
        self.lookups.with_label_values(&[result]).inc();
    }
}
