//! The webhook adapters on example payloads written for the tests (HubSpot's form submission shape,
//! a chat transcript, a HubSpot workflow's contact reply).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use leadflow_events::{ActivityKind, LeadEventType};
use leadflow_ingest::adapters::{chat, hubspot, hubspot_reply};

fn hubspot_example() -> hubspot::HubSpotFormSubmission {
    serde_json::from_str(include_str!("fixtures/hubspot_form_submission.json")).unwrap()
}

fn chat_example() -> chat::ChatTranscript {
    serde_json::from_str(include_str!("fixtures/chat_transcript.json")).unwrap()
}

#[test]
fn a_hubspot_form_submission_becomes_a_form_lead() {
    let e = hubspot::to_lead_event(&hubspot_example(), "website-forms").unwrap();
    assert_eq!(e.event_type, LeadEventType::FormSubmission);
    assert_eq!(e.source_system, "website-forms");
    assert_eq!(e.source_record_id, "7b0e4c2a-1d9f-4e55-a0b3-5f6c7d8e9a01");
    assert_eq!(e.occurred_at.to_rfc3339(), "2025-11-30T09:50:00.000Z");
    assert_eq!(
        e.contact.email.as_deref(),
        Some("dana.reyes@northwind-logistics.com")
    );
    assert_eq!(e.contact.first_name.as_deref(), Some("Dana"));
    assert_eq!(e.contact.last_name.as_deref(), Some("Reyes"));
    assert_eq!(e.contact.title.as_deref(), Some("VP Operations"));
    assert_eq!(e.contact.phone.as_deref(), Some("+1 415 555 0132"));
    assert_eq!(e.contact.country.as_deref(), Some("United States"));
    assert_eq!(e.company.name.as_deref(), Some("Northwind Logistics"));
    assert_eq!(e.company.domain.as_deref(), Some("northwind-logistics.com"));
    assert_eq!(e.account_domain.as_deref(), Some("northwind-logistics.com"));
    assert_eq!(
        e.company.employee_count,
        Some(201),
        "a range keeps its lower bound"
    );
    assert_eq!(e.activities.len(), 1);
    assert_eq!(
        e.activities[0].kind,
        ActivityKind::DemoRequest,
        "the page is a demo form"
    );
    assert_eq!(e.activities[0].detail.as_deref(), Some("Book a demo"));
    let session = e.session.as_ref().unwrap();
    assert_eq!(
        session.page_url.as_deref(),
        Some("https://www.example-saas.com/demo")
    );
    assert_eq!(
        e.attributes.get("utm_source").map(String::as_str),
        Some("linkedin")
    );
    assert_eq!(
        e.attributes.get("form.message").map(String::as_str),
        Some("We route 4k inbound leads a month by hand.")
    );
    assert_eq!(
        e.attributes.get("hubspot.portal_id").map(String::as_str),
        Some("6543210")
    );
    assert!(
        !e.lead_id.contains('@'),
        "no email in the lead id: {}",
        e.lead_id
    );
    // the same submission again (a webhook retry) maps to the same event id; another publisher not
    let again = hubspot::to_lead_event(&hubspot_example(), "website-forms").unwrap();
    assert_eq!(again.event_id, e.event_id);
    let other = hubspot::to_lead_event(&hubspot_example(), "partner-forms").unwrap();
    assert_ne!(other.event_id, e.event_id);
    assert_eq!(
        other.lead_id, e.lead_id,
        "one person, one lead, whoever sent the form"
    );
}

#[test]
fn hubspot_submission_api_shape_values_and_string_millis() {
    let mut json: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/hubspot_form_submission.json")).unwrap();
    let fields = json.as_object_mut().unwrap().remove("fields").unwrap();
    json["values"] = fields;
    json["submittedAt"] = serde_json::json!("1764496200000");
    json.as_object_mut().unwrap().remove("conversionId");
    let sub: hubspot::HubSpotFormSubmission = serde_json::from_value(json).unwrap();
    let e = hubspot::to_lead_event(&sub, "website-forms").unwrap();
    assert_eq!(e.contact.first_name.as_deref(), Some("Dana"));
    assert_eq!(e.occurred_at.millis(), 1_764_496_200_000);
    assert_eq!(
        e.source_record_id,
        "0f5b6c1e-2b7d-4a4f-9c3e-8e1d2a7b9c10:1764496200000"
    );
}

