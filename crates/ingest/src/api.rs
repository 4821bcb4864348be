//! The request and response types of the HTTP API. The OpenAPI document (`/openapi.json`) is
//! generated from these types, and the validator (`validate.rs`) checks request bodies against that
//! same generated schema, so the document and the handler cannot disagree.
//!
//! `LeadIn` is `schemas/lead_event.avsc` as JSON, the shape `leadflow tail leads.raw` prints, with two
//! differences: `source_system` is optional (ingest stamps the publisher's id into it) and string
//! lengths are capped (`RULES.md` § Limits).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One lead event (`schemas/lead_event.avsc` as JSON; timestamps RFC 3339).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadIn {
    /// Globally unique id of this event; a retried POST with the same event id from the same
    /// publisher is answered with the original answer and writes nothing.
    #[schema(min_length = 1, max_length = 128)]
    pub event_id: String,
    /// Stable id of the lead (person); the Kafka key.
    #[schema(min_length = 1, max_length = 128)]
    pub lead_id: String,
    #[serde(default)]
    #[schema(max_length = 253)]
    pub account_domain: Option<String>,
    /// Must be absent or equal to the caller's publisher id (403 otherwise): ingest stamps it.
    #[serde(default)]
    #[schema(max_length = 64)]
    pub source_system: Option<String>,
    /// Id of the record in the source system.
    #[schema(min_length = 1, max_length = 256)]
    pub source_record_id: String,
    /// When the event happened in the source system (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: String,
    #[serde(default)]
    pub event_type: Option<LeadEventTypeIn>,
    #[serde(default)]
    pub contact: Option<ContactIn>,
    #[serde(default)]
    pub company: Option<CompanyIn>,
    #[serde(default)]
    #[schema(max_items = 200)]
    pub activities: Option<Vec<ActivityIn>>,
    #[serde(default)]
    pub chat: Option<ChatIn>,
    #[serde(default)]
    pub session: Option<SessionIn>,
    /// Free-form source attributes (utm_*, campaign ids, form fields), carried through unchanged.
    #[serde(default)]
    pub attributes: Option<BTreeMap<String, String>>,
}

/// What kind of upstream signal produced the event.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LeadEventTypeIn {
    FormSubmission,
    ChatConversation,
    ContentDownload,
    Webinar,
    IntentSurge,
    CrmUpdate,
    ProductSignup,
    Other,
}

/// The person, as provided by the source.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactIn {
    #[serde(default)]
    #[schema(max_length = 320)]
    pub email: Option<String>,
    #[serde(default)]
    #[schema(max_length = 256)]
    pub first_name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 256)]
    pub last_name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 64)]
    pub phone: Option<String>,
    #[serde(default)]
    #[schema(max_length = 256)]
    pub title: Option<String>,
    #[serde(default)]
    #[schema(max_length = 256)]
    pub department: Option<String>,
    #[serde(default)]
    #[schema(max_length = 128)]
    pub country: Option<String>,
}

/// The account, as provided by the source.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyIn {
    #[serde(default)]
    #[schema(max_length = 256)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 253)]
    pub domain: Option<String>,
    #[serde(default)]
    #[schema(max_length = 256)]
    pub industry: Option<String>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 2147483647)]
    pub employee_count: Option<i32>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 9007199254740991_i64)]
    pub annual_revenue_usd: Option<i64>,
    #[serde(default)]
    #[schema(max_length = 128)]
    pub country: Option<String>,
}

/// One behavioural signal.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityIn {
    #[serde(default)]
    pub kind: Option<ActivityKindIn>,
    /// RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: String,
    #[serde(default)]
    #[schema(max_length = 2048)]
    pub detail: Option<String>,
}

/// Kinds of behavioural signal.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActivityKindIn {
    PageView,
    PricingPageView,
    DemoRequest,
    ContactSales,
    ContentDownload,
    WebinarRegistered,
    WebinarAttended,
    EmailOpen,
    EmailClick,
    TrialSignup,
    IntentSurge,
    Other,
}

/// Signals from a qualification chat.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatIn {
    #[serde(default)]
    pub human_requested: Option<bool>,
    #[serde(default)]
    pub out_of_scope: Option<OutOfScopeIn>,
    #[serde(default)]
    pub stalled: Option<bool>,
    #[serde(default)]
    pub frustrated: Option<bool>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100000)]
    pub exchange_count: Option<i32>,
    #[serde(default)]
    pub qualification: Option<QualificationIn>,
    #[serde(default)]
    #[schema(max_length = 8000)]
    pub summary: Option<String>,
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub initiative: Option<String>,
    #[serde(default)]
    pub proposal_made: Option<bool>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100000)]
    pub short_answer_streak: Option<i32>,
    #[serde(default)]
    pub repeated_question: Option<bool>,
    #[serde(default)]
    #[schema(max_length = 256)]
    pub topic: Option<String>,
}

/// Out-of-scope question categories.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutOfScopeIn {
    ExistingClientSupport,
    CommercialTerms,
    SensitiveInternal,
    LegalCompliance,
    TechnicalScoping,
}

/// The four qualification dimensions.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QualificationIn {
    #[serde(default)]
    pub problem: Option<DimensionIn>,
    #[serde(default)]
    pub authority: Option<DimensionIn>,
    #[serde(default)]
    pub company: Option<DimensionIn>,
    #[serde(default)]
    pub timing: Option<DimensionIn>,
}

/// One qualification dimension.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DimensionIn {
    #[serde(default)]
    pub confirmed: Option<bool>,
    /// 0.0 to 1.0.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1)]
    pub confidence: Option<f64>,
}

/// Visitor session data.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionIn {
    #[serde(default)]
    #[schema(max_length = 256)]
    pub session_id: Option<String>,
    #[serde(default)]
    #[schema(max_length = 2048)]
    pub page_url: Option<String>,
    #[serde(default)]
    #[schema(max_length = 64)]
    pub platform: Option<String>,
    #[serde(default)]
    #[schema(max_length = 64)]
    pub timezone: Option<String>,
    /// RFC 3339.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<String>,
}

/// `POST /v1/leads:batch`: up to `max_batch` leads.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchIn {
    #[schema(min_items = 1)]
    pub leads: Vec<LeadIn>,
}

/// 202: every listed event is on `leads.raw` (the broker acknowledged it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Accepted {
    /// The accepted events' ids, in request order.
    pub event_ids: Vec<String>,
    /// `true` when this is the replayed answer to an earlier identical request (nothing new written).
    pub replayed: bool,
}

/// One invalid field: a JSON pointer into the request body (RFC 6901) and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    pub pointer: String,
    pub reason: String,
}

/// Every error answer (4xx, 5xx).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A short machine-readable code: `invalid`, `too_large`, `unauthenticated`, `forbidden`,
    /// `conflict`, `backpressure`, `broker_unavailable`, `not_found`.
    pub error: String,
    /// What happened, for people.
    pub message: String,
    /// Every invalid field (400 only; empty otherwise).
    #[serde(default)]
    pub fields: Vec<FieldError>,
}

/// 200 of a batch posted with `?per_item=true`: one result per lead, in request order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BatchResults {
    pub items: Vec<ItemResult>,
}

/// The outcome of one lead of a per-item batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ItemResult {
    /// Position in `leads`.
    pub index: u32,
    /// 202 (on the topic), 400 (invalid: see `fields`), 403 (foreign source_system), 409 (event id
    /// reused with other content) or 503 (not acknowledged).
    pub status: u16,
    #[serde(default)]
    pub event_id: Option<String>,
    #[serde(default)]
    pub fields: Vec<FieldError>,
}
