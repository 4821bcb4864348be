//! `leadflow_ingest_*` metrics. Labels are bounded: routes are the API's route templates, statuses
//! the HTTP codes the API answers, publishers the configured ids plus `unauthenticated`.

use leadflow_runtime::StageRegistry;
use prometheus::{HistogramVec, IntCounterVec, IntGauge};

/// The publisher label of a request that did not authenticate.
pub const UNAUTHENTICATED: &str = "unauthenticated";

#[derive(Clone)]
pub struct IngestMetrics {
    pub registry: StageRegistry,
    pub requests: IntCounterVec,
    pub request_seconds: HistogramVec,
    pub accepted_events: IntCounterVec,
    pub replayed: IntCounterVec,
    pub queue_records: IntGauge,
    pub broker_up: IntGauge,
    pub idempotency_entries: IntGauge,
    pub idempotency_bytes: IntGauge,
    pub open_connections: IntGauge,
}

impl IngestMetrics {
    pub fn new(registry: &StageRegistry) -> Result<Self, prometheus::Error> {
        let r = registry;
        Ok(Self {
            requests: r.counter_vec(
                "requests_total",
                "HTTP requests answered, by route template, status code and publisher (configured ids or unauthenticated)",
                &["route", "status", "publisher"],
            )?,
            request_seconds: r.histogram_vec(
                "request_duration_seconds",
                "Time from receiving a request to answering it (a 202 includes the broker acknowledgement)",
                vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ],
                &["route"],
            )?,
            accepted_events: r.counter_vec(
                "accepted_events_total",
                "Lead events written to leads.raw and acknowledged by the broker, by publisher",
                &["publisher"],
            )?,
            replayed: r.counter_vec(
                "replayed_total",
                "Retried requests or events answered from the idempotency memory without writing, by publisher",
                &["publisher"],
            )?,
            queue_records: r.gauge(
                "producer_queue_records",
                "Records handed to the producer and not yet acknowledged by the broker (429 above max_queued_records)",
            )?,
            broker_up: r.gauge(
                "broker_up",
                "1 while the broker is reachable, 0 while ingest answers 503",
            )?,
            idempotency_entries: r.gauge(
                "idempotency_entries",
                "Requests and events held in the idempotency memory",
            )?,
            idempotency_bytes: r.gauge(
                "idempotency_bytes",
                "Bytes accounted to the idempotency memory (bounded by idempotency_max_bytes)",
            )?,
            open_connections: r.gauge(
                "open_connections",
                "Connections open on the API listener (at most max_connections)",
            )?,
            registry: registry.clone(),
        })
    }
}
