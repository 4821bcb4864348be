//! Prometheus metrics of the recalibrate stage (served by the runtime's `/metrics`). Labels are
//! bounded: six outcome stages, four attempt results.

use leadflow_runtime::StageRegistry;
use prometheus::{IntCounter, IntCounterVec, IntGauge};

#[derive(Clone, Debug)]
pub struct RecalibrateMetrics {
    /// `leadflow_recalibrate_outcomes_total{stage}`: outcomes consumed, by funnel stage.
    pub outcomes: IntCounterVec,
    /// `leadflow_recalibrate_unknown_outcomes_total`: outcomes whose lead stayed unknown past the
    /// grace period (each sent to the exceptions topic).
    pub unknown_outcomes: IntCounter,
    /// `leadflow_recalibrate_attempts_total{result}`: promoted, rejected, skipped (not enough
    /// labels / degenerate), failed.
    pub attempts: IntCounterVec,
    /// `leadflow_recalibrate_labelled_leads`: labelled leads with known features in the window.
    pub labelled: IntGauge,
    /// `leadflow_recalibrate_retained_leads`: scored leads kept for the join.
    pub retained: IntGauge,
    /// `leadflow_recalibrate_pending_unknown_outcomes`: outcomes waiting for their lead.
    pub pending_unknown: IntGauge,
}

impl RecalibrateMetrics {
    pub fn register(registry: &StageRegistry) -> Result<Self, prometheus::Error> {
        Ok(Self {
            outcomes: registry.counter_vec(
                "outcomes_total",
                "Outcomes consumed, by funnel stage",
                &["stage"],
            )?,
            unknown_outcomes: registry.counter(
                "unknown_outcomes_total",
                "Outcomes whose lead stayed unknown past the grace period (sent to exceptions)",
            )?,
            attempts: registry.counter_vec(
                "attempts_total",
                "Recalibration attempts by result (promoted, rejected, skipped, failed)",
                &["result"],
            )?,
            labelled: registry.gauge(
                "labelled_leads",
                "Labelled leads with known features in the retention window",
            )?,
            retained: registry.gauge("retained_leads", "Scored leads kept for the join")?,
            pending_unknown: registry.gauge(
                "pending_unknown_outcomes",
                "Outcomes waiting (grace period) for their lead to be known",
            )?,
        })
    }
}
