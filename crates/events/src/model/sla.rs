//! `schemas/sla_escalation.avsc`: an expired SLA clock on `sla.escalations`.

use serde::{Deserialize, Serialize};

use super::SlaKind;
use crate::event::impl_event;
use crate::time::Timestamp;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlaEscalation {
    pub escalation_id: String,
    pub lead_id: String,
    pub packet_id: String,
    pub sla_kind: SlaKind,
    pub due_at: Timestamp,
    pub escalated_at: Timestamp,
    pub level: i32,
    #[serde(default)]
    pub from_rep_id: Option<String>,
    pub to: String,
    pub reason: String,
    /// Pool the next owner is picked from (route's eligibility rules, excluding `from_rep_id`).
    #[serde(default)]
    pub target_team: Option<String>,
    /// Tier of the decision whose SLA expired.
    #[serde(default)]
    pub tier: Option<String>,
    /// `escalated_at - due_at` in milliseconds when raised.
    #[serde(default)]
    pub late_by_ms: Option<i64>,
}

impl_event!(SlaEscalation, lead_id = lead_id);
