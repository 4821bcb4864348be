#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! RepActivity and SlaEscalation written with their v1 schemas (before the watchdog's optional
//! fields and enum symbols) still decode into the current types.

use apache_avro::types::{Record, Value};
use leadflow_events::codec::SINGLE_OBJECT_MAGIC;
use leadflow_events::{Codec, EventKind, RepActivity, RepActivityKind, SlaEscalation, SlaKind};

fn framed(fingerprint: &[u8; 8], body: Vec<u8>) -> Vec<u8> {
    let mut bytes = SINGLE_OBJECT_MAGIC.to_vec();
    bytes.extend_from_slice(fingerprint);
    bytes.extend_from_slice(&body);
    bytes
}

#[tokio::test]
async fn v1_rep_activity_resolves_to_current() {
    let c = Codec::single_object().unwrap();
    let v1 = &c.schemas().history(EventKind::RepActivity)[0];
    let mut rec = Record::new(&v1.schema).unwrap();
    rec.put("activity_id", "act-old");
    rec.put("lead_id", "lead-old");
    rec.put("packet_id", Value::Union(0, Box::new(Value::Null)));
    rec.put("rep_id", "rep-1");
    rec.put("kind", Value::Enum(1, "CONTACTED".into()));
    rec.put("reason", Value::Union(0, Box::new(Value::Null)));
    rec.put("reassigned_to", Value::Union(0, Box::new(Value::Null)));
    rec.put("occurred_at", Value::TimestampMillis(1_700_000_000_000));
    let body = apache_avro::to_avro_datum(&v1.schema, rec).unwrap();
    let a: RepActivity = c.decode(&framed(&v1.fingerprint, body)).await.unwrap();
    assert_eq!(a.kind, RepActivityKind::Contacted);
    assert_eq!(a.lead_id, "lead-old");
}

#[tokio::test]
async fn v1_sla_escalation_resolves_to_current_with_empty_new_fields() {
    let c = Codec::single_object().unwrap();
    let v1 = &c.schemas().history(EventKind::SlaEscalation)[0];
    let mut rec = Record::new(&v1.schema).unwrap();
    rec.put("escalation_id", "esc-old");
    rec.put("lead_id", "lead-old");
    rec.put("packet_id", "pkt-old");
    rec.put("sla_kind", Value::Enum(1, "FIRST_CONTACT".into()));
    rec.put("due_at", Value::TimestampMillis(1_700_000_000_000));
    rec.put("escalated_at", Value::TimestampMillis(1_700_000_030_000));
    rec.put("level", 1);
    rec.put(
        "from_rep_id",
        Value::Union(1, Box::new(Value::String("rep-1".into()))),
    );
    rec.put("to", "manager-1");
    rec.put("reason", "missed");
    let body = apache_avro::to_avro_datum(&v1.schema, rec).unwrap();
    let e: SlaEscalation = c.decode(&framed(&v1.fingerprint, body)).await.unwrap();
    assert_eq!(e.sla_kind, SlaKind::FirstContact);
    assert_eq!(e.from_rep_id.as_deref(), Some("rep-1"));
    assert_eq!(e.target_team, None);
    assert_eq!(e.late_by_ms, None);
}
