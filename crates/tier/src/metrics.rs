//! Prometheus metrics of the tier stage (default registry, served by the runtime's `/metrics`).

use std::sync::LazyLock;

use leadflow_events::TierDecision;
use prometheus::{IntCounterVec, Opts};

/// `leadflow_tier_decisions_total{tier, handoff, trigger}`: decisions by outcome. Labels are bounded:
/// a handful of tiers per policy, three handoff kinds, six triggers.
static DECISIONS: LazyLock<Option<IntCounterVec>> = LazyLock::new(|| {
    let counter = IntCounterVec::new(
        Opts::new(
            "leadflow_tier_decisions_total",
            "Tier decisions by tier, handoff kind and trigger",
        ),
        &["tier", "handoff", "trigger"],
    )
    .ok()?;
    prometheus::default_registry()
        .register(Box::new(counter.clone()))
        .ok()?;
    Some(counter)
});

/// Counts one decision.
pub fn record(decision: &TierDecision) {
    if let Some(counter) = DECISIONS.as_ref() {
        counter
            .with_label_values(&[
                decision.tier.as_str(),
                &format!("{:?}", decision.handoff).to_ascii_lowercase(),
                &format!("{:?}", decision.trigger).to_ascii_lowercase(),
            ])
            .inc();
    }
}
