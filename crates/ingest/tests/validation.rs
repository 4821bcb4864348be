//! Request bodies are validated against the schema the OpenAPI document publishes; every invalid
//! field is named by its JSON pointer. No broker needed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use leadflow_ingest::openapi::document;
use leadflow_ingest::service::{event_from_value, lead_to_event};
use leadflow_ingest::validate::{KNOWN_KEYWORDS, validate};
use serde_json::{Value, json};

fn check(name: &str, body: &Value) -> Vec<(String, String)> {
    let doc = document();
    let components = doc["components"]["schemas"].as_object().unwrap().clone();
    let schema = json!({ "$ref": format!("#/components/schemas/{name}") });
    validate(body, &schema, &components)
        .into_iter()
        .map(|e| (e.pointer, e.reason))
        .collect()
}

/// A lead every check accepts (shared with the schema bench).
fn valid_lead() -> Value {
    serde_json::from_str(include_str!("fixtures/valid_lead.json")).expect("the fixture is JSON")
}

#[test]
fn the_document_is_openapi_3_1() {
    let doc = document();
    let version = doc["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1."), "{version}");
    for path in [
        "/v1/leads",
        "/v1/leads:batch",
        "/v1/webhooks/hubspot/{publisher}",
        "/v1/webhooks/hubspot/{publisher}/replies",
        "/v1/webhooks/chat/{publisher}",
    ] {
        assert!(doc["paths"][path]["post"].is_object(), "{path} documented");
    }
}

#[test]
fn every_keyword_of_the_document_is_understood() {
    fn walk(v: &Value, path: &str, unknown: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == "properties" {
                        // property names are not keywords
                        if let Value::Object(props) = x {
                            for (p, s) in props {
                                walk(s, &format!("{path}/properties/{p}"), unknown);
                            }
                        }
                        continue;
                    }
                    if !KNOWN_KEYWORDS.contains(&k.as_str()) {
                        unknown.push(format!("{path}/{k}"));
                    }
                    walk(x, &format!("{path}/{k}"), unknown);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, path, unknown)),
            _ => {}
        }
    }
    let doc = document();
    let mut unknown = Vec::new();
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        walk(schema, name, &mut unknown);
    }
    // `required` and `enum` hold strings; their contents are skipped by the walk only if they are
    // arrays of strings, which they are
    assert!(
        unknown.is_empty(),
        "keywords the validator does not implement: {unknown:?}"
    );
}

#[test]
fn a_valid_lead_passes_and_maps_to_the_contract() {
    assert_eq!(check("LeadIn", &valid_lead()), vec![]);
    let lead = serde_json::from_value(valid_lead()).unwrap();
    let e = lead_to_event(&lead, "website-forms").unwrap();
    assert_eq!(e.source_system, "website-forms");
    assert_eq!(e.occurred_at.to_rfc3339(), "2026-11-30T09:30:00.000Z");
    assert_eq!(e.company.employee_count, Some(120));
    assert!(e.chat.as_ref().unwrap().human_requested);
    assert!(e.chat.as_ref().unwrap().qualification.timing.confirmed);
    assert_eq!(e.account_domain, None);
}

#[test]
fn a_tailed_line_is_accepted_as_is() {
    // the shape `leadflow tail leads.raw` prints (every field present, nulls for absent unions)
    let tailed =
        leadflow_events::json::event_to_json(&leadflow_events::samples::lead_event()).unwrap();
    assert_eq!(check("LeadIn", &tailed), vec![], "{tailed}");
}

#[test]
fn each_invalid_field_is_named() {
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/event_id", json!(""), "must not be empty"),
        ("/event_id", json!(7), "must be string"),
        ("/lead_id", json!("x".repeat(129)), "at most 128"),
        ("/source_record_id", json!(null), "must be string"),
        ("/occurred_at", json!("yesterday"), "RFC 3339"),
        ("/account_domain", json!(["a"]), "must be string or null"),
        ("/event_type", json!("FAX"), "one of"),
        ("/contact/email", json!(42), "must be string"),
        ("/contact/phone", json!("1".repeat(65)), "at most 64"),
        ("/company/employee_count", json!(-1), ">= 0"),
        (
            "/company/employee_count",
            json!(3_000_000_000_i64),
            "32-bit",
        ),
        ("/company/annual_revenue_usd", json!(1.5), "integer"),
        ("/activities/0/kind", json!("DANCE"), "one of"),
        ("/activities/0/occurred_at", json!(17), "must be string"),
        ("/chat/exchange_count", json!("four"), "integer"),
        ("/chat/qualification/timing/confidence", json!(1.5), "<= 1"),
        ("/chat/out_of_scope", json!("WEATHER"), "one of"),
        (
            "/session/started_at",
            json!("2026-13-01T00:00:00Z"),
            "RFC 3339",
        ),
        ("/attributes/utm_source", json!(5), "must be string"),
        ("/favourite_colour", json!("blue"), "not a known field"),
        ("/contact/nickname", json!("Ace"), "not a known field"),
    ];
    for (pointer, bad, reason) in &cases {
        let mut lead = valid_lead();
        let target = lead
            .pointer_mut(pointer.rsplit_once('/').unwrap().0)
            .unwrap_or_else(|| panic!("{pointer}"));
        let key = pointer.rsplit_once('/').unwrap().1;
        match target {
            Value::Object(m) => {
                m.insert(key.to_owned(), bad.clone());
            }
            Value::Array(a) => a[key.parse::<usize>().unwrap()] = bad.clone(),
            _ => panic!("{pointer}"),
        }
        let errors = check("LeadIn", &lead);
        assert!(
            errors
                .iter()
                .any(|(p, r)| p == pointer && r.contains(reason)),
            "{pointer}: want {reason:?}, got {errors:?}"
        );
        assert_eq!(errors.len(), 1, "{pointer}: only that field: {errors:?}");
    }
}

