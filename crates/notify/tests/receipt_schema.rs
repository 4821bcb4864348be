#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! delivery_receipt v2 is a safe evolution of v1 (a v1 receipt decodes with the new fields at their
//! defaults), v3 of v2 (POSTING; a v2 reader reads it as the enum's default, FAILED), and receipts
//! with the new statuses round-trip.

use apache_avro::types::{Record, Value};
use leadflow_events::codec::SINGLE_OBJECT_MAGIC;
use leadflow_events::{Codec, DeliveryReceipt, DeliveryStatus, EventKind, samples};

#[tokio::test]
async fn a_v1_receipt_decodes_as_v2() {
    let c = Codec::single_object().unwrap();
    let history = c.schemas().history(EventKind::DeliveryReceipt);
    assert_eq!(history.len(), 2, "v1 and v2");
    let v1 = history
        .iter()
        .find(|e| e.json.contains("The result of delivering"))
        .expect("v1 in the history");
    let mut rec = Record::new(&v1.schema).unwrap();
    rec.put("receipt_id", "r-1");
    rec.put("packet_id", "pkt-1");
    rec.put("lead_id", "lead-1");
    rec.put("channel", Value::Enum(0, "SLACK".into()));
    rec.put("status", Value::Enum(0, "DELIVERED".into()));
    rec.put("attempts", 1);
    rec.put(
        "external_id",
        Value::Union(1, Box::new(Value::String("17.1".into()))),
    );
    rec.put("error", Value::Union(0, Box::new(Value::Null)));
    rec.put("delivered_at", Value::TimestampMillis(1_700_000_000_000));
    let body = apache_avro::to_avro_datum(&v1.schema, rec).unwrap();
    let mut bytes = SINGLE_OBJECT_MAGIC.to_vec();
    bytes.extend_from_slice(&v1.fingerprint);
    bytes.extend_from_slice(&body);
    let r: DeliveryReceipt = c.decode(&bytes).await.unwrap();
    assert_eq!(r.status, DeliveryStatus::Delivered);
    assert_eq!(r.idempotency_key, None);
    assert!(r.fallback_for.is_empty());
    assert_eq!(r.latency_ms, None);
}

#[tokio::test]
async fn v2_statuses_round_trip() {
    let c = Codec::single_object().unwrap();
    for status in [
        DeliveryStatus::Retrying,
        DeliveryStatus::FellBack,
        DeliveryStatus::Posting,
    ] {
        let mut r = samples::delivery_receipt();
        r.status = status;
        r.channel = leadflow_events::DeliveryChannel::Email;
        r.fallback_for = vec![leadflow_events::DeliveryChannel::Slack];
        let bytes = c.encode("handoff.deliveries", &r).await.unwrap();
        let back: DeliveryReceipt = c.decode(&bytes).await.unwrap();
        assert_eq!(back, r);
    }
}

#[tokio::test]
async fn a_v2_reader_reads_posting_as_failed() {
    let c = Codec::single_object().unwrap();
    let v2 = c
        .schemas()
        .history(EventKind::DeliveryReceipt)
        .into_iter()
        .find(|e| e.json.contains("adds RETRYING and FELL_BACK"))
        .expect("v2 in the history");
    assert!(!v2.json.contains("POSTING"));
    let current = c.schemas().current(EventKind::DeliveryReceipt);
    let mut r = samples::delivery_receipt();
    r.status = DeliveryStatus::Posting;
    let value = apache_avro::to_value(&r).unwrap();
    let body = apache_avro::to_avro_datum(&current.schema, value.resolve(&current.schema).unwrap())
        .unwrap();
    let read =
        apache_avro::from_avro_datum(&current.schema, &mut body.as_slice(), Some(&v2.schema))
            .unwrap();
    let Value::Record(fields) = read else {
        panic!("a record")
    };
    let status = fields
        .iter()
        .find(|(n, _)| n == "status")
        .map(|(_, v)| v.clone());
    assert_eq!(status, Some(Value::Enum(1, "FAILED".into())));
}
