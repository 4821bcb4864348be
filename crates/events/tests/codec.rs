#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! The contract and the codecs: every event round-trips through its schema in both framings, old
//! writer schemas resolve to the current types, and malformed payloads are typed errors.

use apache_avro::types::{Record, Value};
use leadflow_events::AnyEvent;
use leadflow_events::codec::{CONFLUENT_MAGIC, SINGLE_OBJECT_MAGIC};
use leadflow_events::json::event_to_json;
use leadflow_events::schema::SchemaEntry;
use leadflow_events::{
    Codec, DecodeError, Event, EventKind, LeadEvent, RegistryClient, RegistryConfig, samples,
};
use leadflow_testkit::FakeSchemaRegistry;

fn codec() -> Codec {
    Codec::single_object().expect("embedded schemas load")
}

async fn roundtrip<E: Event + PartialEq + std::fmt::Debug>(codec: &Codec, event: E) {
    let bytes = codec.encode("t", &event).await.expect("encodes");
    let back: E = codec.decode(&bytes).await.expect("decodes");
    assert_eq!(back, event, "{} round trip", E::KIND);
}

#[tokio::test]
async fn every_event_round_trips_single_object() {
    let c = codec();
    roundtrip(&c, samples::lead_event()).await;
    roundtrip(&c, samples::enriched_lead()).await;
    roundtrip(&c, samples::scored_lead()).await;
    roundtrip(&c, samples::tier_decision()).await;
    roundtrip(&c, samples::handoff_packet()).await;
    roundtrip(&c, samples::committee_packet()).await;
    roundtrip(&c, samples::delivery_receipt()).await;
    roundtrip(&c, samples::rep_activity()).await;
    roundtrip(&c, samples::sla_escalation()).await;
    roundtrip(&c, samples::sla_outcome()).await;
    roundtrip(&c, samples::lead_outcome()).await;
    roundtrip(&c, samples::model_params()).await;
    roundtrip(&c, samples::exception_state()).await;
    roundtrip(&c, samples::exception_record()).await;
    roundtrip(&c, samples::rep_state()).await;
    roundtrip(&c, samples::dedup_key()).await;
    roundtrip(&c, samples::dedup_key_batch()).await;
    let mut no_email = samples::dedup_key();
    no_email.email_hash = None;
    no_email.previous_event_id = None;
    roundtrip(&c, no_email).await;
}

#[tokio::test]
async fn single_object_header_is_magic_plus_fingerprint() {
    let c = codec();
    let bytes = c
        .encode("t", &samples::lead_event())
        .await
        .expect("encodes");
    assert_eq!(&bytes[..2], &SINGLE_OBJECT_MAGIC);
    let fp = c.schemas().current(EventKind::LeadEvent).fingerprint;
    assert_eq!(&bytes[2..10], &fp);
}

#[tokio::test]
async fn minimal_lead_json_uses_defaults() {
    let json = r#"{"event_id":"e","lead_id":"l","source_system":"hubspot","source_record_id":"r",
                   "occurred_at":"2026-11-20T10:00:00Z"}"#;
    let lead: LeadEvent = serde_json::from_str(json).expect("parses");
    roundtrip(&codec(), lead).await;
}

#[tokio::test]
async fn json_view_round_trips_through_any_event() {
    let lead = samples::lead_event();
    let json = event_to_json(&lead).expect("renders");
    assert_eq!(json["occurred_at"], "2026-11-20T09:30:00.000Z");
    assert_eq!(json["event_type"], "CHAT_CONVERSATION");
    let back = AnyEvent::from_json(EventKind::LeadEvent, &json.to_string()).expect("parses back");
    assert_eq!(back, AnyEvent::LeadEvent(lead));
}