#[test]
fn hubspot_errors_name_their_fields() {
    let mut sub = hubspot_example();
    sub.submitted_at = hubspot::SubmittedAt::Millis(1_764_496_200); // seconds, not milliseconds
    let errors = hubspot::to_lead_event(&sub, "forms").unwrap_err();
    let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
    assert_eq!(pointers, ["/submittedAt"], "{errors:?}");

    // no email and no hutk: still published (enrich flags it), keyed by its event id
    let mut anonymous = hubspot_example();
    anonymous
        .fields
        .as_mut()
        .unwrap()
        .retain(|f| f.name != "email");
    anonymous.context = None;
    let e = hubspot::to_lead_event(&anonymous, "forms").unwrap();
    assert_eq!(e.contact.email, None);
    assert_eq!(e.lead_id, e.event_id);
}

#[test]
fn a_chat_transcript_becomes_a_chat_lead_with_derived_signals() {
    let e = chat::to_lead_event(&chat_example(), "website-chat").unwrap();
    assert_eq!(e.event_type, LeadEventType::ChatConversation);
    assert_eq!(e.source_system, "website-chat");
    assert_eq!(e.source_record_id, "conv-8842");
    assert_eq!(
        e.occurred_at.to_rfc3339(),
        "2026-11-30T09:00:02.000Z",
        "the last message"
    );
    assert_eq!(
        e.contact.email.as_deref(),
        Some("li.wei@contoso-health.com")
    );
    assert_eq!(e.company.domain.as_deref(), Some("contoso-health.com"));
    let c = e.chat.as_ref().unwrap();
    assert_eq!(c.exchange_count, 3, "three visitor messages");
    assert!(c.human_requested, "'talk to someone' asks for a person");
    assert_eq!(c.proposal_made, Some(true));
    assert_eq!(c.topic.as_deref(), Some("lead-routing"));
    assert!(c.qualification.timing.confirmed);
    assert!((c.qualification.timing.confidence - 0.85).abs() < 1e-9);
    assert_eq!(c.short_answer_streak, 0);
    assert!(!c.repeated_question);
    let s = e.session.as_ref().unwrap();
    assert_eq!(s.session_id.as_deref(), Some("conv-8842"));
    assert_eq!(s.timezone.as_deref(), Some("Europe/Berlin"));
    assert_eq!(
        s.started_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-11-30T08:58:10.000Z")
    );
}

#[test]
fn chat_short_answers_and_repeated_questions_are_derived() {
    let mut t = chat_example();
    let at = "2026-11-30T09:01:00Z".to_owned();
    let push = |t: &mut chat::ChatTranscript, role, text: &str| {
        t.messages.push(chat::ChatMessage {
            role,
            text: text.into(),
            sent_at: at.clone(),
        });
    };
    push(&mut t, chat::ChatRole::Visitor, "How much does it cost?");
    push(&mut t, chat::ChatRole::Bot, "It depends on seats.");
    push(&mut t, chat::ChatRole::Visitor, "how much does it cost?");
    push(&mut t, chat::ChatRole::Visitor, "ok");
    push(&mut t, chat::ChatRole::Visitor, "maybe later");
    t.signals = None;
    let e = chat::to_lead_event(&t, "website-chat").unwrap();
    let c = e.chat.unwrap();
    assert!(c.repeated_question);
    assert_eq!(c.short_answer_streak, 2);
    assert_eq!(c.exchange_count, 7);
    assert!(c.human_requested, "still derived from the earlier message");
}

#[test]
fn chat_errors_name_their_fields() {
    let mut t = chat_example();
    t.messages[1].sent_at = "yesterday".into();
    t.visitor.id = " ".into();
    t.visitor.email = None;
    let errors = chat::to_lead_event(&t, "c").unwrap_err();
    let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        ["/messages/1/sent_at", "/visitor/id"],
        "{errors:?}"
    );
}

fn reply_example() -> serde_json::Value {
    serde_json::from_str(include_str!("fixtures/hubspot_contact_reply.json")).unwrap()
}

