//! `schemas/handoff_packet.avsc` (version 5): the context packet on `handoff.packets`.

use serde::{Deserialize, Serialize};

use super::{HandoffTrigger, LeadLevel, SlaDeadline, TierDecision};
use crate::event::impl_event;
use crate::time::Timestamp;

/// Who owns a lead, by when, and everything they need. Keyed by lead id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HandoffPacket {
    /// Unique per emitted packet (derived from the idempotency key).
    pub packet_id: String,
    /// Stable across redeliveries of the same decision; new on reassignment.
    pub idempotency_key: String,
    pub decision: TierDecision,
    #[serde(default)]
    pub assignee: Option<Assignee>,
    #[serde(default)]
    pub manager_cc: Option<Assignee>,
    #[serde(default)]
    pub previous_assignee: Option<Assignee>,
    pub assignment_reason: String,
    #[serde(default)]
    pub unassigned_reason: Option<String>,
    /// 0 first assignment, 1 after a first SLA breach, 2 manager.
    #[serde(default)]
    pub escalation_level: i32,
    pub summary: String,
    #[serde(default)]
    pub qualification: Vec<QualificationDimension>,
    pub visitor: VisitorData,
    pub session: SessionData,
    #[serde(default)]
    pub top_factors: Vec<String>,
    pub next_step: String,
    #[serde(default)]
    pub recommended_resource: Option<ResourceLink>,
    #[serde(default)]
    pub booking_link: Option<String>,
    #[serde(default)]
    pub commitment: Option<String>,
    #[serde(default)]
    pub sla: Vec<SlaDeadline>,
    pub priority: i32,
    pub created_at: Timestamp,
    /// A withdrawal notice: the `packet_id` of the reassignment it withdraws (the previous owner's
    /// contact was in time, recorded late). No deadlines, no load; the assignee is told no action
    /// is needed.
    #[serde(default)]
    pub withdraws: Option<String>,
    /// The account as a buying committee (route RULES.md §9); `None` without an account.
    #[serde(default)]
    pub committee: Option<Committee>,
}

impl HandoffPacket {
    /// The lead the packet is about.
    pub fn lead_id(&self) -> &str {
        &self.decision.scored.enriched.lead.lead_id
    }

    /// The decision's lead level (urgency).
    pub fn lead_level(&self) -> LeadLevel {
        self.decision.lead_level
    }

    /// The decision's tier name (HOT, WARM, ...).
    pub fn tier(&self) -> &str {
        &self.decision.tier
    }

    /// What caused the handoff.
    pub fn trigger(&self) -> HandoffTrigger {
        self.decision.trigger
    }

    /// The account the lead belongs to (enrich's account key: company domain, or the email domain).
    pub fn account_key(&self) -> &str {
        &self.decision.scored.enriched.account_key
    }
}

impl_event!(
    HandoffPacket,
    lead_id = decision.scored.enriched.lead.lead_id
);

/// A rep as the packet's readers (notify, the watchdog, the CRM) need them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assignee {
    pub rep_id: String,
    pub name: String,
    pub email: String,
    /// The pool the lead was routed in.
    pub team: String,
    /// Lower-case role: `ae`, `sdr`, `manager`, ...
    pub role: String,
    #[serde(default)]
    pub slack_user_id: Option<String>,
    #[serde(default)]
    pub crm_owner_id: Option<String>,
}

/// One of the four qualification dimensions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QualificationDimension {
    /// `problem`, `authority`, `company` or `timing`.
    pub dimension: String,
    pub confirmed: bool,
    pub confidence: f64,
}

/// What the visitor told us.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VisitorData {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
}

/// Where the conversation happened.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionData {
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub page: Option<String>,
    #[serde(default)]
    pub started_at: Option<Timestamp>,
}

/// A resource to share with the visitor (tier's soft escalation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceLink {
    pub topic: String,
    pub title: String,
    pub url: String,
}

/// One context card per account: the committee map and the engagement strategy (route RULES.md §9).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Committee {
    pub account_key: String,
    /// The account's owner in the packet's team.
    #[serde(default)]
    pub owner: Option<Assignee>,
    /// Known people, this lead included (listed or not).
    #[serde(default)]
    pub total: i32,
    /// At most 50, in the engagement order, then the rest.
    #[serde(default)]
    pub members: Vec<CommitteeMember>,
    /// Counts per persona and status when more people are known than listed.
    #[serde(default)]
    pub summary: Vec<CommitteeCount>,
    /// Lead ids to engage, in order.
    #[serde(default)]
    pub engagement_order: Vec<String>,
    #[serde(default)]
    pub strategy: String,
    /// The `packet_id` of the card's first packet when this packet updates the card.
    #[serde(default)]
    pub updates_card: Option<String>,
    /// The `idempotency_key` of the card's first packet.
    #[serde(default)]
    pub card_key: Option<String>,
}

/// One known person of an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitteeMember {
    pub lead_id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    /// `P1`, `P2`, `P3`, `N1`, `N2` or `UNKNOWN`.
    pub persona: String,
    /// `champion`, `economic_buyer`, `technical_evaluator`, `unclassified`, `competitor`,
    /// `researcher`.
    pub role: String,
    pub score: i32,
    pub tier: String,
    /// `DECIDED`, `NURTURE`, `HANDED_OFF`, `ACCEPTED`, `CONTACTED`, `QUALIFIED`, `DISQUALIFIED`,
    /// `REJECTED`.
    pub status: String,
    #[serde(default)]
    pub owner_rep_id: Option<String>,
}

/// How many known people have one value of one dimension (`persona` or `status`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitteeCount {
    pub dimension: String,
    pub value: String,
    pub count: i32,
}
