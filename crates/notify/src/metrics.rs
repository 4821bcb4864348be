//! Prometheus metrics of notify (default registry, served by the runtime's `/metrics`). Labels are
//! bounded: channel (slack, crm, email), status (5), error kind (3).

use std::sync::LazyLock;

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts};

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
}

fn build() -> Result<NotifyMetrics, prometheus::Error> {
    let m = NotifyMetrics {
        receipts: IntCounterVec::new(
            Opts::new(
                "leadflow_notify_receipts_total",
                "Delivery receipts by channel and status",
            ),
            &["channel", "status"],
        )?,
        failures: IntCounterVec::new(
            Opts::new(
                "leadflow_notify_delivery_failures_total",
                "Failed delivery attempts by channel and kind (unavailable, rate_limited, rejected)",
            ),
            &["channel", "kind"],
        )?,
        breaker: IntGaugeVec::new(
            Opts::new(
                "leadflow_notify_breaker_state",
                "Circuit breaker per channel: 0 closed, 1 half-open, 2 open",
            ),
            &["channel"],
        )?,
        latency: HistogramVec::new(
            HistogramOpts::new(
                "leadflow_notify_delivery_latency_seconds",
                "Time from taking a packet to the channel accepting it",
            )
            .buckets(vec![
                0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 180.0,
            ]),
            &["channel"],
        )?,
        skipped: IntCounterVec::new(
            Opts::new(
                "leadflow_notify_duplicates_skipped_total",
                "Deliveries skipped because the ledger already had a delivered receipt",
            ),
            &["channel"],
        )?,
    };
    let r = prometheus::default_registry();
    r.register(Box::new(m.receipts.clone()))?;
    r.register(Box::new(m.failures.clone()))?;
    r.register(Box::new(m.breaker.clone()))?;
    r.register(Box::new(m.latency.clone()))?;
    r.register(Box::new(m.skipped.clone()))?;
    Ok(m)
}

static METRICS: LazyLock<Option<NotifyMetrics>> = LazyLock::new(|| build().ok());

/// The metrics, when they could be registered.
pub fn get() -> Option<&'static NotifyMetrics> {
    METRICS.as_ref()
}
