#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::field_reassign_with_default
)]
//! Hostile payloads at the stage level (against the real local broker): a 2 GiB string length and a
//! 100-million-item array count each become an exception record with the
//! decode error as its reason, and the good input around them flows on. (The codec's own tests and
//! `fuzz/` cover the decoder; this is the runtime turning every rejected input into an exception.)

use std::collections::BTreeSet;
use std::time::Duration;

use leadflow_events::{Codec, ErrorKind, ExceptionRecord, LeadEvent, TopicRole, samples};
use leadflow_runtime::{
    Context, NoSettings, Output, RunOptions, RunSummary, ServiceConfig, Stage, StageError,
    run_stage,
};
use leadflow_testkit::{bootstrap, consume_all, create_topic, produce_raw_all, unique_name};
use tokio_util::sync::CancellationToken;

struct Echo;

impl Stage for Echo {
    type Input = LeadEvent;
    const NAME: &'static str = "echo";
    const INPUT: TopicRole = TopicRole::Raw;

    async fn process(&self, input: LeadEvent, _ctx: &Context) -> Result<Vec<Output>, StageError> {
        Ok(vec![Output::to(TopicRole::Enriched, input)])
    }
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_lengths_become_exception_records() {
    let bs = bootstrap();
    let mut cfg = ServiceConfig::<NoSettings>::default();
    cfg.bootstrap_servers = bs.clone();
    cfg.group_id = Some(unique_name("hostile-group"));
    cfg.topics.raw = unique_name("hostile-in");
    cfg.topics.enriched = unique_name("hostile-out");
    cfg.topics.exceptions = unique_name("hostile-exc");
    cfg.http.listen = "127.0.0.1:0".into();
    for t in [
        &cfg.topics.raw,
        &cfg.topics.enriched,
        &cfg.topics.exceptions,
    ] {
        create_topic(&bs, t, 1).await;
    }

    let codec = Codec::single_object().unwrap();
    let good = codec.encode("t", &samples::lead_event()).await.unwrap();
    let header = &good[..10];
    // the lead's first field (event_id, a string) claims 2 GiB
    let mut huge_string = header.to_vec();
    huge_string.extend(long(2 << 30));
    huge_string.extend(b"abc");
    // a LeadEvent body whose first string is fine, then garbage claiming 100 M array items: spliced
    // after the three leading strings the array count check trips somewhere in the record
    let mut huge_count = good.clone();
    let at = good.len() / 2;
    huge_count.truncate(at);
    huge_count.extend(long(100_000_000));
    huge_count.extend([2, 2, 2]);
    let mut lead_after = samples::lead_event();
    lead_after.event_id = "evt-after".into();
    let after = codec.encode("t", &lead_after).await.unwrap();
    let records = vec![
        (Some(b"good".to_vec()), good.clone()),
        (Some(b"huge-string".to_vec()), huge_string),
        (Some(b"huge-count".to_vec()), huge_count),
        (Some(b"after".to_vec()), after),
    ];
    produce_raw_all(&bs, &cfg.topics.raw, records).await;

    let stop = CancellationToken::new();
    let options = RunOptions {
        shutdown: stop.clone(),
        ..RunOptions::default()
    };
    let run_cfg = cfg.clone();
    let handle =
        tokio::spawn(async move { run_stage(&run_cfg, Echo, options).await.expect("runs") });
    let out = consume_all(&bs, &cfg.topics.enriched, 2, Duration::from_secs(60)).await;
    let exc = consume_all(&bs, &cfg.topics.exceptions, 2, Duration::from_secs(60)).await;
    stop.cancel();
    let summary = handle.await.unwrap();

    let mut ids = BTreeSet::new();
    for r in &out {
        ids.insert(
            codec
                .decode::<LeadEvent>(&r.payload)
                .await
                .unwrap()
                .event_id,
        );
    }
    assert_eq!(ids.len(), 2, "both good leads flowed on: {ids:?}");
    assert!(ids.contains("evt-after"));
    let mut reasons = std::collections::BTreeMap::new();
    for r in &exc {
        let e: ExceptionRecord = codec.decode(&r.payload).await.unwrap();
        assert_eq!(e.error_kind, ErrorKind::Decode);
        reasons.insert(e.source_key.clone().unwrap(), e.reason);
    }
    assert!(
        reasons["huge-string"].contains("string at body byte 0 needs 2147483648 bytes"),
        "{reasons:?}"
    );
    assert!(reasons.contains_key("huge-count"), "{reasons:?}");
    assert_eq!(
        summary,
        RunSummary {
            consumed: 4,
            produced: 2,
            exceptions: 2
        }
    );
}
