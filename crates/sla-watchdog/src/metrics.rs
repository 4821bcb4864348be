//! Prometheus KPIs of the watchdog (default registry, served by the runtime's `/metrics`), per tier.
//! Labels are bounded: the policy's tiers, three SLA kinds, a handful of outcomes, levels 1–2.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use leadflow_events::SlaKind;
use prometheus::{
    GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts,
};

use crate::deadline::kind_label;
use crate::engine::Outcome;

struct Kpis {
    open: IntGaugeVec,
    outcomes: IntCounterVec,
    breaches: IntCounterVec,
    met_ratio: GaugeVec,
    first_contact: HistogramVec,
    escalations: IntCounterVec,
    reassignments: IntCounterVec,
    fire_delay: Histogram,
    emit_failures: IntCounter,
    leads: IntGauge,
    /// (met, settled) per tier since start, for the ratio gauge.
    tally: Mutex<HashMap<String, (u64, u64)>>,
}

const P: &str = "leadflow_sla_watchdog";

fn build() -> Result<Kpis, prometheus::Error> {
    let r = prometheus::default_registry();
    let open = IntGaugeVec::new(
        Opts::new(
            format!("{P}_open_deadlines"),
            "SLA deadlines running now, by tier and kind",
        ),
        &["tier", "kind"],
    )?;
    let outcomes = IntCounterVec::new(
        Opts::new(
            format!("{P}_deadlines_total"),
            "Deadlines settled, by tier, kind and outcome (met, closed_late, escalated, missed, expired, superseded, contested)",
        ),
        &["tier", "kind", "outcome"],
    )?;
    let breaches = IntCounterVec::new(
        Opts::new(
            format!("{P}_breaches_total"),
            "Deadlines missed (closed late, escalated, missed by the automated sequence, expired), by tier and kind",
        ),
        &["tier", "kind"],
    )?;
    let met_ratio = GaugeVec::new(
        Opts::new(
            format!("{P}_sla_met_ratio"),
            "Share of settled deadlines met in time since the process started, by tier (target > 0.9)",
        ),
        &["tier"],
    )?;
    let first_contact = HistogramVec::new(
        HistogramOpts::new(
            format!("{P}_first_contact_business_seconds"),
            "Time from the decision to the first contact, in business seconds, by tier",
        )
        .buckets(vec![
            60.0, 180.0, 300.0, 600.0, 900.0, 1_800.0, 3_600.0, 7_200.0, 14_400.0, 32_400.0,
            86_400.0,
        ]),
        &["tier"],
    )?;
    let escalations = IntCounterVec::new(
        Opts::new(
            format!("{P}_escalations_total"),
            "Escalations raised, by tier and level",
        ),
        &["tier", "level"],
    )?;
    let reassignments = IntCounterVec::new(
        Opts::new(
            format!("{P}_reassignments_total"),
            "Level-1 escalations (the lead goes to the next eligible rep), by tier",
        ),
        &["tier"],
    )?;
    let fire_delay = Histogram::with_opts(
        HistogramOpts::new(
            format!("{P}_timer_delay_seconds"),
            "Wall time from a timer's firing time to its escalation being acknowledged",
        )
        .buckets(vec![0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.0, 5.0, 30.0]),
    )?;
    let emit_failures = IntCounter::with_opts(Opts::new(
        format!("{P}_emit_failures_total"),
        "Escalations the broker did not acknowledge (retried on the next tick)",
    ))?;
    let leads = IntGauge::with_opts(Opts::new(
        format!("{P}_tracked_leads"),
        "Leads held in the watchdog's state",
    ))?;
    r.register(Box::new(open.clone()))?;
    r.register(Box::new(outcomes.clone()))?;
    r.register(Box::new(breaches.clone()))?;
    r.register(Box::new(met_ratio.clone()))?;
    r.register(Box::new(first_contact.clone()))?;
    r.register(Box::new(escalations.clone()))?;
    r.register(Box::new(reassignments.clone()))?;
    r.register(Box::new(fire_delay.clone()))?;
    r.register(Box::new(emit_failures.clone()))?;
    r.register(Box::new(leads.clone()))?;
    Ok(Kpis {
        open,
        outcomes,
        breaches,
        met_ratio,
        first_contact,
        escalations,
        reassignments,
        fire_delay,
        emit_failures,
        leads,
        tally: Mutex::new(HashMap::new()),
    })
}

static KPIS: LazyLock<Option<Kpis>> = LazyLock::new(|| build().ok());

/// Counts what the engine reported.
pub fn record(outcomes: &[Outcome]) {
    let Some(k) = KPIS.as_ref() else { return };
    for o in outcomes {
        let (tier, kind, label, met, breach) = match o {
            Outcome::Opened { .. } => continue,
            Outcome::FirstContact {
                tier,
                business_seconds,
            } => {
                k.first_contact
                    .with_label_values(&[tier.as_str()])
                    .observe(*business_seconds);
                continue;
            }
            Outcome::Met { tier, kind } => (tier, kind, "met", true, false),
            Outcome::ClosedLate { tier, kind } => (tier, kind, "closed_late", false, true),
            Outcome::Escalated { tier, kind, .. } => (tier, kind, "escalated", false, true),
            Outcome::Missed { tier, kind } => (tier, kind, "missed", false, true),
            Outcome::Expired { tier, kind } => (tier, kind, "expired", false, true),
            Outcome::Superseded { tier, kind } => {
                k.outcomes
                    .with_label_values(&[tier.as_str(), kind_label(*kind), "superseded"])
                    .inc();
                continue;
            }
            Outcome::ContestedEscalation { tier, kind } => (tier, kind, "contested", true, false),
        };
        k.outcomes
            .with_label_values(&[tier.as_str(), kind_label(*kind), label])
            .inc();
        if breach {
            k.breaches
                .with_label_values(&[tier.as_str(), kind_label(*kind)])
                .inc();
        }
        if let Ok(mut t) = k.tally.lock() {
            let (m, settled) = t.entry(tier.clone()).or_default();
            match (label, met) {
                // counted as escalated (settled, a breach) before; met by event time after all
                ("contested", _) => *m += 1,
                (_, true) => {
                    *m += 1;
                    *settled += 1;
                }
                (_, false) => *settled += 1,
            }
            if *settled > 0 {
                k.met_ratio
                    .with_label_values(&[tier.as_str()])
                    .set((*m).min(*settled) as f64 / *settled as f64);
            }
        }
    }
}

/// An escalation the broker acknowledged.
pub fn escalated(tier: &str, level: i32, delay_seconds: f64) {
    let Some(k) = KPIS.as_ref() else { return };
    k.escalations
        .with_label_values(&[tier, &level.to_string()])
        .inc();
    if level == 1 {
        k.reassignments.with_label_values(&[tier]).inc();
    }
    k.fire_delay.observe(delay_seconds.max(0.0));
}

/// An escalation the broker did not acknowledge.
pub fn emit_failed() {
    if let Some(k) = KPIS.as_ref() {
        k.emit_failures.inc();
    }
}

/// Sets the open-deadline gauges and the tracked-lead count.
pub fn set_open(open: &HashMap<(String, SlaKind), i64>, leads: usize) {
    let Some(k) = KPIS.as_ref() else { return };
    for ((tier, kind), n) in open {
        k.open
            .with_label_values(&[tier.as_str(), kind_label(*kind)])
            .set(*n);
    }
    k.leads.set(i64::try_from(leads).unwrap_or(i64::MAX));
}
