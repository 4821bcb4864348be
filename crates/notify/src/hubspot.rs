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
use leadflow_runtime::Secret;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::channel::{
    Attempt, Channel, ChannelError, Delivered, parse_retry_after, transport_error,
};
use crate::packet::{Handoff, format_time};
use crate::settings::HubspotSettings;

/// The unique custom property tasks and notes are upserted by.
pub const ID_PROPERTY: &str = "leadflow_idempotency_key";

pub struct HubspotChannel {
    http: reqwest::Client,
    base: String,
    token: Secret,
    record_url: String,
    owners: BTreeMap<String, String>,
    lookup_owner_by_email: bool,
    owner_cache: Mutex<HashMap<String, Option<String>>>,
    /// No request before this instant (rate-limit window exhausted).
    not_before: Mutex<Option<Instant>>,
}

impl HubspotChannel {
    pub fn new(settings: &HubspotSettings, http: reqwest::Client) -> Option<HubspotChannel> {
        let token = settings.token.clone().filter(|t| !t.is_empty())?;
        Some(HubspotChannel {
            http,
            base: settings.api_url.trim_end_matches('/').to_owned(),
            token,
            record_url: settings.record_url.clone(),
            owners: settings.owners.clone(),
            lookup_owner_by_email: settings.lookup_owner_by_email,
            owner_cache: Mutex::new(HashMap::new()),
            not_before: Mutex::new(None),
        })
    }

    fn record_url(&self, contact_id: &str) -> String {
        self.record_url.replace("{contact_id}", contact_id)
    }

    async fn respect_rate_limit(&self) {
        let until = *self.not_before.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = until {
            tokio::time::sleep_until(until).await;
        }
    }

    /// One call: waits out an exhausted window, maps statuses to channel errors.
    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ChannelError> {
        self.call_or_missing(method, path, body)
            .await?
            .ok_or_else(|| {
                ChannelError::rejected(format!(
                    "hubspot {} answered 404 Not Found: OBJECT_NOT_FOUND",
                    path.split('?').next().unwrap_or(path)
                ))
            })
    }

    /// [`Self::call`], with a 404 (the object does not exist) as `Ok(None)`.
    pub(crate) async fn call_or_missing(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Option<Value>, ChannelError> {
        self.respect_rate_limit().await;
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(self.token.expose());
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| transport_error("hubspot", e))?;
        let status = resp.status();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let interval = header("x-hubspot-ratelimit-interval-milliseconds")
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_millis);
        let remaining = header("x-hubspot-ratelimit-remaining").and_then(|v| v.parse::<u64>().ok());
        let retry_after = parse_retry_after(header("retry-after").as_deref());
        if remaining == Some(0) || status.as_u16() == 429 {
            let wait = retry_after.or(interval).unwrap_or(Duration::from_secs(1));
            *self.not_before.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(Instant::now() + wait);
        }
        let text = resp.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let message = body["message"]
            .as_str()
            .unwrap_or(text.as_str())
            .chars()
            .take(200)
            .collect::<String>();
        match status.as_u16() {
            200..=299 => Ok(Some(body)),
            404 => Ok(None),
            429 => Err(ChannelError::RateLimited {
                reason: format!("hubspot 429: {message}"),
                retry_after: retry_after.or(interval).unwrap_or(Duration::from_secs(1)),
            }),
            500..=599 => Err(ChannelError::Unavailable {
                reason: format!("hubspot answered {status}"),
                retry_after,
            }),
            // The category, not the message: HubSpot quotes the rejected values (emails).
            _ => Err(ChannelError::rejected(format!(
                "hubspot {} answered {status}: {}",
                path.split('?').next().unwrap_or(path),
                body["category"].as_str().unwrap_or("error")
            ))),
        }
    }

    pub(crate) async fn upsert(
        &self,
        object: &str,
        id_property: &str,
        id: &str,
        properties: Value,
    ) -> Result<String, ChannelError> {
        let body =
            json!({"inputs": [{"idProperty": id_property, "id": id, "properties": properties}]});
        let reply = self
            .call(
                reqwest::Method::POST,
                &format!("/crm/v3/objects/{object}/batch/upsert"),
                Some(&body),
            )
            .await?;
        reply["results"][0]["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| {
                ChannelError::unavailable(format!("hubspot {object} upsert returned no id"))
            })
    }

    async fn associate(
        &self,
        from: &str,
        from_id: &str,
        contact_id: &str,
    ) -> Result<(), ChannelError> {
        self.associate_to(from, from_id, "contacts", contact_id)
            .await
    }

    /// A v4 default association (an idempotent PUT).
    pub(crate) async fn associate_to(
        &self,
        from: &str,
        from_id: &str,
        to: &str,
        to_id: &str,
    ) -> Result<(), ChannelError> {
        self.call(
            reqwest::Method::PUT,
            &format!("/crm/v4/objects/{from}/{from_id}/associations/default/{to}/{to_id}"),
            None,
        )
        .await
        .map(|_| ())
    }

    async fn owner_id(&self, h: &Handoff) -> Result<Option<String>, ChannelError> {
        let Some(rep) = &h.assignee else {
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
        let contact_id = self.upsert("contacts", "email", email, contact).await?;
        let url = self.record_url(&contact_id);
        attempt
            .crm_link
            .send_replace(crate::channel::Link::Ready(url.clone()));

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
        let task_id = self
            .upsert(
                "tasks",
                ID_PROPERTY,
                &format!("{}:task", h.idempotency_key),
                task,
            )
            .await?;
        let note_id = self
            .upsert(
                "notes",
                ID_PROPERTY,
                &format!("{}:note", h.idempotency_key),
                note,
            )
            .await?;
        self.associate("tasks", &task_id, &contact_id).await?;
        self.associate("notes", &note_id, &contact_id).await?;
        if crate::hubspot_reassign::is_reassignment(h) {
            crate::hubspot_reassign::close_previous_tasks(self, h, &contact_id, owner.as_deref())
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
    format!(
        "leadflow handoff — {} lead, {} tier, score {}\nReasons: {}\nQualification: {}\n\nContext packet:\n{}",
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
