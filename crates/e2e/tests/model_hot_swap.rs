#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! The running score service hot-swaps its model when a new version is published on the compacted
//! model topic, the way `leadflow produce model.params` publishes it: later scores carry the new
//! version; an invalid model is rejected and the current one stays.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use leadflow_e2e::Service;
use leadflow_events::{Codec, EnrichedLead, Event, ModelParams, ScoredLead, Timestamp, samples};
use leadflow_testkit::{bootstrap, consume_all, create_topic, produce_raw_all, unique_name};

async fn produce<E: Event>(bs: &str, topic: &str, events: &[E]) {
    let codec = Codec::single_object().unwrap();
    let mut records = Vec::new();
    for e in events {
        records.push((
            Some(e.key().as_bytes().to_vec()),
            codec.encode(topic, e).await.unwrap(),
        ));
    }
    produce_raw_all(bs, topic, records).await;
}

fn enriched(event_id: &str) -> EnrichedLead {
    let mut e = samples::enriched_lead();
    e.lead.event_id = event_id.into();
    e.lead.lead_id = format!("lead-{event_id}");
    e
}

/// Waits until the scored topic holds `n` records and returns them decoded.
async fn scored(bs: &str, topic: &str, n: usize) -> Vec<ScoredLead> {
    let codec = Codec::single_object().unwrap();
    let mut out = Vec::new();
    for r in consume_all(bs, topic, n, Duration::from_secs(60)).await {
        out.push(codec.decode(&r.payload).await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn score_hot_swaps_the_model_from_the_model_topic() {
    let bs = bootstrap();
    let input = unique_name("swap-enriched");
    let output = unique_name("swap-scored");
    let model_topic = unique_name("swap-model");
    let exceptions = unique_name("swap-exceptions");
    for t in [&input, &output, &exceptions] {
        create_topic(&bs, t, 1).await;
    }
    create_topic(&bs, &model_topic, 1).await;
    let env = BTreeMap::from([
        ("LEADFLOW_BOOTSTRAP_SERVERS".to_owned(), bs.clone()),
        ("LEADFLOW_GROUP_ID".to_owned(), unique_name("swap-score")),
        ("LEADFLOW_TOPICS__ENRICHED".to_owned(), input.clone()),
        ("LEADFLOW_TOPICS__SCORED".to_owned(), output.clone()),
        (
            "LEADFLOW_TOPICS__MODEL_PARAMS".to_owned(),
            model_topic.clone(),
        ),
        ("LEADFLOW_TOPICS__EXCEPTIONS".to_owned(), exceptions.clone()),
        ("LEADFLOW_HTTP__LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
    ]);
    let logs = tempfile::tempdir().unwrap();
    let service = Service::start("leadflow-score", &env, logs.path());

    produce(&bs, &input, &[enriched("before")]).await;
    let first = scored(&bs, &output, 1).await;
    assert_eq!(first[0].model_version, "default-1");

    // an invalid model (negative cap) is rejected; a valid one replaces the default
    let default: ModelParams = serde_json::from_str(leadflow_score::DEFAULT_MODEL_JSON).unwrap();
    let mut invalid = default.clone();
    invalid.version = "broken-1".into();
    invalid.fit_max = -1.0;
    let mut next = default.clone();
    next.version = "2026-11-22.1".into();
    next.parent_version = Some("default-1".into());
    next.created_at = Timestamp::parse_rfc3339("2026-11-22T00:00:00Z").unwrap();
    next.weights.insert("seniority.vp".into(), 0.0);
    produce(&bs, &model_topic, &[invalid, next]).await;

    // the swap is asynchronous: keep sending until a score carries the new version
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut sent = 1;
    let versions = loop {
        sent += 1;
        produce(&bs, &input, &[enriched(&format!("after-{sent}"))]).await;
        let all = scored(&bs, &output, sent).await;
        let versions: Vec<String> = all.iter().map(|s| s.model_version.clone()).collect();
        if versions.last().map(String::as_str) == Some("2026-11-22.1") || Instant::now() > deadline
        {
            break versions;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let log = service.log();
    assert!(service.terminate(Duration::from_secs(30)).success());
    assert_eq!(
        versions.last().map(String::as_str),
        Some("2026-11-22.1"),
        "log:\n{log}"
    );
    assert!(
        !versions.iter().any(|v| v == "broken-1"),
        "an invalid model is never used"
    );
    assert!(
        log.contains("broken-1"),
        "the rejected model is logged:\n{log}"
    );
}
