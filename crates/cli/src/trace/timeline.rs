//! A lead's timeline from the events found for it: one step per event, what the stage decided and
//! why, the model and policy versions, and the time each hop took. Pure: no broker here.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use leadflow_events::{
    AnyEvent, EnrichedLead, HandoffPacket, ScoredLead, TierDecision, Timestamp, TopicRole,
};
use serde::Serialize;

/// One event of the lead, where it was found.
#[derive(Clone, Debug)]
pub struct Found {
    pub role: TopicRole,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// The record's broker timestamp (when it was written), if any.
    pub written_at: Option<Timestamp>,
    pub event: AnyEvent,
}

/// One step of the timeline.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// What the event is: `raw`, `enriched`, ... (the topic's role).
    pub hop: &'static str,
    /// The event's own time (occurred, enriched, scored, decided, ...).
    pub at: String,
    pub at_ms: i64,
    /// When the record was written to its topic.
    pub written_at: Option<String>,
    /// The decision in one line.
    pub decision: String,
    /// The reasons or factors behind it.
    pub reasons: Vec<String>,
    /// Model, policy and other versions that made the decision.
    pub versions: BTreeMap<String, String>,
    /// Time from the previous step's write to this one's (the hop's latency).
    pub since_previous_ms: Option<i64>,
}

fn hop(role: TopicRole) -> &'static str {
    match role {
        TopicRole::Raw => "raw",
        TopicRole::Enriched => "enriched",
        TopicRole::Scored => "scored",
        TopicRole::Tiered => "tiered",
        TopicRole::Packets => "packet",
        TopicRole::Deliveries => "delivery",
        TopicRole::Activity => "activity",
        TopicRole::Escalations => "escalation",
        TopicRole::Outcomes => "outcome",
        TopicRole::Exceptions => "exception",
        TopicRole::ModelParams => "model",
        TopicRole::ModelHistory => "model-history",
        TopicRole::Reps => "rep",
        TopicRole::ExceptionsState => "exception-state",
        TopicRole::DedupKeys => "dedup-key",
        TopicRole::SlaOutcomes => "sla-outcome",
        TopicRole::LeadState => "lead-state",
    }
}

fn label<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => "?".into(),
    }
}

/// (event time, decision, reasons, versions) of one event.
type Described = (Timestamp, String, Vec<String>, BTreeMap<String, String>);

/// (event time, decision, reasons, versions) of one event.
fn describe(e: &AnyEvent) -> Described {
    let versions = BTreeMap::new();
    match e {
        AnyEvent::LeadEvent(l) => (
            l.occurred_at,
            format!(
                "{} from {} (record {})",
                label(&l.event_type),
                l.source_system,
                l.source_record_id
            ),
            vec![format!("event {}", l.event_id)],
            versions,
        ),
        AnyEvent::EnrichedLead(x) => enriched(x),
        AnyEvent::ScoredLead(s) => scored(s),
        AnyEvent::TierDecision(d) => tiered(d),
        AnyEvent::HandoffPacket(p) => packet(p),
        AnyEvent::DeliveryReceipt(r) => (
            r.delivered_at,
            format!(
                "{} {} after {} attempt(s)",
                label(&r.channel),
                label(&r.status),
                r.attempts
            ),
            r.error.iter().cloned().collect(),
            versions,
        ),
        AnyEvent::RepActivity(a) => (
            a.occurred_at,
            format!("{} by {}", label(&a.kind), a.rep_id),
            a.reason.iter().cloned().collect(),
            versions,
        ),
        other => after_handoff(other),
    }
}

fn enriched(x: &EnrichedLead) -> Described {
    let mut versions = BTreeMap::new();
    let mut reasons = vec![format!("persona: {}", x.persona_reason)];
    reasons.extend(x.quality_warnings.iter().map(|w| format!("warning: {w}")));
    if let Some(f) = &x.firmographics {
        versions.insert("firmographics".into(), f.provider.clone());
    }
    (
        x.enriched_at,
        format!(
            "account {}, persona {}, enrichment {}{}",
            x.account_key,
            label(&x.persona),
            label(&x.enrichment),
            if x.is_update { " (update)" } else { "" }
        ),
        reasons,
        versions,
    )
}

