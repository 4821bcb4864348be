//! Prometheus metrics of the rescore stage, registered through the runtime's [`StageRegistry`].

use leadflow_runtime::StageRegistry;
use prometheus::{IntCounterVec, IntGauge};

/// The rescore stage's metrics; cheap to clone.
#[derive(Clone, Debug)]
pub struct RescoreMetrics {
    /// `leadflow_rescore_decisions_total{outcome}`: decisions read (`stored`, `handed_off`,
    /// `reentered`).
    decisions: IntCounterVec,
    /// `leadflow_rescore_scheduled_total{outcome}`: scheduled re-scores (`reentered`, `stays`).
    scheduled: IntCounterVec,
    /// `leadflow_rescore_nurtured_leads`: leads held in memory (latest decision: no handoff).
    nurtured: IntGauge,
}

impl RescoreMetrics {
    pub fn register(registry: &StageRegistry) -> Result<Self, prometheus::Error> {
        Ok(Self {
            decisions: registry.counter_vec(
                "decisions_total",
                "Tier decisions read, by what became of them",
                &["outcome"],
            )?,
            scheduled: registry.counter_vec(
                "scheduled_total",
                "Scheduled re-scores of nurtured leads, by outcome",
                &["outcome"],
            )?,
            nurtured: registry.gauge(
                "nurtured_leads",
                "Leads held for re-scoring (latest decision hands them to nobody)",
            )?,
        })
    }

    pub fn decision(&self, outcome: &str) {
        self.decisions.with_label_values(&[outcome]).inc();
    }

    pub fn scheduled(&self, outcome: &str, n: u64) {
        self.scheduled.with_label_values(&[outcome]).inc_by(n);
    }

    pub fn set_nurtured(&self, n: usize) {
        self.nurtured.set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// Decisions counted with this outcome (tests).
    pub fn decisions(&self, outcome: &str) -> u64 {
        self.decisions.with_label_values(&[outcome]).get()
    }
}
