//! Prometheus metrics of the route stages, registered through the runtime's [`StageRegistry`]
//! (`leadflow_route_*` for `leadflow-route`, `leadflow_route_reassign_*` for the reassign binary,
//! `leadflow_route_rejections_*` for the rejections binary).
//! Labels are bounded: outcomes and inputs are fixed sets, tiers a handful per policy; never rep
//! ids, lead ids or names.

use leadflow_runtime::StageRegistry;
use prometheus::{IntCounterVec, IntGauge};

/// The route stages' metrics; cheap to clone (handles to shared collectors).
#[derive(Clone, Debug)]
pub struct RouteMetrics {
    /// `packets_total{outcome}`: packets emitted, by how the owner was chosen (`rep`,
    /// `account_owner`, `manager`, `reassigned`, `redelivered`, `already_handled`).
    packets: IntCounterVec,
    /// `no_handoff_total{tier}`: decisions that hand nothing to a human (no packet).
    no_handoff: IntCounterVec,
    /// `unroutable_total{input}`: leads nobody could take, sent to the exceptions topic.
    unroutable: IntCounterVec,
    /// `escalations_total{result}`: SLA escalations consumed.
    escalations: IntCounterVec,
    /// `rejections_total{result}`: REJECTED activities consumed by `leadflow-route-rejections`.
    rejections: IntCounterVec,
    /// `roster_rejected_total`: roster records that failed validation (ignored).
    roster_rejected: IntCounterVec,
    /// `roster_reps`: reps in the roster.
    roster_reps: IntGauge,
}

impl RouteMetrics {
    /// Registers the metrics in the stage's registry.
    pub fn register(registry: &StageRegistry) -> Result<Self, prometheus::Error> {
        Ok(Self {
            packets: registry.counter_vec(
                "packets_total",
                "Handoff packets emitted, by how the owner was chosen",
                &["outcome"],
            )?,
            no_handoff: registry.counter_vec(
                "no_handoff_total",
                "Tier decisions with no human handoff (no packet), by tier",
                &["tier"],
            )?,
            unroutable: registry.counter_vec(
                "unroutable_total",
                "Leads nobody could take (no eligible rep and no manager): sent to the exceptions topic",
                &["input"],
            )?,
            escalations: registry.counter_vec(
                "escalations_total",
                "SLA escalations consumed, by result (reassigned, redelivered, not_open, unknown_lead, unroutable)",
                &["result"],
            )?,
            rejections: registry.counter_vec(
                "rejections_total",
                "Leads rejected by their rep, by result (reassigned, manager, not_open, unknown_lead, unroutable)",
                &["result"],
            )?,
            roster_rejected: registry.counter_vec(
                "roster_rejected_total",
                "Roster records on the reps topic that failed validation and were ignored",
                &["topic"],
            )?,
            roster_reps: registry.gauge("roster_reps", "Reps in the roster")?,
        })
    }

    pub fn packet(&self, outcome: &str) {
        self.packets.with_label_values(&[outcome]).inc();
    }

    /// Packets counted with this outcome (tests).
    pub fn packets(&self, outcome: &str) -> u64 {
        self.packets.with_label_values(&[outcome]).get()
    }

    pub fn no_handoff(&self, tier: &str) {
        self.no_handoff.with_label_values(&[tier]).inc();
    }

    /// No-handoff decisions counted for this tier (tests).
    pub fn no_handoffs(&self, tier: &str) -> u64 {
        self.no_handoff.with_label_values(&[tier]).get()
    }

    pub fn unroutable(&self, input: &str) {
        self.unroutable.with_label_values(&[input]).inc();
    }

    pub fn escalation(&self, result: &str) {
        self.escalations.with_label_values(&[result]).inc();
    }

    pub fn rejection(&self, result: &str) {
        self.rejections.with_label_values(&[result]).inc();
    }

    /// Rejections counted with this result (tests).
    pub fn rejections(&self, result: &str) -> u64 {
        self.rejections.with_label_values(&[result]).get()
    }

    pub fn roster_rejected(&self) {
        self.roster_rejected.with_label_values(&["reps"]).inc();
    }

    pub fn roster_size(&self, n: usize) {
        self.roster_reps.set(i64::try_from(n).unwrap_or(i64::MAX));
    }
}
