//! `schemas/lead_outcome.avsc`: sales outcomes fed back on `leads.outcomes`.

use serde::{Deserialize, Serialize};

use crate::event::impl_event;
use crate::time::Timestamp;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeadOutcome {
    pub outcome_id: String,
    pub lead_id: String,
    #[serde(default)]
    pub account_key: Option<String>,
    pub stage: OutcomeStage,
    #[serde(default)]
    pub amount: Option<f64>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub model_version: Option<String>,
    pub occurred_at: Timestamp,
}

impl_event!(LeadOutcome, lead_id = lead_id);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutcomeStage {
    Sql,
    Opportunity,
    ClosedWon,
    ClosedLost,
    Accepted,
    Rejected,
}

impl OutcomeStage {
    /// The Avro symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            OutcomeStage::Sql => "SQL",
            OutcomeStage::Opportunity => "OPPORTUNITY",
            OutcomeStage::ClosedWon => "CLOSED_WON",
            OutcomeStage::ClosedLost => "CLOSED_LOST",
            OutcomeStage::Accepted => "ACCEPTED",
            OutcomeStage::Rejected => "REJECTED",
        }
    }
}
