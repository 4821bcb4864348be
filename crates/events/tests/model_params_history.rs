#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! ModelParams and LeadOutcome written with their v1 schemas (before recalibration's status, training
//! window and metrics, and before the ACCEPTED / REJECTED outcome stages) still decode.

use apache_avro::types::{Record, Value};
use leadflow_events::codec::SINGLE_OBJECT_MAGIC;
use leadflow_events::{Codec, EventKind, LeadOutcome, ModelParams, OutcomeStage};

fn framed(fingerprint: &[u8; 8], body: Vec<u8>) -> Vec<u8> {
    let mut bytes = SINGLE_OBJECT_MAGIC.to_vec();
    bytes.extend_from_slice(fingerprint);
    bytes.extend_from_slice(&body);
    bytes
}

#[tokio::test]
async fn v1_model_params_resolve_with_empty_recalibration_fields() {
    let c = Codec::single_object().unwrap();
    let v1 = c
        .schemas()
        .history(EventKind::ModelParams)
        .first()
        .expect("a v1 model params schema")
        .clone();
    let mut rec = Record::new(&v1.schema).unwrap();
    rec.put("model", "lead-priority");
    rec.put("version", "default-1");
    rec.put("parent_version", Value::Union(0, Box::new(Value::Null)));
    rec.put("created_at", Value::TimestampMillis(1_700_000_000_000));
    rec.put("description", "hand-set");
    rec.put(
        "weights",
        Value::Map([("seniority.vp".to_owned(), Value::Double(12.0))].into()),
    );
    rec.put("intent_half_life_days", 14.0);
    rec.put("fit_max", 40.0);
    rec.put("intent_max", 40.0);
    rec.put("qualification_max", 30.0);
    let body = apache_avro::to_avro_datum(&v1.schema, rec).unwrap();
    let p: ModelParams = c.decode(&framed(&v1.fingerprint, body)).await.unwrap();
    assert_eq!(p.version, "default-1");
    assert_eq!(p.weights["seniority.vp"], 12.0);
    assert_eq!(p.status, "");
    assert_eq!(p.training_from, None);
    assert!(p.metrics.is_empty());
}

#[tokio::test]
async fn v1_outcome_resolves_and_new_stages_round_trip() {
    let c = Codec::single_object().unwrap();
    let v1 = c
        .schemas()
        .history(EventKind::LeadOutcome)
        .first()
        .expect("a v1 outcome schema")
        .clone();
    let mut rec = Record::new(&v1.schema).unwrap();
    rec.put("outcome_id", "o-1");
    rec.put("lead_id", "lead-1");
    rec.put("account_key", Value::Union(0, Box::new(Value::Null)));
    rec.put("stage", Value::Enum(2, "CLOSED_WON".into()));
    rec.put("amount", Value::Union(1, Box::new(Value::Double(5.0))));
    rec.put("currency", Value::Union(0, Box::new(Value::Null)));
    rec.put("reason", Value::Union(0, Box::new(Value::Null)));
    rec.put("model_version", Value::Union(0, Box::new(Value::Null)));
    rec.put("occurred_at", Value::TimestampMillis(1_700_000_000_000));
    let body = apache_avro::to_avro_datum(&v1.schema, rec).unwrap();
    let o: LeadOutcome = c.decode(&framed(&v1.fingerprint, body)).await.unwrap();
    assert_eq!(o.stage, OutcomeStage::ClosedWon);

    let mut rejected = leadflow_events::samples::lead_outcome();
    rejected.stage = OutcomeStage::Rejected;
    rejected.reason = Some("no budget".into());
    let bytes = c.encode("leads.outcomes", &rejected).await.unwrap();
    let back: LeadOutcome = c.decode(&bytes).await.unwrap();
    assert_eq!(back, rejected);
}