fn scored(s: &ScoredLead) -> Described {
    let versions = BTreeMap::from([("model".to_owned(), s.model_version.clone())]);
    let mut factors: Vec<_> = s.factors.iter().collect();
    factors.sort_by(|a, b| b.points.abs().total_cmp(&a.points.abs()));
    (
        s.scored_at,
        format!(
            "score {} (fit {:.0}, intent {:.0}, qualification {:.0}, negative {:.0}), confidence {:.2}",
            s.score, s.fit, s.intent, s.qualification, s.negative, s.confidence
        ),
        factors
            .iter()
            .map(|f| format!("{:+.1} {}: {}", f.points, f.code, f.explanation))
            .collect(),
        versions,
    )
}

fn tiered(d: &TierDecision) -> Described {
    let versions = BTreeMap::from([
        ("policy".to_owned(), d.policy_version.clone()),
        ("model".to_owned(), d.model_version.clone()),
    ]);
    let mut decision = format!(
        "{} ({}), {} via {} to {}",
        d.tier,
        label(&d.lead_level),
        label(&d.handoff),
        label(&d.trigger),
        d.target_team
    );
    if let Some(c) = &d.commitment {
        let _ = write!(decision, "; commitment: {c}");
    }
    let mut reasons = d.reasons.clone();
    reasons.extend(
        d.sla
            .iter()
            .map(|s| format!("SLA {} due {}", label(&s.kind), s.due_at)),
    );
    (d.decided_at, decision, reasons, versions)
}

fn packet(p: &HandoffPacket) -> Described {
    let versions = BTreeMap::from([("policy".to_owned(), p.decision.policy_version.clone())]);
    let who = p.assignee.as_ref().map_or_else(
        || "nobody".to_owned(),
        |a| format!("{} ({}, {})", a.rep_id, a.role, a.team),
    );
    let mut reasons = vec![p.assignment_reason.clone()];
    reasons.extend(p.unassigned_reason.clone());
    reasons.push(format!("next step: {}", p.next_step));
    (
        p.created_at,
        format!(
            "packet {} to {} (priority {}, escalation level {})",
            p.packet_id, who, p.priority, p.escalation_level
        ),
        reasons,
        versions,
    )
}

/// Escalations, SLA outcomes, sales outcomes, exceptions and anything else.
fn after_handoff(e: &AnyEvent) -> Described {
    let mut versions = BTreeMap::new();
    match e {
        AnyEvent::SlaEscalation(s) => (
            s.escalated_at,
            format!(
                "{} SLA missed (due {}): level {} escalation to {}",
                label(&s.sla_kind),
                s.due_at,
                s.level,
                s.to
            ),
            vec![s.reason.clone()],
            versions,
        ),
        AnyEvent::SlaOutcome(o) => (
            o.decided_at,
            format!(
                "{} SLA {} (due {}), owner {}",
                label(&o.sla_kind),
                o.outcome.symbol().to_lowercase().replace('_', " "),
                o.due_at,
                o.owner.as_deref().unwrap_or("nobody")
            ),
            o.escalation_id
                .iter()
                .map(|id| format!("escalation {id}"))
                .collect(),
            versions,
        ),
        AnyEvent::LeadOutcome(o) => {
            if let Some(m) = &o.model_version {
                versions.insert("model".into(), m.clone());
            }
            (
                o.occurred_at,
                format!("outcome {}", label(&o.stage)),
                o.reason.iter().cloned().collect(),
                versions,
            )
        }
        AnyEvent::ExceptionRecord(x) => (
            x.raised_at,
            format!(
                "exception {} at {} ({}), owner {}",
                x.exception_id,
                x.stage,
                x.error_kind.label(),
                x.owner
            ),
            vec![x.reason.clone()],
            versions,
        ),
        other => (
            Timestamp(0),
            format!("{:?}", other.kind()),
            Vec::new(),
            versions,
        ),
    }
}

