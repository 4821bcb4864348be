//! HubSpot form submissions → `LeadEvent` (`event_type` FORM_SUBMISSION).
//!
//! Accepts the shape HubSpot's forms send (a workflow webhook or the Forms submission payload):
//! `fields` (or `values`) as `[{name, value}]` with HubSpot's internal property names, `submittedAt`
//! in epoch milliseconds (a number or a numeric string), `pageUrl`, `context {hutk, pageUri,
//! pageName, ipAddress}`, `formId`/`formGuid`, `portalId`, `conversionId`.

use std::collections::BTreeMap;

use leadflow_events::{
    Activity, ActivityKind, Company, Contact, LeadEvent, LeadEventType, Timestamp, VisitorSession,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{derived_id, field_error, host_of, lead_id_from_email};
use crate::api::FieldError;

/// A HubSpot form submission.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HubSpotFormSubmission {
    /// The submitted fields with HubSpot's internal property names (`email`, `firstname`, ...).
    #[serde(default)]
    #[schema(max_items = 500)]
    pub fields: Option<Vec<HubSpotField>>,
    /// The same list under the name HubSpot's submissions API uses.
    #[serde(default)]
    #[schema(max_items = 500)]
    pub values: Option<Vec<HubSpotField>>,
    /// Epoch milliseconds, 13 digits (a number or a numeric string).
    #[schema(schema_with = submitted_at_schema)]
    pub submitted_at: SubmittedAt,
    #[serde(default)]
    #[schema(max_length = 2048)]
    pub page_url: Option<String>,
    #[serde(default)]
    pub context: Option<HubSpotContext>,
    #[serde(default)]
    #[schema(max_length = 128)]
    pub form_id: Option<String>,
    #[serde(default)]
    #[schema(max_length = 128)]
    pub form_guid: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<i64>, minimum = 0)]
    pub portal_id: Option<serde_json::Value>,
    /// HubSpot's id of this submission; the event id derives from it when present.
    #[serde(default)]
    #[schema(max_length = 128)]
    pub conversion_id: Option<String>,
}

/// `submittedAt`: HubSpot sends a number in webhooks and a string in its submissions API.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SubmittedAt {
    Millis(i64),
    Text(String),
}

/// Epoch milliseconds with 13 digits (2001-09-09 to 2286): a typo of seconds for milliseconds is
/// refused rather than dated 1970.
pub const MILLIS_RANGE: std::ops::RangeInclusive<i64> = 1_000_000_000_000..=9_999_999_999_999;

fn submitted_at_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                .minimum(Some(*MILLIS_RANGE.start()))
                .maximum(Some(*MILLIS_RANGE.end())),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^[1-9][0-9]{12}$")),
        )
        .description(Some(
            "Epoch milliseconds (13 digits), a number or a numeric string",
        ))
        .build()
        .into()
}

/// One submitted field.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct HubSpotField {
    #[schema(min_length = 1, max_length = 256)]
    pub name: String,
    #[schema(max_length = 65536)]
    pub value: String,
    /// `0-1` (contact), `0-2` (company); informative only.
    #[serde(default, rename = "objectTypeId")]
    #[schema(max_length = 16)]
    pub object_type_id: Option<String>,
}

/// The page context HubSpot records with a submission.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HubSpotContext {
    /// The visitor's HubSpot tracking cookie.
    #[serde(default)]
    #[schema(max_length = 256)]
    pub hutk: Option<String>,
    #[serde(default)]
    #[schema(max_length = 2048)]
    pub page_uri: Option<String>,
    #[serde(default)]
    #[schema(max_length = 512)]
    pub page_name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 64)]
    pub ip_address: Option<String>,
}

/// Maps a submission to a lead event of `publisher`.
pub fn to_lead_event(
    sub: &HubSpotFormSubmission,
    publisher: &str,
) -> Result<LeadEvent, Vec<FieldError>> {
    let mut errors = Vec::new();
    // `fields` (webhooks) or `values` (the submissions API); neither: a submission without data,
    // still a lead event (enrich flags what it cannot identify)
    let list = match (&sub.fields, &sub.values) {
        (Some(f), _) => f.as_slice(),
        (None, Some(v)) => v.as_slice(),
        (None, None) => &[][..],
    };
    let submitted = match &sub.submitted_at {
        SubmittedAt::Millis(ms) => Some(*ms),
        SubmittedAt::Text(t) => t.trim().parse().ok(),
    }
    .filter(|ms| MILLIS_RANGE.contains(ms))
    .map(Timestamp);
    if submitted.is_none() {
        errors.push(field_error(
            "/submittedAt",
            "must be epoch milliseconds with 13 digits",
        ));
    }
    let values = field_values(list);
    let email = values.get("email").cloned();
    let hutk = sub.context.as_ref().and_then(|c| c.hutk.clone());
    // without email or hutk the lead is still published (lead id = event id): enrich flags what it
    // cannot identify, ingest checks the shape
    let Some(occurred_at) = submitted.filter(|_| errors.is_empty()) else {
        return Err(errors);
    };
    let form = sub
        .form_guid
        .clone()
        .or_else(|| sub.form_id.clone())
        .unwrap_or_default();
    let portal = sub
        .portal_id
        .as_ref()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let millis = occurred_at.millis().to_string();
    let identity = email.as_deref().or(hutk.as_deref()).unwrap_or_default();
    let event_id = match &sub.conversion_id {
        Some(c) => derived_id("hubspot-", &[publisher, &portal, c]),
        None => derived_id("hubspot-", &[publisher, &portal, &form, identity, &millis]),
    };
    let lead_id = match (&email, &hutk) {
        (Some(e), _) => lead_id_from_email(e),
        (None, Some(h)) => derived_id("lead-", &["hutk", h]),
        (None, None) => event_id.clone(),
    };
    let source_record_id = sub
        .conversion_id
        .clone()
        .unwrap_or_else(|| format!("{form}:{millis}"));
    let page_uri = sub
        .context
        .as_ref()
        .and_then(|c| c.page_uri.clone())
        .or_else(|| sub.page_url.clone());
    let page_name = sub.context.as_ref().and_then(|c| c.page_name.clone());
    let company = company_of(&values);
    let kind = activity_kind(page_name.as_deref(), page_uri.as_deref(), &form);
    let attributes = attributes_of(&values, &form, portal, hutk.as_deref());
    Ok(LeadEvent {
        event_id,
        lead_id,
        account_domain: company.domain.clone(),
        source_system: publisher.to_owned(),
        source_record_id,
        occurred_at,
        event_type: LeadEventType::FormSubmission,
        contact: contact_of(&values),
        company,
        activities: vec![Activity {
            kind,
            occurred_at,
            detail: page_name.clone().or_else(|| page_uri.clone()),
        }],
        chat: None,
        session: Some(VisitorSession {
            session_id: None,
            page_url: page_uri,
            platform: Some("web".to_owned()),
            timezone: None,
            started_at: None,
        }),
        attributes,
    })
}

