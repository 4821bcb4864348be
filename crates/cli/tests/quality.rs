#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! `leadflow quality report` against the local broker: the hand-checked fixture of the quality
//! fold (`crates/cli/tests/fixtures/quality/`, figures worked out in `src/quality/tests.rs`),
//! moved to the last days and produced to fresh topics, gives the same figures in the command's
//! JSON and text output (rules in `src/quality/RULES.md`).

use std::process::{Command, Output};

use leadflow_events::{AnyEvent, Codec, EventKind};
use leadflow_testkit::{bootstrap, create_topic, produce_raw_all, unique_name};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_leadflow");
/// The fixture's window start (`src/quality/tests.rs`).
const T: i64 = 1_796_000_000_000;
const DAY: i64 = 86_400_000;

fn leadflow(bs: &str, env: &[(String, String)], args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars() {
        if key.starts_with("LEADFLOW_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("LEADFLOW_BOOTSTRAP_SERVERS", bs);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args).output().expect("leadflow runs")
}

/// Adds `delta` to every `*_at` number of the fixture's time range (so the fixture's window
/// start becomes `T + delta`).
fn shift(v: &mut Value, delta: i64) {
    match v {
        Value::Object(map) => {
            for (k, x) in map.iter_mut() {
                match x.as_i64() {
                    Some(n) if k.ends_with("_at") && (T - 30 * DAY..T + 60 * DAY).contains(&n) => {
                        *x = Value::from(n + delta)
                    }
                    _ => shift(x, delta),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|x| shift(x, delta)),
        _ => {}
    }
}

async fn publish(bs: &str, topic: &str, file: &str, kind: EventKind, delta: i64) {
    let path = format!(
        "{}/tests/fixtures/quality/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let codec = Codec::single_object().unwrap();
    let mut records = Vec::new();
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let mut v: Value = serde_json::from_str(line).unwrap();
        shift(&mut v, delta);
        let event = AnyEvent::from_json(kind, &v.to_string()).unwrap();
        records.push((
            Some(event.key().as_bytes().to_vec()),
            event.encode(&codec, topic).await.unwrap(),
        ));
    }
    produce_raw_all(bs, topic, records).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_of_the_fixture_on_the_broker() {
    let bs = bootstrap();
    let mut env = Vec::new();
    for role in ["packets", "activity", "outcomes", "scored", "sla_outcomes"] {
        let topic = unique_name(&format!("quality-{role}"));
        create_topic(&bs, &topic, 2).await;
        env.push((format!("LEADFLOW_TOPICS__{}", role.to_uppercase()), topic));
    }
    // the fixture's window starts 5 days ago: its handoffs are in a 6-day window
    let now = chrono::Utc::now().timestamp_millis();
    let delta = now - 5 * DAY - T;
    let topic = |i: usize| env[i].1.clone();
    publish(
        &bs,
        &topic(0),
        "packets.jsonl",
        EventKind::HandoffPacket,
        delta,
    )
    .await;
    publish(
        &bs,
        &topic(1),
        "activity.jsonl",
        EventKind::RepActivity,
        delta,
    )
    .await;
    publish(
        &bs,
        &topic(2),
        "outcomes.jsonl",
        EventKind::LeadOutcome,
        delta,
    )
    .await;
    publish(&bs, &topic(3), "scored.jsonl", EventKind::ScoredLead, delta).await;

    let out = leadflow(&bs, &env, &["quality", "report", "--since", "6d", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    // the figures checked by hand in src/quality/tests.rs (Q1–Q9)
    let a = &r["acceptance"];
    assert_eq!(
        (
            &a["handoffs"],
            &a["accepted"],
            &a["rejected"],
            &a["unanswered"]
        ),
        (
            &Value::from(7),
            &Value::from(4),
            &Value::from(2),
            &Value::from(1)
        ),
        "{r}"
    );
    assert_eq!(r["acceptance_by_tier"]["WARM"]["rate"], 0.75);
    assert_eq!(r["acceptance_by_rep"]["r3"]["rate"], 1.0);
    let reasons: Vec<&str> = r["rejection_reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["bad_data", "not_a_fit"]);
    let f = &r["funnel"];
    assert_eq!(
        [&f["mqls"], &f["sqls"], &f["opportunities"], &f["won"]],
        [6, 3, 2, 1].map(Value::from).each_ref()
    );
    assert_eq!(
        r["contact_by_tier"]["WARM"]["buckets"],
        serde_json::json!([0, 1, 1, 0, 0, 2])
    );
    assert_eq!(r["contact_by_tier"]["WARM"]["median_minutes"], 30);
    assert_eq!(r["accuracy"]["labelled"], 20);
    assert_eq!(r["accuracy"]["deciles"][8]["within"], false);
    assert_eq!(r["accuracy"]["deciles"][3]["within"], true);
    assert_eq!(r["accuracy"]["within"], false);

    // the text report: a window that starts after the fixture's handoffs holds none of them
    let out = leadflow(&bs, &env, &["quality", "report", "--since", "1d"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Funnel quality of handoffs"), "{text}");
    assert!(
        !text.contains("WARM"),
        "no handoff in the last day:\n{text}"
    );
    let out = leadflow(&bs, &env, &["quality", "report", "--since", "6d"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("66.7 !"), "{text}");
    assert!(text.contains("OFF by more than 15 %"), "{text}");
}
