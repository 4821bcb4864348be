//! A generic chat-transcript webhook → `LeadEvent` (`event_type` CHAT_CONVERSATION).
//!
//! The shape chat widgets and AI qualification bots can be configured to send: the conversation id,
//! the visitor (what they told), the messages (`role` visitor/bot/agent, `text`, `sent_at`) and the
//! signals the bot itself judged. What the transcript shows is derived (exchange count, a request for
//! a human, the short-answer streak, a repeated question) and combined with the bot's own signals.

use std::collections::BTreeMap;

use leadflow_events::{
    ChatSignals, Company, Contact, DimensionSignal, LeadEvent, LeadEventType, Qualification,
    Timestamp, VisitorSession,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{derived_id, field_error, host_of, lead_id_from_email};
use crate::api::{DimensionIn, FieldError, OutOfScopeIn, QualificationIn};

/// A chat transcript.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatTranscript {
    #[schema(min_length = 1, max_length = 128)]
    pub conversation_id: String,
    pub visitor: ChatVisitor,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<String>,
    /// When the transcript was taken (RFC 3339); the last message's time when absent.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<String>,
    #[serde(default)]
    #[schema(max_length = 2048)]
    pub page_url: Option<String>,
    #[serde(default)]
    #[schema(max_length = 64)]
    pub platform: Option<String>,
    #[serde(default)]
    #[schema(max_length = 64)]
    pub timezone: Option<String>,
    #[schema(min_items = 1, max_items = 1000)]
    pub messages: Vec<ChatMessage>,
    #[serde(default)]
    pub signals: Option<ChatBotSignals>,
}

/// What the visitor told.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatVisitor {
    /// The widget's visitor id (the lead when no email is known).
    #[schema(min_length = 1, max_length = 128, pattern = "\\S")]
    pub id: String,
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
    pub company: Option<String>,
    #[serde(default)]
    #[schema(max_length = 253)]
    pub company_domain: Option<String>,
    #[serde(default)]
    #[schema(max_length = 128)]
    pub country: Option<String>,
}

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    Visitor,
    Bot,
    Agent,
}

/// One message.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatMessage {
    pub role: ChatRole,
    #[schema(max_length = 8000)]
    pub text: String,
    #[schema(value_type = String, format = DateTime)]
    pub sent_at: String,
}

/// What the bot judged itself.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatBotSignals {
    #[serde(default)]
    pub human_requested: Option<bool>,
    #[serde(default)]
    pub frustrated: Option<bool>,
    #[serde(default)]
    pub stalled: Option<bool>,
    #[serde(default)]
    pub out_of_scope: Option<OutOfScopeIn>,
    #[serde(default)]
    pub proposal_made: Option<bool>,
    #[serde(default)]
    pub qualification: Option<QualificationIn>,
    #[serde(default)]
    #[schema(max_length = 8000)]
    pub summary: Option<String>,
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub initiative: Option<String>,
    #[serde(default)]
    #[schema(max_length = 256)]
    pub topic: Option<String>,
}

/// Visitor phrases that ask for a person (lower-case substrings).
const HUMAN_PHRASES: &[&str] = &[
    "talk to a human",
    "speak to a human",
    "talk to a person",
    "speak to a person",
    "real person",
    "talk to someone",
    "speak to someone",
    "talk to sales",
    "speak to sales",
    "talk to a rep",
    "call me",
];

/// A visitor answer of at most this many words counts as short and non-committal.
const SHORT_ANSWER_WORDS: usize = 3;

fn parse_time(s: &str, pointer: &str, errors: &mut Vec<FieldError>) -> Option<Timestamp> {
    match Timestamp::parse_rfc3339(s) {
        Ok(t) => Some(t),
        Err(_) => {
            errors.push(field_error(pointer, "must be an RFC 3339 date-time"));
            None
        }
    }
}

fn dim(d: Option<DimensionIn>) -> DimensionSignal {
    let d = d.unwrap_or_default();
    DimensionSignal {
        confirmed: d.confirmed.unwrap_or(false),
        confidence: d.confidence.unwrap_or(0.0).clamp(0.0, 1.0),
    }
}

fn out_of_scope(o: OutOfScopeIn) -> leadflow_events::OutOfScopeCategory {
    use leadflow_events::OutOfScopeCategory as C;
    match o {
        OutOfScopeIn::ExistingClientSupport => C::ExistingClientSupport,
        OutOfScopeIn::CommercialTerms => C::CommercialTerms,
        OutOfScopeIn::SensitiveInternal => C::SensitiveInternal,
        OutOfScopeIn::LegalCompliance => C::LegalCompliance,
        OutOfScopeIn::TechnicalScoping => C::TechnicalScoping,
    }
}

