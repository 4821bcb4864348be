#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! Hostile lengths never allocate: a 2 GiB length prefix or a billion-item array count spliced into
//! any position of any event is a typed decode error, in both framings; an oversized payload is
//! rejected before it is parsed. (`fuzz/` hunts the same property with random input.)

use leadflow_events::codec::{CONFLUENT_MAGIC, MAX_PAYLOAD_BYTES};
use leadflow_events::{
    AnyEvent, Codec, DecodeError, EventKind, RegistryClient, RegistryConfig, samples,
};
use leadflow_testkit::FakeSchemaRegistry;

fn every_sample() -> Vec<AnyEvent> {
    vec![
        samples::lead_event().into(),
        samples::enriched_lead().into(),
        samples::scored_lead().into(),
        samples::tier_decision().into(),
        samples::handoff_packet().into(),
        samples::delivery_receipt().into(),
        samples::rep_activity().into(),
        samples::sla_escalation().into(),
        samples::sla_outcome().into(),
        samples::lead_outcome().into(),
        samples::model_params().into(),
        samples::exception_record().into(),
        samples::rep_state().into(),
        samples::dedup_key().into(),
        samples::dedup_key_batch().into(),
    ]
}

/// Zig-zag varint.
fn long(v: i64) -> Vec<u8> {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    let mut out = Vec::new();
    loop {
        let b = (z & 0x7F) as u8;
        z >>= 7;
        if z == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

/// `good` with `splice` written over the body at every position after the header.
async fn splice_everywhere(
    codec: &Codec,
    kind: EventKind,
    good: &[u8],
    header: usize,
    splice: &[u8],
) {
    for at in header..good.len() {
        let mut bad = good[..at].to_vec();
        bad.extend_from_slice(splice);
        bad.extend_from_slice(good.get(at + splice.len()..).unwrap_or_default());
        // must return (an error or, rarely, a different valid event) without aborting on allocation
        if let Err(e) = AnyEvent::decode(codec, kind, &bad).await {
            assert!(!e.is_retryable(), "{kind} at {at}: {e}");
        }
    }
}

#[tokio::test]
async fn huge_length_prefixes_are_errors_in_every_event_single_object() {
    let codec = Codec::single_object().unwrap();
    for event in every_sample() {
        let good = event.encode(&codec, "t").await.unwrap();
        for splice in [
            long(2 << 30),
            long(1 << 40),
            long(-(1 << 40)),
            long(100_000_000),
        ] {
            splice_everywhere(&codec, event.kind(), &good, 10, &splice).await;
        }
    }
}

#[tokio::test]
async fn huge_length_prefixes_are_errors_in_every_event_confluent() {
    let registry = FakeSchemaRegistry::start().await;
    let config = RegistryConfig {
        url: registry.url().to_owned(),
        username: None,
        password: None,
        timeout_ms: 2000,
    };
    let client = RegistryClient::new(&config).unwrap();
    let codec = Codec::with_registry(client).unwrap();
    for event in every_sample() {
        let good = event.encode(&codec, "t").await.unwrap();
        assert_eq!(good[0], CONFLUENT_MAGIC);
        for splice in [long(2 << 30), long(100_000_000)] {
            splice_everywhere(&codec, event.kind(), &good, 5, &splice).await;
        }
    }
}

#[tokio::test]
async fn a_2_gib_string_length_is_a_bounds_error_naming_the_string() {
    let codec = Codec::single_object().unwrap();
    let good = codec.encode("t", &samples::lead_event()).await.unwrap();
    // the first field of a lead is its event id (a string): replace its length
    let mut bad = good[..10].to_vec();
    bad.extend(long(2 << 30));
    bad.extend(b"abc");
    let err = codec
        .decode::<leadflow_events::LeadEvent>(&bad)
        .await
        .unwrap_err();
    assert!(matches!(err, DecodeError::Bounds(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("malformed or truncated"), "{text}");
    assert!(
        text.contains("string at body byte 0 needs 2147483648 bytes, 3 remain"),
        "{text}"
    );
}

#[tokio::test]
async fn an_oversized_payload_is_rejected_before_parsing() {
    let codec = Codec::single_object().unwrap();
    let good = codec.encode("t", &samples::lead_event()).await.unwrap();
    let mut big = good.clone();
    big.resize(MAX_PAYLOAD_BYTES + 1, 0);
    assert!(matches!(
        codec.decode::<leadflow_events::LeadEvent>(&big).await,
        Err(DecodeError::TooLarge { .. })
    ));
}
