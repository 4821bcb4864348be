//! `schemas/handoff_packet.avsc` (version 4): the context packet on `handoff.packets`.

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
