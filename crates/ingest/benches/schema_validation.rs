//! Ingest's own JSON-Schema subset (`src/validate.rs`) next to the `jsonschema` crate (draft 2020-12,
//! formats checked, ECMA-262 patterns) on the document ingest publishes: first whether the two agree
//! on the cases of `tests/validation.rs` (valid or not, and the JSON pointers named), then the time
//! per validation of each on the same payloads, in one run.
//! `cargo bench -p leadflow-ingest --bench schema_validation`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::hint::black_box;
use std::time::Instant;

use jsonschema::ValidationError;
use jsonschema::error::ValidationErrorKind;
use leadflow_ingest::openapi::document;
use leadflow_ingest::validate::validate;
use serde_json::{Map, Value, json};

/// The two validators of one component schema.
struct Pair {
    own_schema: Value,
    components: Map<String, Value>,
    crate_validator: jsonschema::Validator,
}

impl Pair {
    fn new(doc: &Value, name: &str) -> Self {
        let reference = format!("#/components/schemas/{name}");
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": reference,
            "components": doc["components"],
        });
        let crate_validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        Self {
            own_schema: json!({ "$ref": reference }),
            components: doc["components"]["schemas"].as_object().unwrap().clone(),
            crate_validator,
        }
    }

    fn own(&self, body: &Value) -> BTreeSet<String> {
        validate(body, &self.own_schema, &self.components)
            .into_iter()
            .map(|e| e.pointer)
            .collect()
    }

    fn by_crate(&self, body: &Value) -> BTreeSet<String> {
        self.crate_validator
            .iter_errors(body)
            .map(|e| e.instance_path().to_string())
            .collect()
    }

    /// The crate's errors, each `oneOf` failure replaced by the errors of its most useful
    /// alternative (as `src/validate.rs` picks it) and each unknown or missing property named by its own pointer.
    fn by_crate_descending(&self, body: &Value) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for e in self.crate_validator.iter_errors(body) {
            descend(&e, &mut out);
        }
        out
    }
}

fn descend(e: &ValidationError<'_>, out: &mut BTreeSet<String>) {
    let at = e.instance_path().to_string();
    match e.kind() {
        ValidationErrorKind::OneOfNotValid { context } => {
            // an alternative failing only by the value's own type (the `null` one) says least
            let rank = |alt: &Vec<ValidationError<'static>>| {
                let own_type = alt.iter().all(|s| {
                    s.instance_path().to_string() == at
                        && matches!(s.kind(), ValidationErrorKind::Type { .. })
                });
                u8::from(!own_type)
            };
            let mut best: Option<&Vec<ValidationError<'static>>> = None;
            for alt in context {
                if best.is_none_or(|b| rank(alt) > rank(b)) {
                    best = Some(alt);
                }
            }
            for sub in best.into_iter().flatten() {
                descend(sub, out);
            }
        }
        ValidationErrorKind::Required { property } => {
            let name = property
                .as_str()
                .map_or_else(|| property.to_string(), str::to_owned);
            out.insert(format!(
                "{at}/{}",
                name.replace('~', "~0").replace('/', "~1")
            ));
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            for name in unexpected {
                out.insert(format!(
                    "{at}/{}",
                    name.replace('~', "~0").replace('/', "~1")
                ));
            }
        }
        _ => {
            out.insert(at);
        }
    }
}

/// A lead every check accepts (shared with the tests).
fn valid_lead() -> Value {
    serde_json::from_str(include_str!("../tests/fixtures/valid_lead.json"))
        .expect("the fixture is JSON")
}

fn with(pointer: &str, bad: Value) -> Value {
    let mut lead = valid_lead();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    match lead.pointer_mut(parent).unwrap() {
        Value::Object(m) => {
            m.insert(key.to_owned(), bad);
        }
        Value::Array(a) => a[key.parse::<usize>().unwrap()] = bad,
        _ => panic!("{pointer}"),
    }
    lead
}