#[tokio::test]
async fn missing_field_error_names_the_field() {
    let err = AnyEvent::from_json(EventKind::LeadEvent, r#"{"event_id":"e"}"#)
        .expect_err("lead_id is required");
    assert!(err.to_string().contains("missing field `lead_id`"), "{err}");
}

/// An event written with the v1 schema (no account_domain, event_type, session, attributes) decodes
/// into today's `LeadEvent` with the new fields at their defaults.
#[tokio::test]
async fn old_writer_schema_resolves_to_current_type() {
    let c = codec();
    let v1 = history(&c, EventKind::LeadEvent, "Version 1 ");
    let v1 = &v1;

    let mut contact = Record::new(record_field(&v1.schema, "contact")).expect("contact record");
    contact.put(
        "email",
        Value::Union(1, Box::new(Value::String("old@acme.com".into()))),
    );
    for f in [
        "first_name",
        "last_name",
        "phone",
        "title",
        "department",
        "country",
    ] {
        contact.put(f, Value::Union(0, Box::new(Value::Null)));
    }
    let mut company = Record::new(record_field(&v1.schema, "company")).expect("company record");
    for f in [
        "name",
        "domain",
        "industry",
        "employee_count",
        "annual_revenue_usd",
        "country",
    ] {
        company.put(f, Value::Union(0, Box::new(Value::Null)));
    }
    let mut rec = Record::new(&v1.schema).expect("v1 record");
    rec.put("event_id", "evt-old");
    rec.put("lead_id", "lead-old");
    rec.put("source_system", "legacy_form");
    rec.put("source_record_id", "f-1");
    rec.put("occurred_at", Value::TimestampMillis(1_700_000_000_000));
    rec.put("contact", contact);
    rec.put("company", company);
    rec.put("activities", Value::Array(vec![]));
    rec.put("chat", Value::Union(0, Box::new(Value::Null)));
    let body = apache_avro::to_avro_datum(&v1.schema, rec).expect("v1 encodes");

    let mut bytes = SINGLE_OBJECT_MAGIC.to_vec();
    bytes.extend_from_slice(&v1.fingerprint);
    bytes.extend_from_slice(&body);

    let lead: LeadEvent = c.decode(&bytes).await.expect("v1 resolves to current");
    assert_eq!(lead.event_id, "evt-old");
    assert_eq!(lead.contact.email.as_deref(), Some("old@acme.com"));
    assert_eq!(lead.account_domain, None);
    assert_eq!(lead.event_type, leadflow_events::LeadEventType::Other);
    assert!(lead.attributes.is_empty());
    assert!(lead.session.is_none());
}

/// The historical writer schema of `kind` whose top-level doc starts with `doc_prefix`.
fn history(c: &Codec, kind: EventKind, doc_prefix: &str) -> std::sync::Arc<SchemaEntry> {
    let found: Vec<_> = c
        .schemas()
        .history(kind)
        .into_iter()
        .filter(|e| {
            serde_json::from_str::<serde_json::Value>(&e.json)
                .is_ok_and(|v| v["doc"].as_str().is_some_and(|d| d.starts_with(doc_prefix)))
        })
        .collect();
    assert_eq!(found.len(), 1, "one {kind} history schema {doc_prefix:?}");
    found.into_iter().next().unwrap()
}

/// `value` without the record fields named in `drop`, at any depth (what an older writer wrote).
fn without_fields(value: Value, drop: &[&str]) -> Value {
    match value {
        Value::Record(fields) => Value::Record(
            fields
                .into_iter()
                .filter(|(name, _)| !drop.contains(&name.as_str()))
                .map(|(name, v)| (name, without_fields(v, drop)))
                .collect(),
        ),
        Value::Union(i, v) => Value::Union(i, Box::new(without_fields(*v, drop))),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| without_fields(v, drop)).collect())
        }
        other => other,
    }
}