#[test]
fn every_error_is_reported_at_once_with_required_fields() {
    let body = json!({"lead_id": "", "occurred_at": 5, "contact": {"email": 1}});
    let errors = check("LeadIn", &body);
    let pointers: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
    for want in [
        "/event_id",
        "/source_record_id",
        "/lead_id",
        "/occurred_at",
        "/contact/email",
    ] {
        assert!(pointers.contains(&want), "{want} missing in {errors:?}");
    }
}

#[test]
fn batch_pointers_name_the_lead() {
    let mut second = valid_lead();
    second["event_type"] = json!("NOPE");
    let body = json!({"leads": [valid_lead(), second]});
    let errors = check("BatchIn", &body);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "/leads/1/event_type");
    assert_eq!(check("BatchIn", &json!({"leads": []}))[0].0, "/leads");
}

#[test]
fn pointers_escape_slash_and_tilde() {
    let mut lead = valid_lead();
    lead["attributes"] = json!({"a/b~c": 1});
    let errors = check("LeadIn", &lead);
    assert_eq!(errors[0].0, "/attributes/a~1b~0c");
}

#[test]
fn webhook_bodies_are_validated_against_their_schemas() {
    let hubspot: Value =
        serde_json::from_str(include_str!("fixtures/hubspot_form_submission.json")).unwrap();
    assert_eq!(check("HubSpotFormSubmission", &hubspot), vec![]);
    let chat: Value = serde_json::from_str(include_str!("fixtures/chat_transcript.json")).unwrap();
    assert_eq!(check("ChatTranscript", &chat), vec![]);
    let mut bad = chat.clone();
    bad["messages"][2]["role"] = json!("robot");
    let errors = check("ChatTranscript", &bad);
    assert_eq!(errors[0].0, "/messages/2/role", "{errors:?}");
    let mut bad = hubspot.clone();
    bad["submittedAt"] = json!("soon");
    assert_eq!(check("HubSpotFormSubmission", &bad)[0].0, "/submittedAt");
}

#[test]
fn whole_number_floats_are_read_exactly_and_count_as_integers() {
    // schemathesis sent `3782211717940758.0`-like revenues: serde_json's default float parser reads
    // that text as 3782211717940758.5 (off by one ulp), which then failed `type: integer`;
    // the workspace enables serde_json's `float_roundtrip` so the text is read exactly
    let body =
        br#"{"event_id": "evt-1", "lead_id": "lead-1", "occurred_at": "2026-11-30T09:30:00Z",
        "source_record_id": "r-1", "company": {"annual_revenue_usd": 3782211717940758.0}}"#;
    let value = leadflow_ingest::service::parse_json(body).unwrap();
    assert_eq!(
        value["company"]["annual_revenue_usd"],
        json!(3_782_211_717_940_758_i64)
    );
    assert_eq!(check("LeadIn", &value), Vec::<(String, String)>::new());
}

#[test]
fn a_lead_maps_the_same_from_its_json_as_through_lead_in() {
    // the handler maps the validated JSON straight to the event (`event_from_value`); it must give
    // what deserializing a `LeadIn` and `lead_to_event` give, nulls and absent fields included
    let mut full = valid_lead();
    full["source_system"] = json!("website-forms");
    full["contact"]["phone"] = Value::Null;
    full["chat"]["qualification"]["timing"]["confidence"] = json!(1);
    let minimal = json!({"event_id": "e", "lead_id": "l", "source_record_id": "r",
                         "occurred_at": "2026-11-30T09:30:00+02:00"});
    for body in [valid_lead(), full, minimal] {
        let lead = serde_json::from_value(body.clone()).unwrap();
        let through_lead_in = lead_to_event(&lead, "website-forms").unwrap();
        let direct = event_from_value(body, "website-forms").unwrap();
        assert_eq!(
            serde_json::to_value(&direct).unwrap(),
            serde_json::to_value(&through_lead_in).unwrap()
        );
    }
}

#[test]
fn the_batch_envelope_is_what_the_handler_checks_before_each_lead() {
    // `post_batch` checks the envelope (an object with exactly `leads`, 1 or more items) and then
    // each lead against `LeadIn` on its own; a change to `BatchIn` must change that check too
    let doc = document();
    let batch = &doc["components"]["schemas"]["BatchIn"];
    assert_eq!(
        batch,
        &json!({
            "type": "object",
            "description": batch["description"],
            "required": ["leads"],
            "properties": {"leads": {"type": "array", "items": {"$ref": "#/components/schemas/LeadIn"}, "minItems": 1}},
            "additionalProperties": false
        })
    );
}
