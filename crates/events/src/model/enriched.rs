//! `schemas/enriched_lead.avsc`: output of the enrich stage on `leads.enriched`.

use serde::{Deserialize, Serialize};

use super::LeadEvent;
use crate::event::impl_event;
use crate::time::Timestamp;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnrichedLead {
    pub lead: LeadEvent,
    pub enriched_at: Timestamp,
    pub account_key: String,
    #[serde(default)]
    pub email_domain: Option<String>,
    #[serde(default)]
    pub free_mail: bool,
    #[serde(default)]
    pub company_domain: Option<String>,
    #[serde(default)]
    pub enrichment: EnrichmentStatus,
    #[serde(default)]
    pub firmographics: Option<Firmographics>,
    #[serde(default)]
    pub persona: Persona,
    #[serde(default)]
    pub persona_reason: String,
    #[serde(default)]
    pub is_update: bool,
    #[serde(default)]
    pub previous_event_id: Option<String>,
    #[serde(default)]
    pub quality_warnings: Vec<String>,
}

impl EnrichedLead {
    /// The account the lead belongs to, as enrich decided it once (`account_key`: the company
    /// domain); `None` when the lead has none (the key is then the lead's own id: a free-mail lead
    /// without a company domain). Older records without an `account_key` fall back to the company
    /// domain.
    pub fn account(&self) -> Option<&str> {
        let key = self.account_key.trim();
        if key.is_empty() {
            return self.company_domain.as_deref().filter(|d| !d.is_empty());
        }
        (key != self.lead.lead_id).then_some(key)
    }

    /// The key that groups a lead with the rest of its account on account-keyed topics
    /// (`leads.tiered`): the account, else the lead id.
    pub fn account_or_lead(&self) -> &str {
        self.account().unwrap_or(&self.lead.lead_id)
    }
}

impl_event!(EnrichedLead, lead_id = lead.lead_id);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EnrichmentStatus {
    Enriched,
    NotFound,
    ProviderUnavailable,
    #[default]
    Skipped,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Firmographics {
    pub provider: String,
    #[serde(default)]
    pub industry: Option<String>,
    #[serde(default)]
    pub employee_band: Option<String>,
    #[serde(default)]
    pub revenue_band: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
}

/// Persona class: P1–P3 positive, N1 competitor, N2 researcher (crates/tier/POLICY.md G1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Persona {
    P1,
    P2,
    P3,
    N1,
    N2,
    #[default]
    #[serde(rename = "UNKNOWN")]
    Unknown,
}

impl Persona {
    /// The Avro symbol, e.g. `P1`, `UNKNOWN`.
    pub fn symbol(self) -> &'static str {
        match self {
            Persona::P1 => "P1",
            Persona::P2 => "P2",
            Persona::P3 => "P3",
            Persona::N1 => "N1",
            Persona::N2 => "N2",
            Persona::Unknown => "UNKNOWN",
        }
    }

    /// N1 (competitor) and N2 (researcher) are never escalated unless they ask for a human.
    pub fn is_negative(self) -> bool {
        matches!(self, Persona::N1 | Persona::N2)
    }
}
