#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! `leadflow reps` against the local broker: a bad roster publishes nothing (exit 2, line number);
//! the sample roster imports; `set-status` changes one rep live; `list` reads the state back with
//! each rep's open load counted from handoff.packets and handoff.activity; `remove` reassigns the
//! rep's open leads, then writes a tombstone.

use std::process::{Command, Output};

use leadflow_events::{Codec, Event, RepActivity, RepActivityKind, samples};
use leadflow_testkit::{bootstrap, consume_all, create_topic, produce_raw_all, unique_name};

const BIN: &str = env!("CARGO_BIN_EXE_leadflow");
const ROSTER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/roster.csv");

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

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

async fn publish<E: Event>(bs: &str, topic: &str, events: &[E]) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_set_status_and_list_with_load() {
    let bs = bootstrap();
    let (reps, packets, activity) = (
        unique_name("reps"),
        unique_name("packets"),
        unique_name("activity"),
    );
    for t in [&reps, &packets, &activity] {
        create_topic(&bs, t, 1).await;
    }
    let env = vec![
        ("LEADFLOW_TOPICS__REPS".to_owned(), reps.clone()),
        ("LEADFLOW_TOPICS__PACKETS".to_owned(), packets.clone()),
        ("LEADFLOW_TOPICS__ACTIVITY".to_owned(), activity.clone()),
    ];

    // a bad row: nothing published, the line named
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    let text_ok = std::fs::read_to_string(ROSTER).unwrap();
    std::fs::write(
        &bad,
        text_ok.replace(",ae;sales,EMEA,", ",ae;sales,Atlantis,"),
    )
    .unwrap();
    let out = leadflow(&bs, &env, &["reps", "import", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("line 9")
            && err.contains("territory")
            && err.contains("nothing was published"),
        "{err}"
    );
    assert!(
        consume_all(&bs, &reps, 1, std::time::Duration::from_secs(3))
            .await
            .is_empty()
    );

    let out = leadflow(&bs, &env, &["reps", "import", ROSTER]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("published 17 reps"),
        "{}",
        text(&out.stderr)
    );

    let out = leadflow(
        &bs,
        &env,
        &[
            "reps",
            "set-status",
            "ae-emea-1",
            "out-of-office",
            "--until",
            "2026-12-07",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = leadflow(&bs, &env, &["reps", "set-status", "nobody", "busy"]);
    assert_eq!(out.status.code(), Some(2));

    // two packets to ae-emea-2, one of them contacted: open load 1
    let mut p1 = samples::handoff_packet();
    p1.assignee.as_mut().unwrap().rep_id = "ae-emea-2".into();
    let mut p2 = p1.clone();
    p2.idempotency_key = "other".into();
    p2.decision.scored.enriched.lead.lead_id = "lead-0002".into();
    publish(&bs, &packets, &[p1.clone(), p2]).await;
    publish(
        &bs,
        &activity,
        &[RepActivity {
            activity_id: "a1".into(),
            lead_id: "lead-0001".into(),
            packet_id: Some(p1.packet_id.clone()),
            rep_id: "ae-emea-2".into(),
            kind: RepActivityKind::Contacted,
            reason: None,
            reassigned_to: None,
            occurred_at: leadflow_events::Timestamp(p1.created_at.0 + 60_000),
        }],
    )
    .await;

    let out = leadflow(&bs, &env, &["reps", "list", "--json", "--window-days", "0"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 17);
    let by_id = |id: &str| rows.iter().find(|r| r["rep_id"] == id).unwrap().clone();
    assert_eq!(by_id("ae-emea-1")["status"], "OUT_OF_OFFICE");
    assert_eq!(
        by_id("ae-emea-1")["status_until"],
        "2026-12-07T00:00:00.000Z"
    );
    assert_eq!(by_id("ae-emea-2")["open_leads"], 1);
    assert_eq!(by_id("ae-na-1")["open_leads"], 0);

    let out = leadflow(&bs, &env, &["reps", "list"]);
    assert!(
        text(&out.stdout).contains("out-of-office until 2026-12-07"),
        "{}",
        text(&out.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_reassigns_the_open_leads_then_writes_a_tombstone() {
    use leadflow_events::HandoffPacket;
    let bs = bootstrap();
    let (reps, packets, activity) = (
        unique_name("reps"),
        unique_name("packets"),
        unique_name("activity"),
    );
    for t in [&reps, &packets, &activity] {
        create_topic(&bs, t, 1).await;
    }
    let env = vec![
        ("LEADFLOW_TOPICS__REPS".to_owned(), reps.clone()),
        ("LEADFLOW_TOPICS__PACKETS".to_owned(), packets.clone()),
        ("LEADFLOW_TOPICS__ACTIVITY".to_owned(), activity.clone()),
    ];
    let out = leadflow(&bs, &env, &["reps", "import", ROSTER]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // ae-emea-2 holds three leads; lead-0001 was contacted, so two are open
    let held: Vec<_> = (1..=3)
        .map(|n| {
            let mut p = samples::handoff_packet();
            let lead = format!("lead-000{n}");
            p.decision.scored.enriched.lead.lead_id = lead.clone();
            p.idempotency_key = format!("{lead}|evt-000{n}|HOT|HOT_LEAD|0");
            p.packet_id = format!("pkt-{lead}");
            p.assignee.as_mut().unwrap().rep_id = "ae-emea-2".into();
            p
        })
        .collect();
    publish(&bs, &packets, &held).await;
    publish(
        &bs,
        &activity,
        &[RepActivity {
            activity_id: "a1".into(),
            lead_id: "lead-0001".into(),
            packet_id: Some(held[0].packet_id.clone()),
            rep_id: "ae-emea-2".into(),
            kind: RepActivityKind::Contacted,
            reason: None,
            reassigned_to: None,
            occurred_at: leadflow_events::Timestamp(held[0].created_at.0 + 60_000),
        }],
    )
    .await;

    let out = leadflow(
        &bs,
        &env,
        &["reps", "remove", "ae-emea-2", "--window-days", "0"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("ae-emea-2: removed; 2 open lead(s) reassigned"),
        "{}",
        text(&out.stderr)
    );

    // one new packet per open lead, from ae-emea-2 to someone else, one level up
    let codec = Codec::single_object().unwrap();
    let records = consume_all(&bs, &packets, 6, std::time::Duration::from_secs(5)).await;
    assert_eq!(records.len(), 5, "three held, two reassigned");
    let mut moved = Vec::new();
    for r in &records[3..] {
        let p = codec.decode::<HandoffPacket>(&r.payload).await.unwrap();
        assert_eq!(
            r.key.as_deref(),
            Some(p.lead_id().as_bytes()),
            "keyed by lead"
        );
        moved.push(p);
    }
    moved.sort_by(|a, b| a.lead_id().cmp(b.lead_id()));
    assert_eq!(
        moved.iter().map(|p| p.lead_id()).collect::<Vec<_>>(),
        ["lead-0002", "lead-0003"]
    );
    for p in &moved {
        assert_eq!(p.previous_assignee.as_ref().unwrap().rep_id, "ae-emea-2");
        assert_ne!(p.assignee.as_ref().unwrap().rep_id, "ae-emea-2");
        assert_eq!(p.escalation_level, 1);
        assert!(
            p.assignment_reason
                .contains("ae-emea-2 was removed from the roster"),
            "{}",
            p.assignment_reason
        );
    }

    // the last record for ae-emea-2 on reps is a tombstone (INACTIVE before it)
    let on_reps = consume_all(&bs, &reps, 100, std::time::Duration::from_secs(5)).await;
    let last = on_reps
        .iter()
        .rev()
        .find(|r| r.key.as_deref() == Some(b"ae-emea-2".as_slice()))
        .unwrap();
    assert!(last.payload.is_empty(), "a tombstone has no value");
    let out = leadflow(&bs, &env, &["reps", "list", "--json", "--window-days", "0"]);
    assert!(!text(&out.stdout).contains("\"ae-emea-2\""));
    // removed already: a second run says so
    let out = leadflow(&bs, &env, &["reps", "remove", "ae-emea-2"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}
