//! HubSpot CRM v3: the contact upserted by email, a task due at the SLA deadline and a note with the
//! full context packet, both upserted by the packet's idempotency key (a custom unique property
//! `leadflow_idempotency_key` on tasks and notes), associated to the contact (v4 default
//! associations, idempotent PUTs); owner from the rep. Honours `429` and the
//! `X-HubSpot-RateLimit-*` headers.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use futures::future::BoxFuture;
use leadflow_escape::crm;
use leadflow_events::DeliveryChannel;
use serde_json::json;

use crate::channel::{Attempt, Channel, ChannelError, Delivered};
use crate::hubspot_api::HubspotApi;
use crate::packet::{Handoff, format_time};
use crate::settings::HubspotSettings;

pub use crate::hubspot_api::ID_PROPERTY;

pub struct HubspotChannel {
    api: HubspotApi,
    record_url: String,
    owners: BTreeMap<String, String>,
    lookup_owner_by_email: bool,
    owner_cache: Mutex<HashMap<String, Option<String>>>,
}

impl HubspotChannel {
    /// `max_hold`: the cap on a rate limit's wait (`max_retry_after_ms`, RULES.md §2).
    pub fn new(
        settings: &HubspotSettings,
        http: reqwest::Client,
        max_hold: Duration,
    ) -> Option<HubspotChannel> {
        let token = settings.token.clone().filter(|t| !t.is_empty())?;
        Some(HubspotChannel {
            api: HubspotApi::new(http, &settings.api_url, token, max_hold),
            record_url: settings.record_url.clone(),
            owners: settings.owners.clone(),
            lookup_owner_by_email: settings.lookup_owner_by_email,
            owner_cache: Mutex::new(HashMap::new()),
        })
    }

    fn record_url(&self, contact_id: &str) -> String {
        self.record_url.replace("{contact_id}", contact_id)
    }

    async fn associate(
        &self,
        from: &str,
        from_id: &str,
        contact_id: &str,
    ) -> Result<(), ChannelError> {
        self.api
            .associate_to(from, from_id, "contacts", contact_id)
            .await
    }

    /// Upserts an engagement by its leadflow key, then associates it with the contact; its id.
    async fn write_associated(
        &self,
        object: &str,
        key: &str,
        properties: serde_json::Value,
        contact_id: &str,
    ) -> Result<String, ChannelError> {
        let id = self
            .api
            .upsert(object, ID_PROPERTY, key, properties)
            .await?;
        self.associate(object, &id, contact_id).await?;
        Ok(id)
    }

    /// The CRM owner of the contact: the assignee's, or for a withdrawal notice the previous
    /// owner's (the lead stays with them).
    async fn owner_id(&self, h: &Handoff) -> Result<Option<String>, ChannelError> {
        let keeper = if h.is_notice() {
            &h.previous_assignee
        } else {
            &h.assignee
        };
        let Some(rep) = keeper else {
            return Ok(None);
        };
        if let Some(id) = &rep.crm_owner_id {
            return Ok(Some(id.clone()));
        }
        if let Some(id) = self.owners.get(&rep.rep_id) {
            return Ok(Some(id.clone()));
        }
        let Some(email) = rep.email.as_ref().filter(|_| self.lookup_owner_by_email) else {
            return Ok(None);
        };
        if let Some(hit) = self
            .owner_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(email)
        {
            return Ok(hit.clone());
        }
        let reply = self
            .api
            .call(
                reqwest::Method::GET,
                &format!("/crm/v3/owners?email={}", email.replace('+', "%2B")),
                None,
            )
            .await?;
        let id = reply["results"][0]["id"].as_str().map(str::to_owned);
        self.owner_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(email.clone(), id.clone());
        Ok(id)
    }