/// Maps a transcript to a lead event of `publisher`.
pub fn to_lead_event(t: &ChatTranscript, publisher: &str) -> Result<LeadEvent, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut times = Vec::with_capacity(t.messages.len());
    for (i, m) in t.messages.iter().enumerate() {
        times.push(parse_time(
            &m.sent_at,
            &format!("/messages/{i}/sent_at"),
            &mut errors,
        ));
    }
    let ended = t
        .ended_at
        .as_deref()
        .and_then(|s| parse_time(s, "/ended_at", &mut errors));
    let started = t
        .started_at
        .as_deref()
        .and_then(|s| parse_time(s, "/started_at", &mut errors));
    let visitor = t.visitor.clone();
    let email = visitor.email.clone().filter(|e| !e.trim().is_empty());
    // blank as the published schema's `\S` means it (ECMA-262 white space)
    let visitor_id = Some(visitor.id.clone()).filter(|v| !crate::ecma_regex::is_blank(v));
    if email.is_none() && visitor_id.is_none() {
        errors.push(field_error("/visitor/id", "must not be blank"));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let last_message = times.iter().flatten().max().copied();
    let Some(occurred_at) = ended.or(last_message) else {
        return Err(vec![field_error(
            "/messages",
            "must have at least one message",
        )]);
    };
    let visitor_texts: Vec<String> = t
        .messages
        .iter()
        .filter(|m| m.role == ChatRole::Visitor)
        .map(|m| m.text.trim().to_lowercase())
        .collect();
    let exchange_count = i32::try_from(visitor_texts.len()).unwrap_or(i32::MAX);
    let asked_for_human = visitor_texts
        .iter()
        .any(|m| HUMAN_PHRASES.iter().any(|p| m.contains(p)));
    let short_answer_streak = visitor_texts
        .iter()
        .rev()
        .take_while(|m| m.split_whitespace().count() <= SHORT_ANSWER_WORDS && !m.ends_with('?'))
        .count();
    let questions: Vec<&String> = visitor_texts.iter().filter(|m| m.ends_with('?')).collect();
    let repeated_question = questions
        .iter()
        .enumerate()
        .any(|(i, q)| questions[..i].contains(q));
    let signals = t.signals.clone().unwrap_or_default();
    let q = signals.qualification.clone().unwrap_or_default();
    let message_count = t.messages.len().to_string();
    let event_id = derived_id(
        "chat-",
        &[
            publisher,
            &t.conversation_id,
            &message_count,
            &occurred_at.millis().to_string(),
        ],
    );
    let lead_id = match (&email, &visitor_id) {
        (Some(e), _) => lead_id_from_email(e),
        (None, Some(v)) => derived_id("lead-", &["chat-visitor", publisher, v]),
        (None, None) => event_id.clone(),
    };
    let domain = visitor.company_domain.as_deref().and_then(host_of);
    let mut attributes = BTreeMap::new();
    attributes.insert("chat.conversation_id".to_owned(), t.conversation_id.clone());
    attributes.insert("chat.message_count".to_owned(), message_count);
    Ok(LeadEvent {
        event_id,
        lead_id,
        account_domain: domain.clone(),
        source_system: publisher.to_owned(),
        source_record_id: t.conversation_id.clone(),
        occurred_at,
        event_type: LeadEventType::ChatConversation,
        contact: Contact {
            email,
            first_name: visitor.first_name,
            last_name: visitor.last_name,
            phone: visitor.phone,
            title: visitor.title,
            department: None,
            country: visitor.country,
        },
        company: Company {
            name: visitor.company,
            domain,
            ..Company::default()
        },
        activities: Vec::new(),
        chat: Some(ChatSignals {
            human_requested: signals.human_requested.unwrap_or(false) || asked_for_human,
            out_of_scope: signals.out_of_scope.map(out_of_scope),
            stalled: signals.stalled.unwrap_or(false),
            frustrated: signals.frustrated.unwrap_or(false),
            exchange_count,
            qualification: Qualification {
                problem: dim(q.problem),
                authority: dim(q.authority),
                company: dim(q.company),
                timing: dim(q.timing),
            },
            summary: signals.summary,
            initiative: signals.initiative,
            proposal_made: signals.proposal_made,
            short_answer_streak: i32::try_from(short_answer_streak).unwrap_or(i32::MAX),
            repeated_question,
            topic: signals.topic,
        }),
        session: Some(VisitorSession {
            session_id: Some(t.conversation_id.clone()),
            page_url: t.page_url.clone(),
            platform: t.platform.clone(),
            timezone: t.timezone.clone(),
            started_at: started.or_else(|| times.iter().flatten().min().copied()),
        }),
        attributes,
    })
}
