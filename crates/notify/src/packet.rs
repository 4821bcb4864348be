//! `Handoff`: what notify needs from a `HandoffPacket`, in one place. Everything else in the crate
//! reads this view, so a new packet version changes only [`Handoff::from_packet`].

use leadflow_events::{Assignee, Committee, HandoffPacket, LeadLevel, SlaKind, Timestamp};
use serde::Serialize;

/// Suffix of a withdrawal notice's idempotency key after the withdrawn packet's (the SLA
/// watchdog's rule).
pub const WITHDRAWN_SUFFIX: &str = ":withdrawn";

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
    pub name: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub country: Option<String>,
}

impl Visitor {
    /// The name, or the email, or "Unknown visitor".
    pub fn display_name(&self) -> String {
        self.name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .or_else(|| self.email.clone())
            .unwrap_or_else(|| "Unknown visitor".into())
    }

    /// The contact lines a message shows, in order, labelled: name, company, title, email, phone,
    /// country (`None`: not known).
    pub fn contact_fields(&self) -> [(&'static str, Option<String>); 6] {
        [
            ("Name", Some(self.display_name())),
            ("Company", self.company.clone()),
            ("Title", self.title.clone()),
            ("Email", self.email.clone()),
            ("Phone", self.phone.clone()),
            ("Country", self.country.clone()),
        ]
    }

    /// (first name, last name) for CRMs that want them apart: split at the first space.
    pub fn split_name(&self) -> (Option<String>, Option<String>) {
        match self
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            None => (None, None),
            Some(n) => match n.split_once(' ') {
                Some((first, last)) => (Some(first.to_owned()), Some(last.trim().to_owned())),
                None => (Some(n.to_owned()), None),
            },
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
    /// Manager copied on escalations / flagged packets.
    pub manager_cc: Option<Rep>,
    /// The rep the lead was taken from after an SLA breach (told too).
    pub previous_assignee: Option<Rep>,
    pub assignment_reason: String,
    pub unassigned_reason: Option<String>,
    pub visitor: Visitor,
    pub summary: String,
    pub qualification: String,
    pub next_step: String,
    pub commitment: Option<String>,
    /// The deadline the rep works to: first contact, else the earliest SLA deadline.
    pub sla_due: Option<Timestamp>,
    pub booking_link: Option<String>,
    pub reasons: Vec<String>,
    pub top_factors: Vec<String>,
    pub within_business_hours: bool,
    pub escalation_level: i32,
    pub created_at: Timestamp,
    /// The lead event's own time (for the end-to-end latency).
    pub lead_occurred_at: Timestamp,
    /// A withdrawal notice: the `packet_id` of the reassignment it withdraws (RULES.md §1a). The
    /// assignee is the rep the lead had been reassigned to; they are told no action is needed.
    pub withdraws: Option<String>,
    /// Keys of earlier packets of the same lead for another decision, already in the CRM: their
    /// tasks are closed when this one is written (RULES.md §1b). Filled by the stage from the
    /// ledger; empty from [`Handoff::from_packet`].
    pub supersedes: Vec<String>,
    /// The account's buying committee (route RULES.md §9), when the lead has an account.
    pub committee: Option<Committee>,
    /// The Slack `ts` of the account card this packet updates (RULES.md §1d): the card's first
    /// packet's delivered post, filled by the stage from the ledger; `None` posts a card of its own.
    pub card_ts: Option<String>,
}

fn rep(a: &Assignee) -> Rep {
    Rep {
        rep_id: a.rep_id.clone(),
        name: a.name.clone(),
        team: a.team.clone(),
        email: Some(a.email.clone()).filter(|e| !e.is_empty()),
        slack_user_id: a.slack_user_id.clone(),
        crm_owner_id: a.crm_owner_id.clone(),
    }
}

impl Handoff {
    /// The view of a packet (HandoffPacket v2).
    pub fn from_packet(p: &HandoffPacket) -> Handoff {
        let d = &p.decision;
        let lead = &d.scored.enriched.lead;
        // Reassigned packets carry re-based deadlines; older ones only the decision's.
        let sla = if p.sla.is_empty() { &d.sla } else { &p.sla };
        let sla_due = sla
            .iter()
            .find(|s| s.kind == SlaKind::FirstContact)
            .or_else(|| sla.iter().min_by_key(|s| s.due_at.0))
            .map(|s| s.due_at)
            .filter(|_| p.withdraws.is_none());
        let qualification = p
            .qualification
            .iter()
            .map(|q| {
                format!(
                    "{} {} ({:.2})",
                    q.dimension,
                    if q.confirmed { "confirmed" } else { "open" },
                    q.confidence
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        Handoff {
            packet_id: p.packet_id.clone(),
            idempotency_key: if p.idempotency_key.is_empty() {
                p.packet_id.clone()
            } else {
                p.idempotency_key.clone()
            },
            lead_id: lead.lead_id.clone(),
            lead_level: d.lead_level,
            tier: d.tier.clone(),
            score: d.scored.score,
            team: p
                .assignee
                .as_ref()
                .map_or_else(|| d.target_team.clone(), |a| a.team.clone()),
            trigger: format!("{:?}", d.trigger),
            assignee: p.assignee.as_ref().map(rep),
            manager_cc: p.manager_cc.as_ref().map(rep),
            previous_assignee: p.previous_assignee.as_ref().map(rep),
            assignment_reason: p.assignment_reason.clone(),
            unassigned_reason: p.unassigned_reason.clone(),
            visitor: Visitor {
                email: p.visitor.email.clone(),
                name: p.visitor.name.clone(),
                company: p.visitor.company.clone(),
                title: p.visitor.title.clone(),
                phone: p.visitor.phone.clone(),
                country: p.visitor.country.clone(),
            },
            summary: p.summary.clone(),
            qualification,
            next_step: p.next_step.clone(),
            commitment: p.commitment.clone().or_else(|| d.commitment.clone()),
            sla_due,
            booking_link: p.booking_link.clone(),
            reasons: d.reasons.clone(),
            top_factors: p.top_factors.clone(),
            within_business_hours: d.within_business_hours,
            escalation_level: p.escalation_level,
            created_at: p.created_at,
            lead_occurred_at: lead.occurred_at,
            withdraws: p.withdraws.clone(),
            supersedes: Vec::new(),
            committee: p.committee.clone(),
            card_ts: None,
        }
    }

    /// Why a reassigned packet took the lead from its previous owner, in words: route's reason for
    /// a rep removed from the roster says so; every other reassignment follows an SLA breach.
    pub fn reassigned_because(&self) -> &'static str {
        if self
            .assignment_reason
            .contains("was removed from the roster")
        {
            "because they left the roster"
        } else {
            "after the SLA breach"
        }
    }

    /// The idempotency key of the account card this packet updates (route RULES.md §9.3).
    pub fn card_key(&self) -> Option<&str> {
        self.committee.as_ref().and_then(|c| c.card_key.as_deref())
    }

    /// Whether this is a withdrawal notice rather than a handoff.
    pub fn is_notice(&self) -> bool {
        self.withdraws.is_some()
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
        assert_eq!(h.idempotency_key, "lead-0001|evt-0001|HOT|HOT_LEAD|0");
        assert_eq!(
            h.visitor.split_name(),
            (Some("Ada".into()), Some("Lovelace".into()))
        );
        assert!(
            h.qualification.contains("problem confirmed (0.92)"),
            "{}",
            h.qualification
        );
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