/// Encodes `event` as a writer of `old` did: the fields `old` lacks are dropped, the rest resolved
/// to `old`, framed single-object with `old`'s fingerprint.
fn written_with<E: serde::Serialize>(old: &SchemaEntry, event: &E, drop: &[&str]) -> Vec<u8> {
    let value = without_fields(apache_avro::to_value(event).expect("to value"), drop);
    let value = value.resolve(&old.schema).expect("fits the old schema");
    let body = apache_avro::to_avro_datum(&old.schema, value).expect("old encodes");
    let mut bytes = SINGLE_OBJECT_MAGIC.to_vec();
    bytes.extend_from_slice(&old.fingerprint);
    bytes.extend_from_slice(&body);
    bytes
}

const NEW_CHAT_FIELDS: [&str; 4] = [
    "proposal_made",
    "short_answer_streak",
    "repeated_question",
    "topic",
];

/// An event written with the v2 lead schema (chat signals without proposal_made,
/// short_answer_streak, repeated_question, topic) decodes into today's `LeadEvent` with those at
/// their defaults: no proposal reported, no short answers, no repeat, no topic.
#[tokio::test]
async fn v2_lead_event_resolves_to_current_type() {
    let c = codec();
    let v2 = history(&c, EventKind::LeadEvent, "Version 2 ");
    let lead = samples::lead_event();
    let bytes = written_with(&v2, &lead, &NEW_CHAT_FIELDS);
    let back: LeadEvent = c.decode(&bytes).await.expect("v2 resolves to current");
    let chat = back.chat.as_ref().expect("chat kept");
    assert_eq!(chat.proposal_made, None);
    assert_eq!(chat.short_answer_streak, 0);
    assert!(!chat.repeated_question);
    assert_eq!(chat.topic, None);
    assert_eq!(chat.exchange_count, 5);
    assert_eq!(
        chat.qualification,
        lead.chat.as_ref().unwrap().qualification
    );
    assert_eq!(back.attributes, lead.attributes);
}

/// Records written before this version by enrich, score and tier (embedding the v2 lead event) still
/// decode, so a rolling upgrade loses nothing in flight; the decision gets no recommended resource.
#[tokio::test]
async fn v1_enriched_scored_and_tier_records_resolve_to_current_types() {
    let c = codec();
    let e = history(&c, EventKind::EnrichedLead, "Version 1 ");
    let bytes = written_with(&e, &samples::enriched_lead(), &NEW_CHAT_FIELDS);
    let back: leadflow_events::EnrichedLead = c.decode(&bytes).await.expect("enriched v1");
    assert_eq!(back.lead.lead_id, "lead-0001");

    let s = history(&c, EventKind::ScoredLead, "Version 1 ");
    let bytes = written_with(&s, &samples::scored_lead(), &NEW_CHAT_FIELDS);
    let back: leadflow_events::ScoredLead = c.decode(&bytes).await.expect("scored v1");
    assert_eq!(back.score, 91);

    let t = history(&c, EventKind::TierDecision, "Version 1 ");
    let mut drop = NEW_CHAT_FIELDS.to_vec();
    drop.push("recommended_resource");
    let bytes = written_with(&t, &samples::tier_decision(), &drop);
    let back: leadflow_events::TierDecision = c.decode(&bytes).await.expect("tier v1");
    assert_eq!(back.recommended_resource, None);
    assert_eq!(back.handoff, leadflow_events::HandoffKind::Escalation);
}

