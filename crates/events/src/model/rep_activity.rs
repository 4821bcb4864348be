//! `schemas/rep_activity.avsc`: what a rep did with a handoff, on `handoff.activity`.

use serde::{Deserialize, Serialize};

use crate::event::impl_event;
use crate::time::Timestamp;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RepActivity {
    pub activity_id: String,
    pub lead_id: String,
    #[serde(default)]
    pub packet_id: Option<String>,
    pub rep_id: String,
    pub kind: RepActivityKind,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub reassigned_to: Option<String>,
    pub occurred_at: Timestamp,
}

impl_event!(RepActivity, lead_id = lead_id);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RepActivityKind {
    Accepted,
    Contacted,
    Rejected,
    Reassigned,
    Qualified,
    Disqualified,
    /// A symbol added after this build (the Avro enum default).
    Other,
    /// Automation (rep id `automation`) enrolled the lead in a nurture sequence: the automated
    /// first touch of a no-handoff decision.
    Enrolled,
}