/// The contact of HubSpot contact properties (lower-case names, blanks left out): `email`,
/// `firstname`, `lastname`, `phone` (else `mobilephone`), `jobtitle`, `department`, `country`.
pub(crate) fn contact_of(values: &BTreeMap<String, String>) -> Contact {
    let take = |k: &str| values.get(k).cloned();
    Contact {
        email: take("email"),
        first_name: take("firstname"),
        last_name: take("lastname"),
        phone: take("phone").or_else(|| take("mobilephone")),
        title: take("jobtitle"),
        department: take("department"),
        country: take("country"),
    }
}

/// The company of HubSpot contact properties: `company`, the host of `website` (else `domain`),
/// `industry`, `numemployees` (a range keeps its lower bound), `annualrevenue`.
pub(crate) fn company_of(values: &BTreeMap<String, String>) -> Company {
    let take = |k: &str| values.get(k).cloned();
    Company {
        name: take("company"),
        domain: take("website")
            .or_else(|| take("domain"))
            .as_deref()
            .and_then(host_of),
        industry: take("industry"),
        employee_count: take("numemployees").and_then(|v| parse_count(&v)),
        annual_revenue_usd: take("annualrevenue")
            .and_then(|v| v.replace([',', ' '], "").parse().ok()),
        country: None,
    }
}

/// The submitted fields by lower-case name, trimmed; blank names and values are left out (HubSpot
/// never sends a blank name: one is skipped rather than refusing the lead).
fn field_values(list: &[HubSpotField]) -> BTreeMap<String, String> {
    list.iter()
        .map(|f| (f.name.trim().to_lowercase(), f.value.trim()))
        .filter(|(name, v)| !name.is_empty() && !v.is_empty())
        .map(|(name, v)| (name, v.to_owned()))
        .collect()
}

/// What the visitor did, from the page and the form's name: a demo request, a pricing page view, a
/// contact-sales form, or another form.
fn activity_kind(page_name: Option<&str>, page_uri: Option<&str>, form: &str) -> ActivityKind {
    let hint = format!(
        "{} {} {form}",
        page_name.unwrap_or_default(),
        page_uri.unwrap_or_default(),
    )
    .to_lowercase();
    if hint.contains("demo") {
        ActivityKind::DemoRequest
    } else if hint.contains("pricing") {
        ActivityKind::PricingPageView
    } else if hint.contains("contact") || hint.contains("sales") {
        ActivityKind::ContactSales
    } else {
        ActivityKind::Other
    }
}

/// The fields the lead event has a place for; the others go to its attributes.
const MAPPED: &[&str] = &[
    "email",
    "firstname",
    "lastname",
    "phone",
    "mobilephone",
    "jobtitle",
    "department",
    "country",
    "company",
    "website",
    "domain",
    "industry",
    "numemployees",
    "annualrevenue",
];

/// The HubSpot ids, then every unmapped field: `utm_*` as they are, the others as `form.<name>`.
fn attributes_of(
    values: &BTreeMap<String, String>,
    form: &str,
    portal: String,
    hutk: Option<&str>,
) -> BTreeMap<String, String> {
    let mut attributes = BTreeMap::new();
    attributes.insert("hubspot.form_id".to_owned(), form.to_owned());
    if !portal.is_empty() {
        attributes.insert("hubspot.portal_id".to_owned(), portal);
    }
    if let Some(h) = hutk {
        attributes.insert("hubspot.hutk".to_owned(), h.to_owned());
    }
    for (k, v) in values {
        if MAPPED.contains(&k.as_str()) {
            continue;
        }
        let key = if k.starts_with("utm_") {
            k.clone()
        } else {
            format!("form.{k}")
        };
        attributes.insert(key, v.clone());
    }
    attributes
}

/// `"250"` → 250; HubSpot's range options (`"201-500"`, `"1000+"`) → their lower bound.
fn parse_count(v: &str) -> Option<i32> {
    let digits: String = v
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}
