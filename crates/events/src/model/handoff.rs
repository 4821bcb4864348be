//! `schemas/handoff_packet.avsc`: the context packet on `handoff.packets`.

use serde::{Deserialize, Serialize};

use super::TierDecision;
use crate::event::{Event, EventKind};
use crate::time::Timestamp;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HandoffPacket {
    pub packet_id: String,
    pub decision: TierDecision,
    #[serde(default)]
    pub assignee: Option<Assignee>,
    pub summary: String,
    pub qualification_state: String,
    #[serde(default)]
    pub booking_link: Option<String>,
    pub priority: i32,
    pub created_at: Timestamp,
}

impl Event for HandoffPacket {
    const KIND: EventKind = EventKind::HandoffPacket;
    fn key(&self) -> &str {
        &self.decision.scored.enriched.lead.lead_id
    }
    fn lead_id(&self) -> Option<&str> {
        Some(self.key())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assignee {
    pub rep_id: String,
    pub name: String,
    pub team: String,
    #[serde(default)]
    pub slack_user_id: Option<String>,
    #[serde(default)]
    pub crm_owner_id: Option<String>,
}
