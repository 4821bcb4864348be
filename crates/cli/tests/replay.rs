#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! `leadflow replay` against the local broker: `--dry-run` lists the range and sends nothing; a replay
//! re-produces exactly the range, byte for byte with the same keys (so packets keep their ids and
//! idempotency keys and notify delivers nothing twice).

use std::process::{Command, Output};
use std::time::Duration;

use leadflow_events::{Codec, Event, HandoffPacket, samples};
use leadflow_testkit::{bootstrap, consume_all, create_topic, produce_raw_all, unique_name};

const BIN: &str = env!("CARGO_BIN_EXE_leadflow");

fn leadflow(bs: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars() {
        if key.starts_with("LEADFLOW_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("LEADFLOW_BOOTSTRAP_SERVERS", bs);
    cmd.args(args).output().expect("leadflow runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_lists_and_replay_reproduces_the_range_unchanged() {
    let bs = bootstrap();
    let topic = unique_name("replay-packets");
    create_topic(&bs, &topic, 1).await;
    let codec = Codec::single_object().unwrap();
    let mut records = Vec::new();
    for i in 0..5 {
        let mut p: HandoffPacket = samples::handoff_packet();
        p.packet_id = format!("pkt-{i}");
        records.push((
            Some(p.key().as_bytes().to_vec()),
            codec.encode(&topic, &p).await.unwrap(),
        ));
    }
    produce_raw_all(&bs, &topic, records).await;

    let out = leadflow(
        &bs,
        &[
            "replay",
            &topic,
            "--from-offset",
            "1",
            "--to-offset",
            "3",
            "--dry-run",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(listed.lines().count(), 3, "{listed}");
    assert!(listed.lines().next().unwrap().contains("\t1\t"), "{listed}");
    assert_eq!(
        consume_all(&bs, &topic, 6, Duration::from_secs(3))
            .await
            .len(),
        5,
        "dry run sends nothing"
    );

    let out = leadflow(
        &bs,
        &["replay", &topic, "--from-offset", "1", "--to-offset", "3"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = consume_all(&bs, &topic, 9, Duration::from_secs(5)).await;
    assert_eq!(all.len(), 8);
    for (orig, replayed) in all[1..4].iter().zip(&all[5..8]) {
        assert_eq!(orig.key, replayed.key);
        assert_eq!(
            orig.payload, replayed.payload,
            "same bytes: same packet id and idempotency key"
        );
    }
}
