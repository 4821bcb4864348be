//! Prometheus KPIs of the watchdog, per tier, registered through the runtime's [`StageRegistry`]
//! (`leadflow_sla_watchdog_*`, served by the runtime's `/metrics`). Labels are bounded: the policy's
//! tiers, three SLA kinds, a handful of outcomes, levels 1–2, two answers and the fixed list of
//! rejection reasons (`leadflow_events::REJECTION_REASONS`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use leadflow_runtime::StageRegistry;

use leadflow_events::{
    RepActivity, RepActivityKind, SlaKind, SlaOutcome, SlaOutcomeKind, rejection_reason,
};
use prometheus::{GaugeVec, Histogram, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts};

use crate::deadline::kind_label;
use crate::engine::Outcome;

/// The watchdog's KPIs; cheap to clone (handles to shared metrics).
#[derive(Clone)]
pub struct WatchdogMetrics {
    open: IntGaugeVec,
    outcomes: IntCounterVec,
    breaches: IntCounterVec,
    met_ratio: GaugeVec,
    first_contact: HistogramVec,
    escalations: IntCounterVec,
    reassignments: IntCounterVec,
    fire_delay: Histogram,
    leads: IntGauge,
    answers: IntCounterVec,
    rejections: IntCounterVec,
    /// (met, settled) per tier since start, for the ratio gauge.
    tally: Arc<Mutex<HashMap<String, (u64, u64)>>>,
}

impl std::fmt::Debug for WatchdogMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WatchdogMetrics")
    }
}

