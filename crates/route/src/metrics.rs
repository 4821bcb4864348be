//! Prometheus metrics of the route stages (default registry, served by the runtime's `/metrics`).
//! Labels are bounded: outcomes and reasons are fixed sets, tiers a handful per policy; never rep
//! ids, lead ids or names.

use std::sync::LazyLock;

use prometheus::{IntCounterVec, IntGauge, Opts};

fn counter(name: &str, help: &str, labels: &[&str]) -> Option<IntCounterVec> {
    let c = IntCounterVec::new(Opts::new(name, help), labels).ok()?;
    prometheus::default_registry()
        .register(Box::new(c.clone()))
        .ok()?;
    Some(c)
}

fn gauge(name: &str, help: &str) -> Option<IntGauge> {
    let g = IntGauge::new(name, help).ok()?;
    prometheus::default_registry()
        .register(Box::new(g.clone()))
        .ok()?;
    Some(g)
}

/// `leadflow_route_packets_total{outcome}`: packets emitted, by how the owner was chosen
/// (`rep`, `account_owner`, `manager`, `reassigned`, `redelivered`).
static PACKETS: LazyLock<Option<IntCounterVec>> = LazyLock::new(|| {
    counter(
        "leadflow_route_packets_total",
        "Handoff packets emitted, by how the owner was chosen",
        &["outcome"],
    )
});

/// `leadflow_route_no_handoff_total{tier}`: decisions that hand nothing to a human.
static NO_HANDOFF: LazyLock<Option<IntCounterVec>> = LazyLock::new(|| {
    counter(
        "leadflow_route_no_handoff_total",
        "Tier decisions with no human handoff (no packet), by tier",
        &["tier"],
    )
});

/// `leadflow_route_unroutable_total{input}`: leads sent to the exceptions topic (no rep, no manager).
static UNROUTABLE: LazyLock<Option<IntCounterVec>> = LazyLock::new(|| {
    counter(
        "leadflow_route_unroutable_total",
        "Leads nobody could take (no eligible rep and no manager): sent to the exceptions topic",
        &["input"],
    )
});

/// `leadflow_route_escalations_total{result}`: SLA escalations consumed.
static ESCALATIONS: LazyLock<Option<IntCounterVec>> = LazyLock::new(|| {
    counter(
        "leadflow_route_escalations_total",
        "SLA escalations consumed, by result (reassigned, redelivered, not_open, unknown_lead, unroutable)",
        &["result"],
    )
});

/// `leadflow_route_roster_rejected_total`: roster records that failed validation (ignored).
static ROSTER_REJECTED: LazyLock<Option<IntCounterVec>> = LazyLock::new(|| {
    counter(
        "leadflow_route_roster_rejected_total",
        "Roster records on the reps topic that failed validation and were ignored",
        &["field"],
    )
});

/// `leadflow_route_roster_reps`: reps in the roster.
static ROSTER: LazyLock<Option<IntGauge>> =
    LazyLock::new(|| gauge("leadflow_route_roster_reps", "Reps in the roster"));

pub fn packet(outcome: &str) {
    if let Some(c) = PACKETS.as_ref() {
        c.with_label_values(&[outcome]).inc();
    }
}

pub fn no_handoff(tier: &str) {
    if let Some(c) = NO_HANDOFF.as_ref() {
        c.with_label_values(&[tier]).inc();
    }
}

pub fn unroutable(input: &str) {
    if let Some(c) = UNROUTABLE.as_ref() {
        c.with_label_values(&[input]).inc();
    }
}

pub fn escalation(result: &str) {
    if let Some(c) = ESCALATIONS.as_ref() {
        c.with_label_values(&[result]).inc();
    }
}

pub fn roster_rejected() {
    if let Some(c) = ROSTER_REJECTED.as_ref() {
        c.with_label_values(&["any"]).inc();
    }
}

pub fn roster_size(n: usize) {
    if let Some(g) = ROSTER.as_ref() {
        g.set(i64::try_from(n).unwrap_or(i64::MAX));
    }
}
