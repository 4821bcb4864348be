//! Prometheus metrics of the tier stage, registered through the runtime's [`StageRegistry`] (served
//! by the runtime's `/metrics`).

use leadflow_events::TierDecision;
use leadflow_runtime::StageRegistry;
use prometheus::IntCounterVec;

/// The tier stage's metrics; cheap to clone (handles to shared counters).
#[derive(Clone, Debug)]
pub struct TierMetrics {
    /// `leadflow_tier_decisions_total{tier, handoff, trigger}`: decisions by outcome. Labels are
    /// bounded: a handful of tiers per policy, four handoff kinds, seven triggers.
    decisions: IntCounterVec,
}

impl TierMetrics {
    /// Registers the metrics in the stage's registry; a registration error is returned, not dropped.
    pub fn register(registry: &StageRegistry) -> Result<Self, prometheus::Error> {
        Ok(Self {
            decisions: registry.counter_vec(
                "decisions_total",
                "Tier decisions by tier, handoff kind and trigger",
                &["tier", "handoff", "trigger"],
            )?,
        })
    }

    /// Counts one decision.
    pub fn record(&self, decision: &TierDecision) {
        self.decisions
            .with_label_values(&[
                decision.tier.as_str(),
                &format!("{:?}", decision.handoff).to_ascii_lowercase(),
                &format!("{:?}", decision.trigger).to_ascii_lowercase(),
            ])
            .inc();
    }

    /// Decisions counted with these labels (tests).
    pub fn decisions(&self, tier: &str, handoff: &str, trigger: &str) -> u64 {
        self.decisions
            .with_label_values(&[tier, handoff, trigger])
            .get()
    }
}
