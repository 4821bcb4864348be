#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `Codec::encode` serializes events straight to Avro bytes when their schema allows it; the bytes
//! must be exactly those of the `Value` path (`encode_value`), for every kind, with optional fields
//! set and unset, so readers cannot tell the difference.

use leadflow_events::{Codec, Event, EventKind, samples};

async fn same_bytes<E: Event>(codec: &Codec, event: E) {
    let direct = codec.encode("t", &event).await.unwrap();
    let value = apache_avro::to_value(&event).unwrap();
    let via_value = codec.encode_value("t", E::KIND, value).await.unwrap();
    assert_eq!(direct, via_value, "{:?}", E::KIND);
    let back: E = codec.decode(&direct).await.unwrap();
    assert_eq!(
        serde_json::to_value(&back).unwrap(),
        serde_json::to_value(&event).unwrap(),
        "{:?} round trip",
        E::KIND
    );
}

#[tokio::test]
async fn direct_encoding_equals_the_value_path_for_every_kind() {
    let codec = Codec::single_object().unwrap();
    same_bytes(&codec, samples::lead_event()).await;
    let mut sparse = samples::lead_event();
    sparse.contact.email = None;
    sparse.session = None;
    sparse.attributes.clear();
    same_bytes(&codec, sparse).await;
    same_bytes(&codec, samples::enriched_lead()).await;
    let mut e = samples::enriched_lead();
    e.firmographics = None;
    e.previous_event_id = Some("evt-0".into());
    same_bytes(&codec, e).await;
    same_bytes(&codec, samples::scored_lead()).await;
    same_bytes(&codec, samples::tier_decision()).await;
    same_bytes(&codec, samples::handoff_packet()).await;
    same_bytes(&codec, samples::committee_packet()).await;
    same_bytes(&codec, samples::delivery_receipt()).await;
    same_bytes(&codec, samples::rep_activity()).await;
    same_bytes(&codec, samples::sla_escalation()).await;
    same_bytes(&codec, samples::sla_outcome()).await;
    same_bytes(&codec, samples::lead_outcome()).await;
    same_bytes(&codec, samples::model_params()).await;
    same_bytes(&codec, samples::exception_record()).await;
    same_bytes(&codec, samples::dedup_key()).await;
    let mut no_email = samples::dedup_key();
    no_email.email_hash = None;
    no_email.previous_event_id = None;
    same_bytes(&codec, no_email).await;
    same_bytes(&codec, samples::dedup_key_batch()).await;
    // the pipeline's hops take the fast path
    for kind in [
        EventKind::LeadEvent,
        EventKind::EnrichedLead,
        EventKind::ScoredLead,
        EventKind::TierDecision,
        EventKind::DedupKey,
        EventKind::DedupKeyBatch,
    ] {
        assert!(codec.encodes_directly(kind), "{kind:?}");
    }
}