impl WatchdogMetrics {
    /// Registers every KPI in the stage's registry; a registration error is returned, not dropped.
    pub fn register(r: &StageRegistry) -> Result<Self, prometheus::Error> {
        let met_ratio = GaugeVec::new(
            Opts::new(
                r.name("sla_met_ratio"),
                "Share of settled deadlines met in time since the process started, by tier (target > 0.9)",
            ),
            &["tier"],
        )?;
        r.register(Box::new(met_ratio.clone()))?;
        Ok(Self {
            open: r.gauge_vec(
                "open_deadlines",
                "SLA deadlines running now, by tier and kind",
                &["tier", "kind"],
            )?,
            outcomes: r.counter_vec(
                "deadlines_total",
                "Deadlines settled as published on sla.outcomes, by tier, kind and outcome (met, closed_late, escalated, missed, expired, superseded, reconciled)",
                &["tier", "kind", "outcome"],
            )?,
            breaches: r.counter_vec(
                "breaches_total",
                "Deadlines missed (closed late, escalated, missed by the automated sequence, expired), by tier and kind",
                &["tier", "kind"],
            )?,
            met_ratio,
            first_contact: r.histogram_vec(
                "first_contact_business_seconds",
                "Time from the decision to the first contact, in business seconds, by tier",
                vec![
                    60.0, 180.0, 300.0, 600.0, 900.0, 1_800.0, 3_600.0, 7_200.0, 14_400.0,
                    32_400.0, 86_400.0,
                ],
                &["tier"],
            )?,
            escalations: r.counter_vec(
                "escalations_total",
                "Escalations raised, by tier and level",
                &["tier", "level"],
            )?,
            reassignments: r.counter_vec(
                "reassignments_total",
                "Level-1 escalations (the lead goes to the next eligible rep), by tier",
                &["tier"],
            )?,
            fire_delay: r.histogram(
                "timer_delay_seconds",
                "Wall time from a timer's firing time to its escalation being acknowledged",
                vec![0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.0, 5.0, 30.0],
            )?,
            leads: r.gauge("tracked_leads", "Leads held in the watchdog's state")?,
            answers: r.counter_vec(
                "answers_total",
                "Reps' answers to handoffs on handoff.activity, by tier and answer (accepted: ACCEPTED, CONTACTED, QUALIFIED, DISQUALIFIED; rejected: REJECTED); the acceptance rate's inputs (quality rule Q10)",
                &["tier", "answer"],
            )?,
            rejections: r.counter_vec(
                "rejections_total",
                "Handoffs rejected on handoff.activity, by tier and reason (a fixed list; free text counts as other)",
                &["tier", "reason"],
            )?,
            tally: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// Time to first contact, from what the engine reported (every instance observes it).
    pub fn record(&self, outcomes: &[Outcome]) {
        for o in outcomes {
            if let Outcome::FirstContact {
                tier,
                business_seconds,
            } = o
            {
                self.first_contact
                    .with_label_values(&[tier.as_str()])
                    .observe(*business_seconds);
            }
        }
    }

    /// Counts one outcome this instance published on `sla.outcomes` (each outcome is published
    /// by one instance, once).
    pub fn settled(&self, o: &SlaOutcome) {
        let k = self;
        let (tier, kind) = (o.tier.as_str(), kind_label(o.sla_kind));
        let label = match o.outcome {
            SlaOutcomeKind::Opened | SlaOutcomeKind::Other => return,
            SlaOutcomeKind::Met => "met",
            SlaOutcomeKind::ClosedLate => "closed_late",
            SlaOutcomeKind::Escalated => "escalated",
            SlaOutcomeKind::Missed => "missed",
            SlaOutcomeKind::Expired => "expired",
            SlaOutcomeKind::Superseded => "superseded",
            SlaOutcomeKind::Reconciled => "reconciled",
        };
        k.outcomes.with_label_values(&[tier, kind, label]).inc();
        if o.breach {
            k.breaches.with_label_values(&[tier, kind]).inc();
        }
        if o.outcome == SlaOutcomeKind::Superseded {
            return;
        }
        if let Ok(mut t) = k.tally.lock() {
            let (m, settled) = t.entry(o.tier.clone()).or_default();
            match o.outcome {
                // counted as escalated (settled, a breach) before; met by event time after all
                SlaOutcomeKind::Reconciled => *m += 1,
                SlaOutcomeKind::Met => {
                    *m += 1;
                    *settled += 1;
                }
                _ => *settled += 1,
            }
            if *settled > 0 {
                k.met_ratio
                    .with_label_values(&[tier])
                    .set((*m).min(*settled) as f64 / *settled as f64);
            }
        }
    }

    /// A rep's answer to a handoff (quality rule Q10): every activity once per instance; the
    /// kinds that answer nothing (REASSIGNED, ENROLLED by automation, OTHER) are not counted.
    pub fn answered(&self, tier: &str, a: &RepActivity) {
        let answer = match a.kind {
            RepActivityKind::Accepted
            | RepActivityKind::Contacted
            | RepActivityKind::Qualified
            | RepActivityKind::Disqualified => "accepted",
            RepActivityKind::Rejected => "rejected",
            RepActivityKind::Reassigned | RepActivityKind::Enrolled | RepActivityKind::Other => {
                return;
            }
        };
        self.answers.with_label_values(&[tier, answer]).inc();
        if answer == "rejected" {
            self.rejections
                .with_label_values(&[tier, rejection_reason(a.reason.as_deref())])
                .inc();
        }
    }

    /// An escalation the broker acknowledged.
    pub fn escalated(&self, tier: &str, level: i32, delay_seconds: f64) {
        let k = self;
        k.escalations
            .with_label_values(&[tier, &level.to_string()])
            .inc();
        if level == 1 {
            k.reassignments.with_label_values(&[tier]).inc();
        }
        k.fire_delay.observe(delay_seconds.max(0.0));
    }

    /// Sets the open-deadline gauges and the tracked-lead count.
    pub fn set_open(&self, open: &HashMap<(String, SlaKind), i64>, leads: usize) {
        let k = self;
        for ((tier, kind), n) in open {
            k.open
                .with_label_values(&[tier.as_str(), kind_label(*kind)])
                .set(*n);
        }
        k.leads.set(i64::try_from(leads).unwrap_or(i64::MAX));
    }
}