/// A packet route wrote before this version (its decision without recommended_resource, its lead
/// without the new chat fields) still decodes.
#[tokio::test]
async fn v2_handoff_packet_resolves_to_current_type() {
    let c = codec();
    let old = history(&c, EventKind::HandoffPacket, "Version 2 ");
    let packet = samples::handoff_packet();
    // only the embedded decision is older (the packet has a topic and a resource of its own)
    let mut value = apache_avro::to_value(&packet).expect("to value");
    let mut drop = NEW_CHAT_FIELDS.to_vec();
    drop.push("recommended_resource");
    if let Value::Record(fields) = &mut value {
        for (name, v) in fields.iter_mut() {
            if name == "decision" {
                *v = without_fields(v.clone(), &drop);
            }
        }
    }
    let value = value
        .resolve(&old.schema)
        .expect("fits the v2 packet schema");
    let body = apache_avro::to_avro_datum(&old.schema, value).expect("v2 encodes");
    let mut bytes = SINGLE_OBJECT_MAGIC.to_vec();
    bytes.extend_from_slice(&old.fingerprint);
    bytes.extend_from_slice(&body);
    let back: leadflow_events::HandoffPacket = c.decode(&bytes).await.expect("v2 packet resolves");
    assert_eq!(back.packet_id, packet.packet_id);
    assert_eq!(back.decision.recommended_resource, None);
    assert_eq!(back.recommended_resource, packet.recommended_resource);
}

/// A packet route wrote before the committee field still decodes (no committee), and a reader still
/// on version 4 reads a packet with a committee, skipping it: a rolling upgrade in either order.
#[tokio::test]
async fn v4_handoff_packet_and_the_committee_field_resolve_both_ways() {
    let c = codec();
    let v4 = history(&c, EventKind::HandoffPacket, "Version 4 ");
    let packet = samples::handoff_packet();
    let bytes = written_with(&v4, &packet, &["committee"]);
    let back: leadflow_events::HandoffPacket = c.decode(&bytes).await.expect("v4 resolves");
    assert_eq!(
        back, packet,
        "a v4 packet is today's packet without a committee"
    );

    let current = c.schemas().current(EventKind::HandoffPacket);
    let with = samples::committee_packet();
    let value = apache_avro::to_value(&with)
        .unwrap()
        .resolve(&current.schema)
        .unwrap();
    let body = apache_avro::to_avro_datum(&current.schema, value).unwrap();
    let read = apache_avro::from_avro_datum(&current.schema, &mut &body[..], Some(&v4.schema))
        .expect("a v4 reader resolves a v5 packet");
    let Value::Record(fields) = read else {
        panic!("not a record")
    };
    assert!(fields.iter().all(|(n, _)| n != "committee"));
    assert!(fields.iter().any(|(n, _)| n == "withdraws"));
}

/// A reader still on the v1 decision schema reads the new SOFT_ESCALATION / WARM_CONVERSATION
/// symbols as the enums' default, NONE (Avro enum defaults), instead of failing.
#[test]
fn new_symbols_read_as_none_by_an_old_reader() {
    let c = codec();
    let old = history(&c, EventKind::TierDecision, "Version 1 ");
    let current = c.schemas().current(EventKind::TierDecision);
    let mut d = samples::tier_decision();
    d.handoff = leadflow_events::HandoffKind::SoftEscalation;
    d.trigger = leadflow_events::HandoffTrigger::WarmConversation;
    d.recommended_resource = Some(leadflow_events::RecommendedResource {
        topic: "lead-routing".into(),
        title: "Routing guide".into(),
        url: "https://example.com/guide".into(),
    });
    let value = apache_avro::to_value(&d)
        .unwrap()
        .resolve(&current.schema)
        .unwrap();
    let body = apache_avro::to_avro_datum(&current.schema, value).unwrap();
    let read = apache_avro::from_avro_datum(&current.schema, &mut &body[..], Some(&old.schema))
        .expect("an old reader resolves the new writer");
    let Value::Record(fields) = read else {
        panic!("not a record")
    };
    let get = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(get("handoff"), Some(Value::Enum(2, "NONE".into())));
    assert_eq!(get("trigger"), Some(Value::Enum(5, "NONE".into())));
    assert_eq!(get("recommended_resource"), None);
}

fn record_field<'a>(schema: &'a apache_avro::Schema, name: &str) -> &'a apache_avro::Schema {
    match schema {
        apache_avro::Schema::Record(r) => {
            &r.fields
                .iter()
                .find(|f| f.name == name)
                .expect("field")
                .schema
        }
        _ => panic!("not a record"),
    }
}