/// The pipeline order of hops, for events written at the same millisecond.
fn rank(role: TopicRole) -> usize {
    TopicRole::ALL
        .iter()
        .position(|r| *r == role)
        .unwrap_or(usize::MAX)
}

/// Orders the events by write time (event time when the broker gave none), then pipeline order,
/// and computes each hop's latency from the previous write.
pub fn timeline(mut found: Vec<Found>) -> Vec<Step> {
    let key = |f: &Found| {
        let (at, ..) = describe(&f.event);
        (f.written_at.unwrap_or(at), rank(f.role), f.offset)
    };
    found.sort_by_key(|f| key(f));
    let mut previous: Option<Timestamp> = None;
    let mut out = Vec::with_capacity(found.len());
    for f in found {
        let (at, decision, reasons, versions) = describe(&f.event);
        let written = f.written_at;
        out.push(Step {
            topic: f.topic,
            partition: f.partition,
            offset: f.offset,
            hop: hop(f.role),
            at: at.to_string(),
            at_ms: at.0,
            written_at: written.map(|w| w.to_string()),
            decision,
            reasons,
            versions,
            since_previous_ms: match (previous, written) {
                (Some(p), Some(w)) => Some(w.0 - p.0),
                _ => None,
            },
        });
        if written.is_some() {
            previous = written;
        }
    }
    out
}

/// The text timeline.
pub fn render(lead_id: &str, steps: &[Step]) -> String {
    let mut out = String::new();
    if steps.is_empty() {
        let _ = writeln!(out, "no events found for lead {lead_id}");
        return out;
    }
    let _ = writeln!(out, "lead {lead_id}: {} events", steps.len());
    for s in steps {
        let latency = s
            .since_previous_ms
            .map_or(String::new(), |ms| format!("  (+{ms} ms)"));
        let _ = writeln!(out, "{}  {:<10} {}{}", s.at, s.hop, s.decision, latency);
        if !s.versions.is_empty() {
            let v: Vec<String> = s.versions.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let _ = writeln!(out, "{:26}versions: {}", "", v.join(", "));
        }
        for r in &s.reasons {
            let _ = writeln!(out, "{:26}- {r}", "");
        }
        let _ = writeln!(out, "{:26}at {}:{}:{}", "", s.topic, s.partition, s.offset);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadflow_events::samples;

    fn found(role: TopicRole, offset: i64, written: i64, event: AnyEvent) -> Found {
        Found {
            role,
            topic: format!("{role:?}"),
            partition: 0,
            offset,
            written_at: Some(Timestamp(written)),
            event,
        }
    }

    #[test]
    fn steps_follow_write_time_with_hop_latencies_and_versions() {
        let steps = timeline(vec![
            found(TopicRole::Tiered, 5, 1_300, samples::tier_decision().into()),
            found(TopicRole::Raw, 9, 1_000, samples::lead_event().into()),
            found(TopicRole::Scored, 2, 1_120, samples::scored_lead().into()),
        ]);
        let hops: Vec<_> = steps.iter().map(|s| s.hop).collect();
        assert_eq!(hops, ["raw", "scored", "tiered"]);
        assert_eq!(steps[0].since_previous_ms, None);
        assert_eq!(steps[1].since_previous_ms, Some(120));
        assert_eq!(steps[2].since_previous_ms, Some(180));
        assert!(steps[1].versions.contains_key("model"));
        assert!(steps[2].versions.contains_key("policy"));
        assert!(!steps[1].reasons.is_empty(), "score factors are listed");
        let text = render("lead-1", &steps);
        assert!(text.contains("(+120 ms)"), "{text}");
    }

    #[test]
    fn no_personal_data_in_the_raw_step() {
        let lead = samples::lead_event();
        let steps = timeline(vec![found(TopicRole::Raw, 0, 0, lead.clone().into())]);
        let text = serde_json::to_string(&steps).unwrap_or_default();
        if let Some(email) = &lead.contact.email {
            assert!(!text.contains(email.as_str()), "{text}");
        }
        assert!(text.contains(&lead.source_system), "{text}");
    }
}
