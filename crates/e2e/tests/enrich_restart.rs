#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! The enrich stage's deduplication memory survives a restart: it is rebuilt from leads.enriched
//! (a side input), not from local files. A repeated event id produces nothing; the same person
//! again is marked as an update of the earlier event.

use std::collections::BTreeMap;
use std::time::Duration;

use leadflow_e2e::Service;
use leadflow_events::{Codec, EnrichedLead, Event, LeadEvent, Timestamp, samples};
use leadflow_testkit::{bootstrap, consume_all, create_topic, produce_raw_all, unique_name};

fn lead(event_id: &str, minutes_later: i64) -> LeadEvent {
    let mut l = samples::lead_event();
    l.event_id = event_id.into();
    l.occurred_at = Timestamp(samples::T0.0 + minutes_later * 60_000);
    l
}

async fn produce(bs: &str, topic: &str, leads: &[LeadEvent]) {
    let codec = Codec::single_object().unwrap();
    let mut records = Vec::new();
    for l in leads {
        records.push((
            Some(l.key().as_bytes().to_vec()),
            codec.encode(topic, l).await.unwrap(),
        ));
    }
    produce_raw_all(bs, topic, records).await;
}

async fn enriched(bs: &str, topic: &str, expected: usize, timeout: Duration) -> Vec<EnrichedLead> {
    let codec = Codec::single_object().unwrap();
    let mut out = Vec::new();
    for r in consume_all(bs, topic, expected, timeout).await {
        out.push(codec.decode(&r.payload).await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dedup_memory_is_rebuilt_from_kafka_after_a_restart() {
    let bs = bootstrap();
    let raw = unique_name("dedup-raw");
    let out = unique_name("dedup-enriched");
    let exceptions = unique_name("dedup-exceptions");
    for t in [&raw, &out, &exceptions] {
        create_topic(&bs, t, 2).await;
    }
    let env = BTreeMap::from([
        ("LEADFLOW_BOOTSTRAP_SERVERS".to_owned(), bs.clone()),
        ("LEADFLOW_GROUP_ID".to_owned(), unique_name("dedup-enrich")),
        ("LEADFLOW_TOPICS__RAW".to_owned(), raw.clone()),
        ("LEADFLOW_TOPICS__ENRICHED".to_owned(), out.clone()),
        ("LEADFLOW_TOPICS__EXCEPTIONS".to_owned(), exceptions.clone()),
        ("LEADFLOW_HTTP__LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        // The bundled demo dataset, explicitly (production names its own file).
        (
            "LEADFLOW_STAGE__PROVIDER__KIND".to_owned(),
            "demo".to_owned(),
        ),
    ]);
    let logs = tempfile::tempdir().unwrap();

    // first life: one lead
    let first = Service::start("leadflow-enrich", &env, logs.path());
    produce(&bs, &raw, &[lead("evt-first", 0)]).await;
    let seen = enriched(&bs, &out, 1, Duration::from_secs(60)).await;
    assert_eq!(seen.len(), 1, "log:\n{}", first.log());
    assert!(!seen[0].is_update);
    assert!(first.terminate(Duration::from_secs(30)).success());

    // second life, no local state: the same event again, then the same person with a new event
    let second = Service::start("leadflow-enrich", &env, logs.path());
    produce(&bs, &raw, &[lead("evt-first", 0), lead("evt-second", 30)]).await;
    let _ = enriched(&bs, &out, 2, Duration::from_secs(60)).await;
    // ask for one more than expected, briefly: nothing extra may arrive
    let seen = enriched(&bs, &out, 3, Duration::from_secs(5)).await;
    let log = second.log();
    assert!(second.terminate(Duration::from_secs(30)).success());
    assert_eq!(
        seen.len(),
        2,
        "the repeated event id produced nothing; log:\n{log}"
    );
    let update = seen
        .iter()
        .find(|e| e.lead.event_id == "evt-second")
        .expect("second event");
    assert!(update.is_update, "the same person again is an update");
    assert_eq!(update.previous_event_id.as_deref(), Some("evt-first"));
}
