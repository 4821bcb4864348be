//! The HubSpot side of an enrolment (RULES.md E5): the contact upserted by email (CRM v3 batch
//! upsert), then added to the sequence's list (lists v3 `PUT /crm/v3/lists/{listId}/memberships/add`,
//! a no-op for a member). Both calls are idempotent, so a retry or a redelivered decision enrols
//! nobody twice. Unavailable and rate-limited answers are retried with the backoff; a rejection is
//! final.

use std::time::Duration;

use leadflow_notify::ChannelError;
use leadflow_notify::hubspot_api::HubspotApi;
use leadflow_runtime::resilience::{Backoff, BackoffPolicy};
use serde_json::{Value, json};

use crate::enrol::{Enrol, Enrolled};

/// The longest a `Retry-After` (or HubSpot's rate-limit window) holds the next call (RULES.md E5).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Why an enrolment did not happen.
#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    /// HubSpot refused it (4xx other than 429): retrying will not help.
    #[error("HubSpot refused the enrolment: {0}")]
    Refused(String),
    /// Still unavailable after every attempt.
    #[error("HubSpot unavailable after {attempts} attempts: {last}")]
    GaveUp { attempts: u32, last: String },
}

/// HubSpot lists and contacts, with the retry policy of `[stage]`.
pub struct Lists {
    api: HubspotApi,
    record_url: String,
    policy: BackoffPolicy,
    attempts: u32,
    /// The custom contact property that holds the lead id (empty: none).
    lead_id_property: String,
}

impl Lists {
    pub fn new(
        api: HubspotApi,
        record_url: &str,
        policy: BackoffPolicy,
        attempts: u32,
        lead_id_property: &str,
    ) -> Self {
        Self {
            api,
            record_url: record_url.to_owned(),
            policy,
            attempts,
            lead_id_property: lead_id_property.trim().to_owned(),
        }
    }

    /// Enrols, retrying what may pass later; `on_retry` is told of each retry (metrics).
    pub async fn enrol(&self, e: &Enrol, on_retry: impl Fn()) -> Result<Enrolled, EnrolError> {
        let mut backoff = Backoff::new(self.policy, self.attempts);
        loop {
            match self.once(e).await {
                Ok(contact_id) => {
                    return Ok(Enrolled {
                        record_url: self.record_url.replace("{contact_id}", &contact_id),
                        contact_id,
                        attempts: backoff.attempts() + 1,
                    });
                }
                Err(ChannelError::Rejected { reason }) => return Err(EnrolError::Refused(reason)),
                Err(err) => {
                    let wait = match &err {
                        ChannelError::RateLimited { retry_after, .. } => Some(*retry_after),
                        ChannelError::Unavailable { retry_after, .. } => *retry_after,
                        ChannelError::Rejected { .. } => None,
                    };
                    let Some(delay) = backoff.next_delay() else {
                        return Err(EnrolError::GaveUp {
                            attempts: backoff.attempts(),
                            last: err.to_string(),
                        });
                    };
                    on_retry();
                    tokio::time::sleep(wait.unwrap_or(delay).min(MAX_RETRY_AFTER)).await;
                }
            }
        }
    }

    async fn once(&self, e: &Enrol) -> Result<String, ChannelError> {
        let contact_id = self
            .api
            .upsert(
                "contacts",
                "email",
                &e.email,
                contact_properties(e, &self.lead_id_property),
            )
            .await?;
        let reply = self
            .api
            .call(
                reqwest::Method::PUT,
                &format!("/crm/v3/lists/{}/memberships/add", e.list_id),
                Some(&json!([contact_id])),
            )
            .await?;
        // a contact HubSpot cannot find (merged or deleted between the two calls) is reported as
        // missing, not added: retry (the next upsert returns the surviving record)
        let missing = reply["recordIdsMissing"]
            .as_array()
            .is_some_and(|m| m.iter().any(|id| id.as_str() == Some(&contact_id)));
        if missing {
            return Err(ChannelError::unavailable(format!(
                "hubspot list {} reported the contact missing",
                e.list_id
            )));
        }
        Ok(contact_id)
    }
}

/// The upserted contact's properties: the email, the names and company when known, and the lead id
/// in `lead_id_property` (RULES.md E5).
fn contact_properties(e: &Enrol, lead_id_property: &str) -> Value {
    let mut p = json!({ "email": e.email });
    if !lead_id_property.is_empty() {
        p[lead_id_property] = Value::String(e.lead_id.clone());
    }
    for (key, value) in [
        ("firstname", &e.first_name),
        ("lastname", &e.last_name),
        ("company", &e.company),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            p[key] = Value::String(v.to_owned());
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use leadflow_events::Timestamp;

    use super::*;

    fn enrol() -> Enrol {
        Enrol {
            lead_id: "lead-7".into(),
            tier: "NURTURE_24H".into(),
            list_id: "101".into(),
            email: "dana@northwind.example".into(),
            first_name: Some("Dana".into()),
            last_name: Some(String::new()),
            company: None,
            sequence_id: "sequence:lead-7:1".into(),
            idempotency_key: "nurture|lead-7|1|NURTURE_24H".into(),
            decided_at: Timestamp(1),
        }
    }

    #[test]
    fn the_contact_carries_the_lead_id_in_its_property_unless_none_is_set() {
        assert_eq!(
            contact_properties(&enrol(), "leadflow_lead_id"),
            json!({"email": "dana@northwind.example", "firstname": "Dana", "leadflow_lead_id": "lead-7"}),
            "blank and unknown names are left out"
        );
        assert_eq!(
            contact_properties(&enrol(), ""),
            json!({"email": "dana@northwind.example", "firstname": "Dana"})
        );
    }
}
