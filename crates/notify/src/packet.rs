//! `Handoff`: what notify needs from a `HandoffPacket`, in one place. Everything else in the crate
//! reads this view, so a new packet version changes only [`Handoff::from_packet`].

use leadflow_events::{HandoffPacket, LeadLevel, SlaKind, Timestamp};
use serde::Serialize;

/// The person the handoff goes to.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rep {
    pub rep_id: String,
    pub name: String,
    pub team: String,
    pub email: Option<String>,
    pub slack_user_id: Option<String>,
    pub crm_owner_id: Option<String>,
}

/// What the visitor told us (visitor-provided data only).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Visitor {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub country: Option<String>,
}

impl Visitor {
    /// "First Last", or the email, or "Unknown visitor".
    pub fn display_name(&self) -> String {
        let name = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if !name.is_empty() {
            name
        } else {
            self.email
                .clone()
                .unwrap_or_else(|| "Unknown visitor".into())
        }
    }
}

/// One handoff to deliver.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Handoff {
    pub packet_id: String,
    /// Stable across redeliveries and replays of the same decision: the dedup key of every effect.
    pub idempotency_key: String,
    pub lead_id: String,
    pub lead_level: LeadLevel,
    pub tier: String,
    pub score: i32,
    pub team: String,
    pub trigger: String,
    pub assignee: Option<Rep>,
    pub visitor: Visitor,
    pub summary: String,
    pub qualification: String,
    pub commitment: Option<String>,
    /// The deadline the rep works to: first contact, else the earliest SLA deadline.
    pub sla_due: Option<Timestamp>,
    pub booking_link: Option<String>,
    pub reasons: Vec<String>,
    pub within_business_hours: bool,
    pub escalation_level: i32,
    pub created_at: Timestamp,
    /// The lead event's own time (for the end-to-end latency).
    pub lead_occurred_at: Timestamp,
}

impl Handoff {
    /// The view of a packet.
    pub fn from_packet(p: &HandoffPacket) -> Handoff {
        let d = &p.decision;
        let lead = &d.scored.enriched.lead;
        let sla_due = d
            .sla
            .iter()
            .find(|s| s.kind == SlaKind::FirstContact)
            .or_else(|| d.sla.iter().min_by_key(|s| s.due_at.0))
            .map(|s| s.due_at);
        Handoff {
            packet_id: p.packet_id.clone(),
            idempotency_key: p.packet_id.clone(),
            lead_id: lead.lead_id.clone(),
            lead_level: d.lead_level,
            tier: d.tier.clone(),
            score: d.scored.score,
            team: p
                .assignee
                .as_ref()
                .map_or_else(|| d.target_team.clone(), |a| a.team.clone()),
            trigger: format!("{:?}", d.trigger),
            assignee: p.assignee.as_ref().map(|a| Rep {
                rep_id: a.rep_id.clone(),
                name: a.name.clone(),
                team: a.team.clone(),
                email: None,
                slack_user_id: a.slack_user_id.clone(),
                crm_owner_id: a.crm_owner_id.clone(),
            }),
            visitor: Visitor {
                email: lead.contact.email.clone(),
                first_name: lead.contact.first_name.clone(),
                last_name: lead.contact.last_name.clone(),
                company: lead.company.name.clone(),
                title: lead.contact.title.clone(),
                phone: lead.contact.phone.clone(),
                country: lead
                    .contact
                    .country
                    .clone()
                    .or(lead.company.country.clone()),
            },
            summary: p.summary.clone(),
            qualification: p.qualification_state.clone(),
            commitment: d.commitment.clone(),
            sla_due,
            booking_link: p.booking_link.clone(),
            reasons: d.reasons.clone(),
            within_business_hours: d.within_business_hours,
            escalation_level: 0,
            created_at: p.created_at,
            lead_occurred_at: lead.occurred_at,
        }
    }

    /// "HOT", "WARM", "COLD".
    pub fn level_label(&self) -> &'static str {
        match self.lead_level {
            LeadLevel::Hot => "HOT",
            LeadLevel::Warm => "WARM",
            LeadLevel::Cold => "COLD",
        }
    }

    /// The summary cut to at most three sentences (the Slack message shows 2–3).
    pub fn short_summary(&self) -> String {
        let mut out = String::new();
        let mut sentences = 0;
        for (i, c) in self.summary.char_indices() {
            out.push(c);
            if matches!(c, '.' | '!' | '?')
                && self.summary[i + c.len_utf8()..]
                    .chars()
                    .next()
                    .is_none_or(char::is_whitespace)
            {
                sentences += 1;
                if sentences == 3 {
                    break;
                }
            }
        }
        out.trim().to_owned()
    }
}

/// A timestamp as `2026-11-30 10:05 UTC`.
pub fn format_time(t: Timestamp) -> String {
    chrono::DateTime::from_timestamp_millis(t.0).map_or_else(
        || t.0.to_string(),
        |d| d.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

#[cfg(test)]
mod tests {
    use leadflow_events::samples;

    use super::*;

    #[test]
    fn view_of_the_sample_packet() {
        let h = Handoff::from_packet(&samples::handoff_packet());
        assert_eq!(h.lead_id, "lead-0001");
        assert_eq!(h.level_label(), "HOT");
        assert_eq!(h.idempotency_key, "pkt-evt-0001");
        assert_eq!(h.sla_due, Some(Timestamp(samples::T0.0 + 300_000)));
        assert_eq!(
            h.assignee.as_ref().unwrap().slack_user_id.as_deref(),
            Some("U123")
        );
    }

    #[test]
    fn short_summary_keeps_three_sentences() {
        let mut h = Handoff::from_packet(&samples::handoff_packet());
        h.summary = "One. Two? Three! Four. Five.".into();
        assert_eq!(h.short_summary(), "One. Two? Three!");
        h.summary = "Version 2.5 is fine. Next.".into();
        assert_eq!(h.short_summary(), "Version 2.5 is fine. Next.");
    }
}
