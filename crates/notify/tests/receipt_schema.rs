#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! delivery_receipt v2 is a safe evolution of v1: a v1 receipt decodes with the new fields at their
//! defaults, and v2 receipts with the new statuses round-trip.

use apache_avro::types::{Record, Value};
use leadflow_events::codec::SINGLE_OBJECT_MAGIC;
use leadflow_events::{Codec, DeliveryReceipt, DeliveryStatus, EventKind, samples};

#[tokio::test]
async fn a_v1_receipt_decodes_as_v2() {
    let c = Codec::single_object().unwrap();
    let v1 = c.schemas().history(EventKind::DeliveryReceipt);
    assert_eq!(v1.len(), 1);
    let v1 = &v1[0];
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
    for status in [DeliveryStatus::Retrying, DeliveryStatus::FellBack] {
        let mut r = samples::delivery_receipt();
        r.status = status;
        r.channel = leadflow_events::DeliveryChannel::Email;
        r.fallback_for = vec![leadflow_events::DeliveryChannel::Slack];
        let bytes = c.encode("handoff.deliveries", &r).await.unwrap();
        let back: DeliveryReceipt = c.decode(&bytes).await.unwrap();
        assert_eq!(back, r);
    }
}
