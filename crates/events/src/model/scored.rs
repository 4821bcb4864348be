//! `schemas/scored_lead.avsc`: output of the score stage on `leads.scored`.

use serde::{Deserialize, Serialize};

use super::EnrichedLead;
use crate::event::impl_event;
use crate::time::Timestamp;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoredLead {
    pub enriched: EnrichedLead,
    pub score: i32,
    pub fit: f64,
    pub intent: f64,
    pub qualification: f64,
    pub negative: f64,
    pub confidence: f64,
    pub factors: Vec<ScoreFactor>,
    pub model_version: String,
    pub scored_at: Timestamp,
}

impl_event!(ScoredLead, lead_id = enriched.lead.lead_id);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreFactor {
    pub code: String,
    pub points: f64,
    pub explanation: String,
}
