//! `schemas/sla_outcome.avsc`: what happened to one SLA deadline, on `sla.outcomes`.

use serde::{Deserialize, Serialize};

use super::SlaKind;
use crate::event::impl_event;
use crate::time::Timestamp;

/// What happened to a deadline (see the schema's documentation of each symbol).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SlaOutcomeKind {
    Opened,
    Met,
    ClosedLate,
    Escalated,
    Missed,
    Expired,
    Superseded,
    Reconciled,
    /// A symbol a newer producer added (the enum's default).
    #[default]
    Other,
}

impl SlaOutcomeKind {
    /// The schema's symbol (ids, labels).
    pub fn symbol(self) -> &'static str {
        match self {
            SlaOutcomeKind::Opened => "OPENED",
            SlaOutcomeKind::Met => "MET",
            SlaOutcomeKind::ClosedLate => "CLOSED_LATE",
            SlaOutcomeKind::Escalated => "ESCALATED",
            SlaOutcomeKind::Missed => "MISSED",
            SlaOutcomeKind::Expired => "EXPIRED",
            SlaOutcomeKind::Superseded => "SUPERSEDED",
            SlaOutcomeKind::Reconciled => "RECONCILED",
            SlaOutcomeKind::Other => "OTHER",
        }
    }

    /// Whether the outcome is a breach charged to the deadline's owner.
    pub fn is_breach(self) -> bool {
        matches!(
            self,
            SlaOutcomeKind::ClosedLate
                | SlaOutcomeKind::Escalated
                | SlaOutcomeKind::Missed
                | SlaOutcomeKind::Expired
        )
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlaOutcome {
    pub outcome_id: String,
    pub lead_id: String,
    pub packet_id: String,
    pub sla_kind: SlaKind,
    pub outcome: SlaOutcomeKind,
    pub breach: bool,
    #[serde(default)]
    pub owner: Option<String>,
    pub tier: String,
    #[serde(default)]
    pub target_team: Option<String>,
    pub level: i32,
    pub due_at: Timestamp,
    pub decided_at: Timestamp,
    #[serde(default)]
    pub event_at: Option<Timestamp>,
    #[serde(default)]
    pub escalation_id: Option<String>,
}

impl_event!(SlaOutcome, lead_id = lead_id);