    async fn write(&self, h: &Handoff, attempt: &Attempt<'_>) -> Result<Delivered, ChannelError> {
        let Some(email) = h.visitor.email.as_deref().filter(|e| !e.is_empty()) else {
            return Err(ChannelError::rejected(
                "no visitor email: the CRM contact is upserted by email",
            ));
        };
        let owner = self.owner_id(h).await?;
        let v = &h.visitor;
        let (first, last) = v.split_name();
        let mut contact = json!({
            "email": email,
            "firstname": first,
            "lastname": last,
            "company": v.company,
            "jobtitle": v.title,
            "phone": v.phone,
            "country": v.country,
        });
        if let Some(o) = &owner {
            contact["hubspot_owner_id"] = json!(o);
        }
        let contact_id = self.api.upsert("contacts", "email", email, contact).await?;
        let url = self.record_url(&contact_id);
        attempt
            .crm_link
            .send_replace(crate::channel::Link::Ready(url.clone()));
        if h.is_notice() {
            let note_id =
                crate::notice::close_withdrawn_task(&self.api, h, &contact_id, owner.as_deref())
                    .await?;
            return Ok(Delivered {
                external_id: note_id,
                url: Some(url),
            });
        }

        let due = h.sla_due.unwrap_or(h.created_at);
        let priority = match h.level_label() {
            "HOT" => "HIGH",
            "WARM" => "MEDIUM",
            _ => "LOW",
        };
        let mut task = json!({
            "hs_timestamp": due.0.to_string(),
            "hs_task_subject": format!("{} lead: contact {} ({}) by {}", h.level_label(), crm(&v.display_name()), crm(v.company.as_deref().unwrap_or("unknown company")), format_time(due)),
            "hs_task_body": format!("{}\n\nCommitment: {}\nNext: call or email before the deadline.", crm(&h.short_summary()), crm(h.commitment.as_deref().unwrap_or("contact within the SLA"))),
            "hs_task_status": "NOT_STARTED",
            "hs_task_priority": priority,
            "hs_task_type": "CALL",
        });
        let mut note = json!({
            "hs_timestamp": h.created_at.0.to_string(),
            "hs_note_body": note_body(h),
        });
        if let Some(o) = &owner {
            task["hubspot_owner_id"] = json!(o);
            note["hubspot_owner_id"] = json!(o);
        }
        // the task and the note are written at once, each associated as soon as it exists: three
        // round trips after the owner instead of five (every call is idempotent, so a failure of
        // one drops the other's call in flight and the retry writes both again)
        let task_key = format!("{}:task", h.idempotency_key);
        let note_key = format!("{}:note", h.idempotency_key);
        let (task_id, _note_id) = tokio::try_join!(
            self.write_associated("tasks", &task_key, task, &contact_id),
            self.write_associated("notes", &note_key, note, &contact_id),
        )?;
        if !h.supersedes.is_empty() {
            crate::hubspot_reassign::close_superseded_tasks(
                &self.api,
                h,
                &contact_id,
                owner.as_deref(),
            )
            .await?;
        }
        if crate::hubspot_reassign::is_reassignment(h) {
            crate::hubspot_reassign::close_previous_tasks(
                &self.api,
                h,
                &contact_id,
                owner.as_deref(),
            )
            .await?;
        }
        Ok(Delivered {
            external_id: task_id,
            url: Some(url),
        })
    }
}

/// The note: the whole context packet, readable, as the audit record. HubSpot shows a note body
/// as HTML, so every value in it (the packet's JSON too) passes the CRM escaper.
fn note_body(h: &Handoff) -> String {
    let packet = serde_json::to_string_pretty(h).unwrap_or_default();
    let committee = h
        .committee
        .as_ref()
        .filter(|c| crate::committee_view::shown(c))
        .map(|c| format!("\n\n{}", crm(&crate::committee_view::text(c))))
        .unwrap_or_default();
    format!(
        "leadflow handoff — {} lead, {} tier, score {}\nReasons: {}\nQualification: {}{committee}\n\nContext packet:\n{}",
        h.level_label(),
        crm(&h.tier),
        h.score,
        crm(&h.reasons.join("; ")),
        crm(&h.qualification),
        crm(&packet)
    )
}

impl Channel for HubspotChannel {
    fn kind(&self) -> DeliveryChannel {
        DeliveryChannel::Crm
    }

    fn deliver<'a>(
        &'a self,
        handoff: &'a Handoff,
        attempt: &'a Attempt<'a>,
    ) -> BoxFuture<'a, Result<Delivered, ChannelError>> {
        Box::pin(self.write(handoff, attempt))
    }
}
