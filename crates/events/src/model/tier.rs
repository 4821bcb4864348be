//! `schemas/tier_decision.avsc`: output of the tier stage on `leads.tiered`.

use serde::{Deserialize, Serialize};

use super::ScoredLead;
use crate::event::{Event, EventKind};
use crate::time::Timestamp;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TierDecision {
    pub scored: ScoredLead,
    pub tier: String,
    #[serde(default)]
    pub lead_level: LeadLevel,
    #[serde(default)]
    pub handoff: HandoffKind,
    #[serde(default)]
    pub trigger: HandoffTrigger,
    pub target_team: String,
    pub within_business_hours: bool,
    pub sla: Vec<SlaDeadline>,
    #[serde(default)]
    pub commitment: Option<String>,
    /// A resource to offer the visitor now, chosen by the conversation's topic.
    #[serde(default)]
    pub recommended_resource: Option<RecommendedResource>,
    pub reasons: Vec<String>,
    pub policy_version: String,
    pub model_version: String,
    pub decided_at: Timestamp,
}

impl Event for TierDecision {
    const KIND: EventKind = EventKind::TierDecision;
    /// Keyed by account (`leads.tiered`): every lead of one account lands in one partition, so one
    /// route instance decides its owner. A lead without an account is its own key.
    fn key(&self) -> &str {
        self.scored.enriched.account_or_lead()
    }
    fn lead_id(&self) -> Option<&str> {
        Some(&self.scored.enriched.lead.lead_id)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LeadLevel {
    Hot,
    Warm,
    #[default]
    Cold,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HandoffKind {
    /// A human now: a call or a connection.
    Escalation,
    /// A human later, with a commitment.
    Capture,
    #[default]
    None,
    /// A lower-friction offer now (the recommended resource), no call; the band's queue still applies.
    SoftEscalation,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HandoffTrigger {
    HotLead,
    ExplicitRequest,
    OutOfScope,
    StallOrFrustration,
    ScoreBand,
    #[default]
    None,
    /// A warm lead still talking after several exchanges (soft escalation).
    WarmConversation,
    /// A nurtured lead replied within its sequence's window: a human takes over.
    NurtureReply,
}

/// One entry of the tier stage's resources catalogue, offered to the visitor.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecommendedResource {
    pub topic: String,
    pub title: String,
    pub url: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlaDeadline {
    pub kind: SlaKind,
    pub due_at: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SlaKind {
    Assignment,
    FirstContact,
    Qualification,
}
