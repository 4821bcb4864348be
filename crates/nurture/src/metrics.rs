//! Prometheus metrics of the nurture stage, registered through the runtime's [`StageRegistry`].

use leadflow_runtime::StageRegistry;
use prometheus::{Histogram, IntCounter, IntCounterVec};

/// The nurture stage's metrics; cheap to clone (handles to shared counters).
#[derive(Clone, Debug)]
pub struct NurtureMetrics {
    /// `leadflow_nurture_decisions_total{tier, outcome}`: every decision read, by what became of it
    /// (`enrolled`, `handoff`, `no_sequence`, `no_email`, `failed`). Bounded: a handful of tiers,
    /// five outcomes.
    decisions: IntCounterVec,
    /// `leadflow_nurture_enrolment_retries_total`: HubSpot calls tried again.
    retries: IntCounter,
    /// `leadflow_nurture_enrolment_seconds`: from the decision's event time to the enrolment.
    latency: Histogram,
}

impl NurtureMetrics {
    pub fn register(registry: &StageRegistry) -> Result<Self, prometheus::Error> {
        Ok(Self {
            decisions: registry.counter_vec(
                "decisions_total",
                "Tier decisions read, by tier and what became of them",
                &["tier", "outcome"],
            )?,
            retries: registry.counter(
                "enrolment_retries_total",
                "HubSpot enrolment calls tried again after an unavailable or rate-limited answer",
            )?,
            latency: registry.histogram(
                "enrolment_seconds",
                "Seconds from the decision's event time to the enrolment",
                vec![0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0, 3600.0],
            )?,
        })
    }

    pub fn decision(&self, tier: &str, outcome: &str) {
        self.decisions.with_label_values(&[tier, outcome]).inc();
    }

    pub fn retried(&self) {
        self.retries.inc();
    }

    pub fn enrolled_after(&self, seconds: f64) {
        self.latency.observe(seconds.max(0.0));
    }

    /// Decisions counted with these labels (tests).
    pub fn decisions(&self, tier: &str, outcome: &str) -> u64 {
        self.decisions.with_label_values(&[tier, outcome]).get()
    }

    /// Retries so far (tests).
    pub fn retries(&self) -> u64 {
        self.retries.get()
    }
}
