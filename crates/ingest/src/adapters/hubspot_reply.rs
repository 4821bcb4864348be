//! A contact's email reply, as a HubSpot workflow reports it → `LeadEvent` (`event_type`
//! EMAIL_REPLY, RULES.md A3).
//!
//! The workflow ("contact replied to a sales or marketing email": `hs_sales_email_last_replied` or
//! `hs_email_last_reply_date` is known) sends the contact with its properties through its "Send a
//! webhook" action: `objectId` (or `vid`), `portalId` (or `portal-id`) and `properties` as
//! `{name: value}` or HubSpot's older `{name: {"value": ...}}`. The lead is the one named by the
//! contact property `leadflow_lead_id` (nurture sets it when it enrols the contact), else the one of
//! the contact's email (as a form of the same person, A1, scoped by the publisher): a reply of a
//! contact leadflow never saw is a new lead, not an error. The lead ids this adapter writes are
//! complete (ingest does not scope them again): only a publisher with `crm_replies` may post here.

use std::collections::BTreeMap;

use chrono::DateTime;
use leadflow_events::{Activity, ActivityKind, LeadEvent, LeadEventType, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::hubspot::{MILLIS_RANGE, company_of, contact_of};
use super::{derived_id, field_error, lead_id_from_email};
use crate::api::FieldError;

/// The contact property nurture sets to the lead id (nurture RULES.md E5).
pub const LEAD_ID_PROPERTY: &str = "leadflow_lead_id";

/// The reply-date properties, sales email (sequences) first: the reply's time and its kind.
const REPLY_PROPERTIES: [(&str, &str); 2] = [
    ("hs_sales_email_last_replied", "sales_email"),
    ("hs_email_last_reply_date", "marketing_email"),
];

/// A contact that replied, as a HubSpot workflow's webhook action sends it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct HubSpotContactReply {
    /// The contact's id (HubSpot sends a number).
    #[serde(default, rename = "objectId", alias = "vid")]
    #[schema(value_type = Option<i64>, minimum = 0)]
    pub object_id: Option<serde_json::Value>,
    #[serde(default, rename = "portalId", alias = "portal-id")]
    #[schema(value_type = Option<i64>, minimum = 0)]
    pub portal_id: Option<serde_json::Value>,
    /// Contact properties by internal name: a string or number, or `{"value": ...}`. Read: `email`
    /// (required), `leadflow_lead_id`, `hs_sales_email_last_replied` or `hs_email_last_reply_date`
    /// (one required: epoch milliseconds or an ISO 8601 time), and the names, title, company and
    /// website as in a form (A1).
    #[schema(value_type = Object)]
    pub properties: serde_json::Map<String, serde_json::Value>,
}

/// A property's value as text: a string or number, or the `value` of HubSpot's older shape.
fn value_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.trim().to_owned()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Object(o) => o.get("value").and_then(value_text),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

/// Epoch milliseconds (13 digits) or an ISO 8601 time with its offset.
fn reply_time(text: &str) -> Option<Timestamp> {
    let millis = match text.parse::<i64>() {
        Ok(ms) => ms,
        Err(_) => DateTime::parse_from_rfc3339(text).ok()?.timestamp_millis(),
    };
    MILLIS_RANGE.contains(&millis).then_some(Timestamp(millis))
}

/// Maps a reply to a lead event of `publisher`.
pub fn to_lead_event(
    reply: &HubSpotContactReply,
    publisher: &str,
) -> Result<LeadEvent, Vec<FieldError>> {
    let values: BTreeMap<String, String> = reply
        .properties
        .iter()
        .filter_map(|(k, v)| Some((k.trim().to_lowercase(), value_text(v)?)))
        .filter(|(k, _)| !k.is_empty())
        .collect();
    let mut errors = Vec::new();
    let email = values.get("email").cloned();
    if email.is_none() {
        errors.push(field_error(
            "/properties/email",
            "required: the contact's email (include it in the workflow's webhook)",
        ));
    }
    let replied = REPLY_PROPERTIES
        .iter()
        .find_map(|(name, kind)| values.get(*name).map(|v| (*name, *kind, reply_time(v))));
    let at = match replied {
        Some((_, kind, Some(at))) => Some((kind, at)),
        Some((name, _, None)) => {
            errors.push(field_error(
                &format!("/properties/{name}"),
                "must be epoch milliseconds (13 digits) or an ISO 8601 time",
            ));
            None
        }
        None => {
            errors.push(field_error(
                "/properties/hs_sales_email_last_replied",
                "required: hs_sales_email_last_replied or hs_email_last_reply_date, the time of the reply",
            ));
            None
        }
    };
    let (Some(email), Some((kind, occurred_at)), true) = (email, at, errors.is_empty()) else {
        return Err(errors);
    };
    let text = |v: &Option<serde_json::Value>| v.as_ref().and_then(value_text).unwrap_or_default();
    let contact_id = text(&reply.object_id);
    let portal = text(&reply.portal_id);
    let millis = occurred_at.millis().to_string();
    let who = if contact_id.is_empty() {
        email.to_lowercase()
    } else {
        contact_id.clone()
    };
    let event_id = derived_id("hubspot-reply-", &[publisher, &portal, &who, &millis]);
    // leadflow's lead id as nurture wrote it, else the publisher's lead of the email (scoped as
    // ingest scopes every lead id, P6)
    let lead_id = values
        .get(LEAD_ID_PROPERTY)
        .cloned()
        .unwrap_or_else(|| format!("{publisher}:{}", lead_id_from_email(&email)));
    let source_record_id = if contact_id.is_empty() {
        format!("reply:{millis}")
    } else {
        format!("contact:{contact_id}/reply:{millis}")
    };
    let mut attributes = BTreeMap::from([("hubspot.reply".to_owned(), kind.to_owned())]);
    if !contact_id.is_empty() {
        attributes.insert("hubspot.contact_id".to_owned(), contact_id);
    }
    if !portal.is_empty() {
        attributes.insert("hubspot.portal_id".to_owned(), portal);
    }
    let company = company_of(&values);
    Ok(LeadEvent {
        event_id,
        lead_id,
        account_domain: company.domain.clone(),
        source_system: publisher.to_owned(),
        source_record_id,
        occurred_at,
        event_type: LeadEventType::EmailReply,
        contact: contact_of(&values),
        company,
        activities: vec![Activity {
            kind: ActivityKind::EmailReply,
            occurred_at,
            detail: Some(format!("HubSpot: {} replied", kind.replace('_', " "))),
        }],
        chat: None,
        session: None,
        attributes,
    })
}