/// (name, schema, body) for every case of `tests/validation.rs`.
fn cases() -> Vec<(String, &'static str, Value)> {
    let hubspot: Value = serde_json::from_str(include_str!(
        "../tests/fixtures/hubspot_form_submission.json"
    ))
    .unwrap();
    let chat: Value =
        serde_json::from_str(include_str!("../tests/fixtures/chat_transcript.json")).unwrap();
    let tailed =
        leadflow_events::json::event_to_json(&leadflow_events::samples::lead_event()).unwrap();
    let float = leadflow_ingest::service::parse_json(
        br#"{"event_id": "evt-1", "lead_id": "lead-1", "occurred_at": "2026-11-30T09:30:00Z",
        "source_record_id": "r-1", "company": {"annual_revenue_usd": 3782211717940758.0}}"#,
    )
    .unwrap_or_else(|_| panic!("parse"));
    let mut out: Vec<(String, &'static str, Value)> = vec![
        ("valid lead".into(), "LeadIn", valid_lead()),
        ("tailed line".into(), "LeadIn", tailed),
        ("whole-number float".into(), "LeadIn", float),
        (
            "hubspot fixture".into(),
            "HubSpotFormSubmission",
            hubspot.clone(),
        ),
        ("chat fixture".into(), "ChatTranscript", chat.clone()),
    ];
    let invalid: Vec<(&str, Value)> = vec![
        ("/event_id", json!("")),
        ("/event_id", json!(7)),
        ("/lead_id", json!("x".repeat(129))),
        ("/source_record_id", json!(null)),
        ("/occurred_at", json!("yesterday")),
        ("/account_domain", json!(["a"])),
        ("/event_type", json!("FAX")),
        ("/contact/email", json!(42)),
        ("/contact/phone", json!("1".repeat(65))),
        ("/company/employee_count", json!(-1)),
        ("/company/employee_count", json!(3_000_000_000_i64)),
        ("/company/annual_revenue_usd", json!(1.5)),
        ("/activities/0/kind", json!("DANCE")),
        ("/activities/0/occurred_at", json!(17)),
        ("/chat/exchange_count", json!("four")),
        ("/chat/qualification/timing/confidence", json!(1.5)),
        ("/chat/out_of_scope", json!("WEATHER")),
        ("/session/started_at", json!("2026-13-01T00:00:00Z")),
        ("/attributes/utm_source", json!(5)),
        ("/favourite_colour", json!("blue")),
        ("/contact/nickname", json!("Ace")),
    ];
    for (pointer, bad) in invalid {
        let shown: String = bad.to_string().chars().take(24).collect();
        out.push((format!("{pointer} = {shown}"), "LeadIn", with(pointer, bad)));
    }
    let mut second = valid_lead();
    second["event_type"] = json!("NOPE");
    let mut slash = valid_lead();
    slash["attributes"] = json!({"a/b~c": 1});
    let mut bad_chat = chat;
    bad_chat["messages"][2]["role"] = json!("robot");
    let mut bad_hubspot = hubspot;
    bad_hubspot["submittedAt"] = json!("soon");
    out.extend([
        (
            "every error at once".into(),
            "LeadIn",
            json!({"lead_id": "", "occurred_at": 5, "contact": {"email": 1}}),
        ),
        (
            "batch, second lead bad".into(),
            "BatchIn",
            json!({"leads": [valid_lead(), second]}),
        ),
        ("batch, empty".into(), "BatchIn", json!({"leads": []})),
        ("pointer escapes".into(), "LeadIn", slash),
        ("chat, bad role".into(), "ChatTranscript", bad_chat),
        (
            "hubspot, bad submittedAt".into(),
            "HubSpotFormSubmission",
            bad_hubspot,
        ),
    ]);
    out
}

fn ns_per_call(iterations: u32, mut f: impl FnMut() -> usize) -> f64 {
    for _ in 0..iterations / 10 {
        black_box(f());
    }
    let started = Instant::now();
    for _ in 0..iterations {
        black_box(f());
    }
    started.elapsed().as_nanos() as f64 / f64::from(iterations)
}

fn main() {
    let doc = document();
    let names = [
        "LeadIn",
        "BatchIn",
        "HubSpotFormSubmission",
        "ChatTranscript",
    ];
    let pairs: Vec<(&str, Pair)> = names.iter().map(|n| (*n, Pair::new(&doc, n))).collect();
    let pair = |name: &str| &pairs.iter().find(|(n, _)| *n == name).unwrap().1;

    println!("verdicts (own | jsonschema):");
    let (mut same_verdict, mut same_pointers, mut same_descending, mut total) = (0, 0, 0, 0);
    for (case, schema, body) in cases() {
        let p = pair(schema);
        let (own, other) = (p.own(&body), p.by_crate(&body));
        let descending = p.by_crate_descending(&body);
        if own != descending {
            println!("  {case:<55} descending into oneOf: {descending:?}");
        }
        total += 1;
        same_verdict += usize::from(own.is_empty() == other.is_empty());
        same_pointers += usize::from(own == other);
        same_descending += usize::from(own == descending);
        let mark = if own == other {
            "same"
        } else if own.is_empty() == other.is_empty() {
            "same verdict, other pointers"
        } else {
            "DIFFERENT VERDICT"
        };
        println!("  {case:<55} {mark}: {own:?} | {other:?}");
    }
    println!(
        "{same_verdict}/{total} same verdict, {same_pointers}/{total} same pointers, \
         {same_descending}/{total} same pointers descending into oneOf"
    );

    println!("\nns per validation (all errors collected by both):");
    let bench_cases = [
        ("valid lead", "LeadIn", valid_lead()),
        (
            "invalid lead (5 errors)",
            "LeadIn",
            json!({"lead_id": "", "occurred_at": 5, "contact": {"email": 1}}),
        ),
        (
            "batch of 10 valid leads",
            "BatchIn",
            json!({"leads": vec![valid_lead(); 10]}),
        ),
        (
            "hubspot fixture",
            "HubSpotFormSubmission",
            serde_json::from_str(include_str!(
                "../tests/fixtures/hubspot_form_submission.json"
            ))
            .unwrap(),
        ),
    ];
    let iterations = 20_000;
    for (name, schema, body) in &bench_cases {
        let p = pair(schema);
        let own = ns_per_call(iterations, || {
            validate(body, &p.own_schema, &p.components).len()
        });
        let other = ns_per_call(iterations, || p.crate_validator.iter_errors(body).count());
        let descending = ns_per_call(iterations, || p.by_crate_descending(body).len());
        let other_is_valid =
            ns_per_call(iterations, || usize::from(p.crate_validator.is_valid(body)));
        println!(
            "  {name:<26} own {own:>9.0} ns   jsonschema {other:>9.0} ns ({:.2}x own), \
             descending {descending:>9.0} ns ({:.2}x own), is_valid {other_is_valid:>9.0} ns",
            other / own,
            descending / own
        );
    }
}
