#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `Codec::decode` reads payloads written with the current schema straight from the bytes into the
//! event type (no `apache_avro::Value` tree). It must agree with apache-avro's `Value` path
//! (`decode_value` + `from_value`) on every payload: the same event for the same bytes, and an error
//! exactly where apache-avro errors — checked for every kind and for every one-byte corruption of the
//! pipeline's events.

use leadflow_events::{Codec, DecodeError, Event, samples};

/// The `Value` path: what `decode` returned before the direct decoder.
async fn via_value<E: Event>(codec: &Codec, bytes: &[u8]) -> Result<E, DecodeError> {
    let value = codec.decode_value(bytes, Some(E::KIND)).await?;
    apache_avro::from_value::<E>(&value).map_err(|e| DecodeError::Shape {
        kind: E::KIND,
        source: Box::new(e),
    })
}

fn json<E: Event>(e: &E) -> serde_json::Value {
    serde_json::to_value(e).unwrap()
}

/// Both paths agree on `bytes`: the same event (compared through JSON: NaN-free samples), or both
/// fail.
async fn agree<E: Event>(codec: &Codec, bytes: &[u8], what: &str) {
    let direct = codec.decode::<E>(bytes).await;
    let value = via_value::<E>(codec, bytes).await;
    match (&direct, &value) {
        (Ok(d), Ok(v)) => assert_eq!(json(d), json(v), "{:?} {what}", E::KIND),
        (Err(d), Err(_)) => assert!(!d.is_retryable(), "{:?} {what}: {d}", E::KIND),
        (Ok(_), Err(e)) => panic!(
            "{:?} {what}: direct decoded, Value path failed: {e}",
            E::KIND
        ),
        (Err(e), Ok(_)) => panic!(
            "{:?} {what}: Value path decoded, direct failed: {e}",
            E::KIND
        ),
    }
}

async fn same_event<E: Event>(codec: &Codec, event: E) {
    let bytes = codec.encode("t", &event).await.unwrap();
    let back: E = codec.decode(&bytes).await.unwrap();
    assert_eq!(json(&back), json(&event), "{:?}", E::KIND);
    agree::<E>(codec, &bytes, "sample").await;
}

/// Every one-byte corruption of the body of `event` (three replacement values per byte).
async fn corruptions_agree<E: Event>(codec: &Codec, event: E) {
    let good = codec.encode("t", &event).await.unwrap();
    for at in 10..good.len() {
        for b in [0x00, 0xFF, good[at] ^ 0x01] {
            let mut bad = good.clone();
            bad[at] = b;
            agree::<E>(codec, &bad, &format!("byte {at} = {b:#04x}")).await;
        }
        // truncated here
        agree::<E>(codec, &good[..at], &format!("cut at {at}")).await;
    }
}

#[tokio::test]
async fn direct_decoding_equals_the_value_path_for_every_kind() {
    let codec = Codec::single_object().unwrap();
    same_event(&codec, samples::lead_event()).await;
    let mut sparse = samples::lead_event();
    sparse.contact.email = None;
    sparse.chat = None;
    sparse.session = None;
    sparse.activities.clear();
    sparse.attributes.clear();
    same_event(&codec, sparse).await;
    same_event(&codec, samples::enriched_lead()).await;
    let mut e = samples::enriched_lead();
    e.firmographics = None;
    e.previous_event_id = Some("evt-0".into());
    same_event(&codec, e).await;
    same_event(&codec, samples::scored_lead()).await;
    same_event(&codec, samples::tier_decision()).await;
    same_event(&codec, samples::handoff_packet()).await;
    same_event(&codec, samples::committee_packet()).await;
    same_event(&codec, samples::delivery_receipt()).await;
    same_event(&codec, samples::rep_activity()).await;
    same_event(&codec, samples::sla_escalation()).await;
    same_event(&codec, samples::sla_outcome()).await;
    same_event(&codec, samples::lead_outcome()).await;
    same_event(&codec, samples::model_params()).await;
    same_event(&codec, samples::exception_record()).await;
    same_event(&codec, samples::rep_state()).await;
    same_event(&codec, samples::dedup_key()).await;
    same_event(&codec, samples::dedup_key_batch()).await;
}

#[tokio::test]
async fn direct_decoding_rejects_exactly_what_the_value_path_rejects() {
    let codec = Codec::single_object().unwrap();
    corruptions_agree(&codec, samples::lead_event()).await;
    corruptions_agree(&codec, samples::scored_lead()).await;
    corruptions_agree(&codec, samples::model_params()).await;
    corruptions_agree(&codec, samples::exception_record()).await;
    corruptions_agree(&codec, samples::dedup_key()).await;
    corruptions_agree(&codec, samples::dedup_key_batch()).await;
}
