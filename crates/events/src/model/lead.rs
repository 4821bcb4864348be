//! `schemas/lead_event.avsc`: what upstream systems publish on `leads.raw`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::impl_event;
use crate::time::Timestamp;

/// A lead event as published by an upstream system. Keyed by `lead_id`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeadEvent {
    pub event_id: String,
    pub lead_id: String,
    #[serde(default)]
    pub account_domain: Option<String>,
    pub source_system: String,
    pub source_record_id: String,
    pub occurred_at: Timestamp,
    #[serde(default)]
    pub event_type: LeadEventType,
    #[serde(default)]
    pub contact: Contact,
    #[serde(default)]
    pub company: Company,
    #[serde(default)]
    pub activities: Vec<Activity>,
    #[serde(default)]
    pub chat: Option<ChatSignals>,
    #[serde(default)]
    pub session: Option<VisitorSession>,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

impl_event!(LeadEvent, lead_id = lead_id);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LeadEventType {
    FormSubmission,
    ChatConversation,
    ContentDownload,
    Webinar,
    IntentSurge,
    CrmUpdate,
    ProductSignup,
    #[default]
    Other,
    /// A reply to an automated (nurture) email: a nurtured lead answering its sequence.
    EmailReply,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Company {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub industry: Option<String>,
    #[serde(default)]
    pub employee_count: Option<i32>,
    #[serde(default)]
    pub annual_revenue_usd: Option<i64>,
    #[serde(default)]
    pub country: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    #[serde(default)]
    pub kind: ActivityKind,
    pub occurred_at: Timestamp,
    #[serde(default)]
    pub detail: Option<String>,
}

#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActivityKind {
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
    #[default]
    Other,
    /// The lead replied to an automated (nurture) email.
    EmailReply,
}

impl ActivityKind {
    /// The Avro symbol, e.g. `PRICING_PAGE_VIEW`.
    pub fn symbol(self) -> &'static str {
        match self {
            ActivityKind::PageView => "PAGE_VIEW",
            ActivityKind::PricingPageView => "PRICING_PAGE_VIEW",
            ActivityKind::DemoRequest => "DEMO_REQUEST",
            ActivityKind::ContactSales => "CONTACT_SALES",
            ActivityKind::ContentDownload => "CONTENT_DOWNLOAD",
            ActivityKind::WebinarRegistered => "WEBINAR_REGISTERED",
            ActivityKind::WebinarAttended => "WEBINAR_ATTENDED",
            ActivityKind::EmailOpen => "EMAIL_OPEN",
            ActivityKind::EmailClick => "EMAIL_CLICK",
            ActivityKind::TrialSignup => "TRIAL_SIGNUP",
            ActivityKind::IntentSurge => "INTENT_SURGE",
            ActivityKind::Other => "OTHER",
            ActivityKind::EmailReply => "EMAIL_REPLY",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatSignals {
    #[serde(default)]
    pub human_requested: bool,
    #[serde(default)]
    pub out_of_scope: Option<OutOfScopeCategory>,
    #[serde(default)]
    pub stalled: bool,
    #[serde(default)]
    pub frustrated: bool,
    #[serde(default)]
    pub exchange_count: i32,
    #[serde(default)]
    pub qualification: Qualification,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub initiative: Option<String>,
    /// The chat reached its proposal stage; `None` when the chat does not report it.
    #[serde(default)]
    pub proposal_made: Option<bool>,
    /// Consecutive short, non-committal visitor answers at the end of the conversation.
    #[serde(default)]
    pub short_answer_streak: i32,
    /// The visitor repeated a question after receiving an answer.
    #[serde(default)]
    pub repeated_question: bool,
    /// Topic of the conversation (picks the resource offered to the visitor).
    #[serde(default)]
    pub topic: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutOfScopeCategory {
    ExistingClientSupport,
    CommercialTerms,
    SensitiveInternal,
    LegalCompliance,
    TechnicalScoping,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Qualification {
    #[serde(default)]
    pub problem: DimensionSignal,
    #[serde(default)]
    pub authority: DimensionSignal,
    #[serde(default)]
    pub company: DimensionSignal,
    #[serde(default)]
    pub timing: DimensionSignal,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DimensionSignal {
    #[serde(default)]
    pub confirmed: bool,
    #[serde(default)]
    pub confidence: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VisitorSession {
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub page_url: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub started_at: Option<Timestamp>,
}