#[tokio::test]
async fn malformed_payloads_are_typed_errors() {
    let c = codec();
    let good = c
        .encode("t", &samples::lead_event())
        .await
        .expect("encodes");

    assert!(matches!(
        c.decode::<LeadEvent>(&[]).await,
        Err(DecodeError::Empty)
    ));
    assert!(matches!(
        c.decode::<LeadEvent>(&good[..6]).await,
        Err(DecodeError::Truncated { .. })
    ));
    // every truncation of the body is an error, never a panic
    for cut in 10..good.len() {
        let r = c.decode::<LeadEvent>(&good[..cut]).await;
        assert!(r.is_err(), "cut at {cut} decoded");
        assert!(!r.err().is_some_and(|e| e.is_retryable()));
    }
    assert!(matches!(
        c.decode::<LeadEvent>(b"{\"json\":1}").await,
        Err(DecodeError::UnknownFraming(b'{'))
    ));
    let mut unknown = good.clone();
    unknown[2] ^= 0xFF;
    assert!(matches!(
        c.decode::<LeadEvent>(&unknown).await,
        Err(DecodeError::UnknownFingerprint(_))
    ));
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(matches!(
        c.decode::<LeadEvent>(&trailing).await,
        Err(DecodeError::TrailingBytes(1))
    ));
    assert!(matches!(
        c.decode::<LeadEvent>(&[CONFLUENT_MAGIC, 0, 0, 0, 7, 2])
            .await,
        Err(DecodeError::NoRegistry(7))
    ));
    // the right framing but the wrong event type
    let receipt = c
        .encode("t", &samples::delivery_receipt())
        .await
        .expect("encodes");
    assert!(c.decode::<LeadEvent>(&receipt).await.is_err());
}

#[tokio::test]
async fn confluent_framing_registers_once_and_decodes_by_id() {
    let registry = FakeSchemaRegistry::start().await;
    let config = RegistryConfig {
        url: registry.url().to_owned(),
        username: None,
        password: None,
        timeout_ms: 2000,
    };
    let writer =
        Codec::with_registry(RegistryClient::new(&config).expect("client")).expect("codec");
    let a = writer
        .encode("leads.raw", &samples::lead_event())
        .await
        .expect("encodes");
    let b = writer
        .encode("leads.raw", &samples::lead_event())
        .await
        .expect("encodes");
    assert_eq!(a[0], CONFLUENT_MAGIC);
    assert_eq!(&a[1..5], &1u32.to_be_bytes());
    assert_eq!(a, b);
    assert_eq!(
        registry.subjects()["leads.raw-value"],
        vec![1],
        "cached after first"
    );

    // a fresh reader (no cache) fetches the writer schema by id
    let reader =
        Codec::with_registry(RegistryClient::new(&config).expect("client")).expect("codec");
    let lead: LeadEvent = reader.decode(&a).await.expect("decodes");
    assert_eq!(lead, samples::lead_event());
    assert!(matches!(
        reader.decode::<LeadEvent>(&[0, 0, 0, 0, 9, 2]).await,
        Err(DecodeError::UnknownSchemaId(9))
    ));
    // a single-object payload still decodes with a registry-configured codec
    let so = codec()
        .encode("t", &samples::lead_event())
        .await
        .expect("encodes");
    assert_eq!(
        reader.decode::<LeadEvent>(&so).await.expect("decodes"),
        samples::lead_event()
    );
}

#[tokio::test]
async fn registry_outage_is_retryable() {
    let config = RegistryConfig {
        url: "http://127.0.0.1:9".into(),
        username: None,
        password: None,
        timeout_ms: 500,
    };
    let reader =
        Codec::with_registry(RegistryClient::new(&config).expect("client")).expect("codec");
    let err = reader
        .decode::<LeadEvent>(&[0, 0, 0, 0, 1, 2])
        .await
        .expect_err("no registry");
    assert!(err.is_retryable(), "{err}");
}

