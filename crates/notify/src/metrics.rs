//! Prometheus metrics of notify, registered through the runtime's [`StageRegistry`] (served by the
//! runtime's `/metrics`). Labels are bounded: channel (slack, crm, email), status (5), kind (3).

use leadflow_runtime::StageRegistry;
use prometheus::{HistogramVec, IntCounterVec, IntGaugeVec};

#[derive(Clone, Debug)]
pub struct NotifyMetrics {
    /// `leadflow_notify_receipts_total{channel, status}`: every receipt written.
    pub receipts: IntCounterVec,
    /// `leadflow_notify_delivery_failures_total{channel, kind}`: failed attempts by kind.
    pub failures: IntCounterVec,
    /// `leadflow_notify_breaker_state{channel}`: 0 closed, 1 half-open, 2 open.
    pub breaker: IntGaugeVec,
    /// `leadflow_notify_delivery_latency_seconds{channel}`: packet taken → channel accepted.
    pub latency: HistogramVec,
    /// `leadflow_notify_duplicates_skipped_total{channel}`: deliveries skipped thanks to the ledger.
    pub skipped: IntCounterVec,
    /// `leadflow_notify_lookups_total{channel, result}`: looks for an earlier post before posting
    /// again (RULES.md §3a); result found, not_found, unavailable, rate_limited, rejected.
    pub lookups: IntCounterVec,
}

impl NotifyMetrics {
    pub fn register(r: &StageRegistry) -> Result<Self, prometheus::Error> {
        Ok(Self {
            receipts: r.counter_vec(
                "receipts_total",
                "Delivery receipts by channel and status",
                &["channel", "status"],
            )?,
            failures: r.counter_vec(
                "delivery_failures_total",
                "Failed delivery attempts by channel and kind (unavailable, rate_limited, rejected)",
                &["channel", "kind"],
            )?,
            breaker: r.gauge_vec(
                "breaker_state",
                "Circuit breaker per channel: 0 closed, 1 half-open, 2 open",
                &["channel"],
            )?,
            latency: r.histogram_vec(
                "delivery_latency_seconds",
                "Time from taking a packet to the channel accepting it",
                vec![
                    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 180.0,
                ],
                &["channel"],
            )?,
            skipped: r.counter_vec(
                "duplicates_skipped_total",
                "Deliveries skipped because the ledger already had a delivered receipt",
                &["channel"],
            )?,
            lookups: r.counter_vec(
                "lookups_total",
                "Looks for an earlier post of an intent without its outcome, by result",
                &["channel", "result"],
            )?,
        })
    }
}
