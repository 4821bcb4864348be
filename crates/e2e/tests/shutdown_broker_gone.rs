#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! SIGTERM while the broker is gone: the stage exits within `shutdown_grace_ms` (issue 11).
//!
//! A real `leadflow-tier` process on a private tansu broker processes a few records, the broker is
//! stopped, then the process gets SIGTERM. librdkafka's final commit and consumer close wait for a
//! broker that never answers; the runtime bounds them and the process must be gone within its grace
//! period, exiting with status 1 (shutdown incomplete: offsets not committed are redelivered).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use leadflow_e2e::Service;
use leadflow_events::{Codec, Event, ScoredLead, samples};
use leadflow_testkit::{PrivateBroker, consume_all, create_topic, produce_raw_all, unique_name};

const GRACE_MS: u64 = 3_000;

fn scored(i: usize) -> ScoredLead {
    let mut s = samples::scored_lead();
    s.enriched.lead.lead_id = format!("lead-sd{i}");
    s.enriched.lead.event_id = format!("evt-sd{i}");
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_the_broker_stopped_exits_within_the_grace_period() {
    let mut broker = tokio::task::spawn_blocking(PrivateBroker::start)
        .await
        .unwrap();
    let bs = broker.bootstrap();
    let input = unique_name("sd-scored");
    let output = unique_name("sd-tiered");
    let exceptions = unique_name("sd-exceptions");
    let params = unique_name("sd-params");
    // tier's side input (the nurture enrolments of rule N1)
    let activity = unique_name("sd-activity");
    for t in [&input, &output, &exceptions, &params, &activity] {
        create_topic(&bs, t, 1).await;
    }
    let env = BTreeMap::from([
        ("LEADFLOW_BOOTSTRAP_SERVERS".to_owned(), bs.clone()),
        ("LEADFLOW_GROUP_ID".to_owned(), unique_name("sd-tier")),
        ("LEADFLOW_TOPICS__SCORED".to_owned(), input.clone()),
        ("LEADFLOW_TOPICS__TIERED".to_owned(), output.clone()),
        ("LEADFLOW_TOPICS__EXCEPTIONS".to_owned(), exceptions.clone()),
        ("LEADFLOW_TOPICS__MODEL_PARAMS".to_owned(), params.clone()),
        ("LEADFLOW_TOPICS__ACTIVITY".to_owned(), activity.clone()),
        ("LEADFLOW_HTTP__LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        (
            "LEADFLOW_SHUTDOWN_GRACE_MS".to_owned(),
            GRACE_MS.to_string(),
        ),
    ]);
    let logs = tempfile::tempdir().unwrap();
    let service = Service::start("leadflow-tier", &env, logs.path());

    // the stage is consuming: its output arrives
    let codec = Codec::single_object().unwrap();
    let mut records = Vec::new();
    for i in 0..5 {
        let s = scored(i);
        records.push((
            Some(s.key().as_bytes().to_vec()),
            codec.encode(&input, &s).await.unwrap(),
        ));
    }
    produce_raw_all(&bs, &input, records).await;
    let out = consume_all(&bs, &output, 5, Duration::from_secs(60)).await;
    assert_eq!(
        out.len(),
        5,
        "the stage processed its input:\n{}",
        service.log()
    );

    // the broker goes away, then the orchestrator stops the pod
    tokio::task::spawn_blocking(move || {
        broker.kill();
        broker
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let status = tokio::task::spawn_blocking(move || {
        let log = service.log();
        // terminate() panics (after a SIGKILL) when the process outlives the wait
        (
            service.terminate(Duration::from_millis(GRACE_MS + 5_000)),
            log,
        )
    })
    .await;
    let elapsed = started.elapsed();
    let log = std::fs::read_to_string(logs.path().join("leadflow-tier.log")).unwrap_or_default();
    let (status, _) = status.unwrap_or_else(|e| {
        panic!("the stage did not exit within {GRACE_MS} ms + 5 s of SIGTERM: {e}\n{log}")
    });
    assert!(
        elapsed <= Duration::from_millis(GRACE_MS + 1_500),
        "exited after {elapsed:?}:\n{log}"
    );
    eprintln!("exited {status} after {elapsed:?}; log:\n{log}");
    assert_eq!(
        status.code(),
        Some(1),
        "an incomplete shutdown (nothing committed at the end) exits 1:\n{log}"
    );
}