/// The route contract: a v2 packet and a roster entry survive the JSON view `tail` prints and
/// `produce` reads back, and `reps` carries `RepState`.
#[tokio::test]
async fn route_contract_json_round_trips() {
    let packet = samples::handoff_packet();
    let json = event_to_json(&packet).expect("renders");
    assert_eq!(json["assignee"]["role"], "ae");
    assert_eq!(json["qualification"][0]["dimension"], "problem");
    let back = AnyEvent::from_json(EventKind::HandoffPacket, &json.to_string()).expect("parses");
    assert_eq!(back, AnyEvent::HandoffPacket(packet.clone()));
    assert_eq!(packet.lead_id(), "lead-0001");
    assert_eq!(packet.tier(), "HOT");

    let rep = samples::rep_state();
    let json = event_to_json(&rep).expect("renders");
    assert_eq!(json["status"], "OUT_OF_OFFICE");
    assert_eq!(json["working_hours"]["time_zone"], "Europe/Paris");
    let back = AnyEvent::from_json(EventKind::RepState, &json.to_string()).expect("parses");
    assert_eq!(back.key(), "rep-ae-01");
    assert_eq!(back, AnyEvent::RepState(rep));
    assert_eq!(
        leadflow_events::TopicRole::Reps.event_kind(),
        Some(EventKind::RepState)
    );

    // a hand-written roster line: defaults fill the optional parts
    let minimal = r#"{"rep_id":"r","name":"N","email":"n@x.io","max_open_leads":3,
                      "updated_at":"2026-11-20T09:30:00Z"}"#;
    let AnyEvent::RepState(rep) = AnyEvent::from_json(EventKind::RepState, minimal).expect("ok")
    else {
        panic!("not a rep")
    };
    assert_eq!(rep.status, leadflow_events::RepStatus::Inactive);
    roundtrip(&codec(), rep).await;
}

/// A rep activity written with the v1 schema (four kinds, no enum default) resolves to today's type.
#[tokio::test]
async fn old_rep_activity_resolves_to_current_type() {
    let c = codec();
    let history = c.schemas().history(EventKind::RepActivity);
    assert_eq!(
        history.len(),
        2,
        "two historical activity schemas (v1, and v2 before ENROLLED)"
    );
    for old in &history {
        let mut rec = Record::new(&old.schema).expect("old record");
        rec.put("activity_id", "act-old");
        rec.put("lead_id", "lead-1");
        rec.put("packet_id", Value::Union(0, Box::new(Value::Null)));
        rec.put("rep_id", "rep-1");
        rec.put("kind", Value::Enum(1, "CONTACTED".into()));
        rec.put("reason", Value::Union(0, Box::new(Value::Null)));
        rec.put("reassigned_to", Value::Union(0, Box::new(Value::Null)));
        rec.put("occurred_at", Value::TimestampMillis(1_700_000_000_000));
        let body = apache_avro::to_avro_datum(&old.schema, rec).expect("old encodes");
        let mut bytes = SINGLE_OBJECT_MAGIC.to_vec();
        bytes.extend_from_slice(&old.fingerprint);
        bytes.extend_from_slice(&body);
        let a: leadflow_events::RepActivity = c.decode(&bytes).await.expect("resolves");
        assert_eq!(a.kind, leadflow_events::RepActivityKind::Contacted);
    }
    let mut enrolled = leadflow_events::samples::rep_activity();
    enrolled.kind = leadflow_events::RepActivityKind::Enrolled;
    roundtrip(&c, enrolled).await;
    let mut q = leadflow_events::samples::rep_activity();
    q.kind = leadflow_events::RepActivityKind::Qualified;
    roundtrip(&c, q).await;
}