fn reply_of(v: serde_json::Value) -> Result<leadflow_events::LeadEvent, Vec<String>> {
    let reply: hubspot_reply::HubSpotContactReply = serde_json::from_value(v).unwrap();
    hubspot_reply::to_lead_event(&reply, "hubspot-workflows").map_err(|errors| {
        errors
            .into_iter()
            .map(|e| format!("{} {}", e.pointer, e.reason))
            .collect()
    })
}

#[test]
fn a_hubspot_reply_becomes_an_email_reply_of_the_lead_nurture_enrolled() {
    let e = reply_of(reply_example()).unwrap();
    assert_eq!(e.event_type, LeadEventType::EmailReply);
    assert_eq!(
        e.lead_id, "lead-1796672762-65",
        "the lead id nurture set on the contact"
    );
    assert_eq!(e.source_system, "hubspot-workflows");
    assert_eq!(e.source_record_id, "contact:51/reply:1764496200000");
    assert_eq!(e.occurred_at.0, 1_764_496_200_000);
    assert_eq!(e.activities.len(), 1);
    assert_eq!(e.activities[0].kind, ActivityKind::EmailReply);
    assert_eq!(e.activities[0].occurred_at, e.occurred_at);
    assert_eq!(
        e.contact.email.as_deref(),
        Some("Dana.Reyes@northwind-logistics.com")
    );
    assert_eq!(e.contact.title.as_deref(), Some("VP Operations"));
    assert_eq!(e.account_domain.as_deref(), Some("northwind-logistics.com"));
    assert_eq!(e.attributes["hubspot.reply"], "sales_email");
    assert_eq!(e.attributes["hubspot.contact_id"], "51");
    // HubSpot sends the webhook again: the same event
    assert_eq!(reply_of(reply_example()).unwrap().event_id, e.event_id);
    // a later reply of the same contact is another event
    let mut later = reply_example();
    later["properties"]["hs_sales_email_last_replied"] = "1764499800000".into();
    assert_ne!(reply_of(later).unwrap().event_id, e.event_id);
}

#[test]
fn a_reply_of_a_contact_leadflow_never_enrolled_is_the_lead_of_its_email() {
    // no lead id property (an older contact, or the property not configured), HubSpot's older
    // property shape, a marketing email reply in ISO 8601
    let v = serde_json::json!({
        "vid": 77,
        "properties": {
            "email": {"value": "dana.reyes@northwind-logistics.com"},
            "hs_email_last_reply_date": {"value": "2025-11-30T10:10:00Z"}
        }
    });
    let e = reply_of(v).unwrap();
    // the same person's form through the same publisher, once ingest scoped its lead id (P6)
    let form = hubspot::to_lead_event(&hubspot_example(), "hubspot-workflows").unwrap();
    assert_eq!(
        e.lead_id,
        format!("hubspot-workflows:{}", form.lead_id),
        "one person, one lead: the lead of the same person's form"
    );
    assert_eq!(e.occurred_at.to_rfc3339(), "2025-11-30T10:10:00.000Z");
    assert_eq!(e.attributes["hubspot.reply"], "marketing_email");
    assert_eq!(e.source_record_id, "contact:77/reply:1764497400000");
}

#[test]
fn a_reply_without_email_or_reply_time_names_every_missing_field() {
    let errors = reply_of(serde_json::json!({"objectId": 1, "properties": {"firstname": "Dana"}}))
        .unwrap_err();
    assert_eq!(
        errors,
        vec![
            "/properties/email required: the contact's email (include it in the workflow's webhook)".to_owned(),
            "/properties/hs_sales_email_last_replied required: hs_sales_email_last_replied or hs_email_last_reply_date, the time of the reply".to_owned(),
        ]
    );
    // seconds instead of milliseconds is refused, not dated 1970
    let mut v = reply_example();
    v["properties"]["hs_sales_email_last_replied"] = "1764496200".into();
    assert_eq!(
        reply_of(v).unwrap_err(),
        vec!["/properties/hs_sales_email_last_replied must be epoch milliseconds (13 digits) or an ISO 8601 time".to_owned()]
    );
}
