#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! `leadflow model` against the local broker: `list` shows the history with the live version marked,
//! `rollback` makes the live version's parent live again, `promote` makes a refused candidate live.

use std::process::{Command, Output};
use std::time::Duration;

use leadflow_events::{Codec, ModelParams, ModelStatus, Timestamp};
use leadflow_testkit::{bootstrap, consume_all, create_topic, produce_raw_all, unique_name};

const BIN: &str = env!("CARGO_BIN_EXE_leadflow");

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

fn version(v: &str, parent: &str, at: i64, status: &str) -> ModelParams {
    let mut p: ModelParams = serde_json::from_str(leadflow_score::DEFAULT_MODEL_JSON).unwrap();
    p.version = v.into();
    p.parent_version = Some(parent.into());
    p.created_at = Timestamp(at);
    p.status = status.into();
    p.metrics.insert("holdout_auc".into(), 0.8);
    p
}

async fn publish(bs: &str, topic: &str, items: &[(String, ModelParams)]) {
    let codec = Codec::single_object().unwrap();
    let mut records = Vec::new();
    for (key, p) in items {
        records.push((
            Some(key.as_bytes().to_vec()),
            codec.encode(topic, p).await.unwrap(),
        ));
    }
    produce_raw_all(bs, topic, records).await;
}

async fn live(bs: &str, topic: &str, n: usize) -> Vec<ModelParams> {
    let codec = Codec::single_object().unwrap();
    let mut out = Vec::new();
    for r in consume_all(bs, topic, n, Duration::from_secs(20)).await {
        out.push(codec.decode(&r.payload).await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_rollback_and_promote() {
    let bs = bootstrap();
    let (params, history) = (unique_name("model-params"), unique_name("model-history"));
    for t in [&params, &history] {
        create_topic(&bs, t, 1).await;
    }
    let env = vec![
        ("LEADFLOW_TOPICS__MODEL_PARAMS".to_owned(), params.clone()),
        ("LEADFLOW_TOPICS__MODEL_HISTORY".to_owned(), history.clone()),
    ];
    let r1 = version("r1", "default-1", 1_000, ModelStatus::PROMOTED);
    let r2 = version("r2", "r1", 2_000, ModelStatus::PROMOTED);
    let r3 = version("r3", "r2", 3_000, ModelStatus::REJECTED);
    publish(
        &bs,
        &history,
        &[r1.clone(), r2.clone(), r3.clone()].map(|p| (p.history_key(), p)),
    )
    .await;
    publish(&bs, &params, &[(r2.model.clone(), r2.clone())]).await;

    let out = leadflow(&bs, &env, &["model", "list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[1].contains("r3") && lines[1].contains("REJECTED"),
        "{text}"
    );
    assert!(lines[2].starts_with("* r2"), "{text}");

    let out = leadflow(&bs, &env, &["model", "rollback"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let on_topic = live(&bs, &params, 2).await;
    assert_eq!(on_topic.len(), 2);
    assert_eq!(on_topic[1].version, "r1");
    assert_eq!(on_topic[1].status, ModelStatus::ROLLBACK);

    let out = leadflow(&bs, &env, &["model", "promote", "r3"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let on_topic = live(&bs, &params, 3).await;
    assert_eq!(on_topic[2].version, "r3");
    assert_eq!(on_topic[2].status, ModelStatus::PROMOTED);

    let out = leadflow(&bs, &env, &["model", "promote", "nope"]);
    assert_eq!(out.status.code(), Some(2));
}
