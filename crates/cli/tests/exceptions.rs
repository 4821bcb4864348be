#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! `leadflow exceptions` against the local broker: every action is a state record on
//! `exceptions.state`; a replayed record that fails again re-opens the same id; a retried packet
//! keeps its idempotency key and a second retry waits for the first one's outcome (no duplicates);
//! a corrected replay must keep the lead's identity.

use std::process::{Command, Output};
use std::time::Duration;

use leadflow_events::{
    Codec, ErrorKind, Event, ExceptionRecord, ExceptionState, HandoffPacket, LeadEvent, Timestamp,
    samples,
};
use leadflow_testkit::{bootstrap, consume_all, create_topic, produce_raw, unique_name};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_leadflow");

struct Topics {
    bs: String,
    env: Vec<(String, String)>,
    raw: String,
    packets: String,
    exceptions: String,
    state: String,
}

async fn topics(bs: &str) -> Topics {
    let t = Topics {
        bs: bs.to_owned(),
        env: Vec::new(),
        raw: unique_name("raw"),
        packets: unique_name("packets"),
        exceptions: unique_name("exceptions"),
        state: unique_name("exceptions-state"),
    };
    for name in [&t.raw, &t.packets, &t.exceptions, &t.state] {
        create_topic(bs, name, 1).await;
    }
    let env = vec![
        ("LEADFLOW_TOPICS__RAW".to_owned(), t.raw.clone()),
        ("LEADFLOW_TOPICS__PACKETS".to_owned(), t.packets.clone()),
        (
            "LEADFLOW_TOPICS__EXCEPTIONS".to_owned(),
            t.exceptions.clone(),
        ),
        (
            "LEADFLOW_TOPICS__EXCEPTIONS_STATE".to_owned(),
            t.state.clone(),
        ),
    ];
    Topics { env, ..t }
}

fn leadflow(bs: &str, t: &Topics, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars() {
        if key.starts_with("LEADFLOW_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("LEADFLOW_BOOTSTRAP_SERVERS", bs)
        .env("LEADFLOW_ACTOR", "ana");
    for (k, v) in &t.env {
        cmd.env(k, v);
    }
    cmd.args(args).output().expect("leadflow runs")
}

fn ok(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// Writes the record a stage would write for a failed input at (topic, partition, offset).
async fn raise(
    t: &Topics,
    stage: &str,
    id: String,
    source: (&str, i32, i64),
    kind: ErrorKind,
    lead: &str,
    original: Vec<u8>,
) {
    let now = Timestamp::from(chrono::Utc::now());
    let record = ExceptionRecord {
        exception_id: id,
        stage: stage.into(),
        source_topic: source.0.into(),
        source_partition: source.1,
        source_offset: source.2,
        source_key: Some(lead.into()),
        error_kind: kind,
        reason: "email is not valid".into(),
        owner: "marketing-ops".into(),
        lead_id: Some(lead.into()),
        raised_at: now,
        due_at: Timestamp(now.0 + 86_400_000),
        original,
    };
    let codec = Codec::single_object().unwrap();
    let bytes = codec.encode(&t.exceptions, &record).await.unwrap();
    produce_raw(&t.bs, &t.exceptions, Some(record.key().as_bytes()), &bytes).await;
}

fn list(bs: &str, t: &Topics, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["exceptions", "list", "--json"];
    args.extend_from_slice(extra);
    json_lines(&ok(&leadflow(bs, t, &args)))
}

fn history(bs: &str, t: &Topics, id: &str) -> Vec<String> {
    let shown: Value =
        serde_json::from_str(&ok(&leadflow(bs, t, &["exceptions", "show", id, "--json"])))
            .expect("show --json");
    shown["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|a| a["action"].as_str().unwrap_or("?").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_action_is_recorded_and_a_replayed_failure_reopens_the_same_id() {
    let bs = bootstrap();
    let t = topics(&bs).await;
    let codec = Codec::single_object().unwrap();
    let lead = samples::lead_event();
    let original = codec.encode(&t.raw, &lead).await.unwrap();
    let (p, o) = produce_raw(&bs, &t.raw, Some(lead.lead_id.as_bytes()), &original).await;
    let id = format!("enrich:{}:{p}:{o}", t.raw);
    raise(
        &t,
        "enrich",
        id.clone(),
        (&t.raw, p, o),
        ErrorKind::Validation,
        &lead.lead_id,
        original.clone(),
    )
    .await;

    let open = list(&bs, &t, &[]);
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["exception_id"], id.as_str());
    assert_eq!(open[0]["status"], "open");
    assert_eq!(open[0]["owner"], "marketing-ops");
    let shown = ok(&leadflow(&bs, &t, &["exceptions", "show", &id]));
    assert!(
        shown.contains(&lead.event_id),
        "the original is decoded: {shown}"
    );

    ok(&leadflow(
        &bs,
        &t,
        &["exceptions", "assign", &id, "--owner", "bob"],
    ));
    assert_eq!(list(&bs, &t, &["--owner", "bob"])[0]["status"], "assigned");
    ok(&leadflow(&bs, &t, &["exceptions", "escalate", &id]));
    let escalated = list(&bs, &t, &[]);
    assert_eq!(escalated[0]["owner"], "revops-manager");
    assert_eq!(escalated[0]["escalation_level"], 1);

    // replay: the original bytes, with the lead's key, land on the source topic
    ok(&leadflow(
        &bs,
        &t,
        &["exceptions", "replay", &id, "--reason", "fixed upstream"],
    ));
    let raw = consume_all(&bs, &t.raw, 3, Duration::from_secs(3)).await;
    assert_eq!(raw.len(), 2, "exactly one replayed copy");
    assert_eq!(raw[1].payload, original);
    assert_eq!(raw[1].key.as_deref(), Some(lead.lead_id.as_bytes()));
    assert!(
        raw[1]
            .headers
            .iter()
            .any(|(k, v)| k == "leadflow-replay-of" && v.as_deref() == Some(id.as_bytes()))
    );
    // a second replay before the first one's outcome is refused: nothing more is produced
    let again = leadflow(&bs, &t, &["exceptions", "replay", &id]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));

    // the stage fails the replayed record: its own id differs, the queue keeps one entry
    let replayed_id = format!("enrich:{}:{}:{}", t.raw, raw[1].partition, raw[1].offset);
    raise(
        &t,
        "enrich",
        replayed_id.clone(),
        (&t.raw, raw[1].partition, raw[1].offset),
        ErrorKind::Validation,
        &lead.lead_id,
        original.clone(),
    )
    .await;
    let reopened = list(&bs, &t, &[]);
    assert_eq!(reopened.len(), 1, "{reopened:?}");
    assert_eq!(reopened[0]["exception_id"], id.as_str());
    assert_eq!(
        reopened[0]["status"], "escalated",
        "re-opened, still escalated"
    );
    assert_eq!(reopened[0]["failures"], 2);

    // closing needs a reason
    let no_reason = leadflow(&bs, &t, &["exceptions", "close", &id]);
    assert_eq!(no_reason.status.code(), Some(2));
    ok(&leadflow(
        &bs,
        &t,
        &[
            "exceptions",
            "close",
            &id,
            "--reason",
            "lead deleted upstream",
        ],
    ));
    assert!(list(&bs, &t, &[]).is_empty());
    let all = list(&bs, &t, &["--all"]);
    assert_eq!(all[0]["status"], "closed");
    assert_eq!(
        history(&bs, &t, &id),
        [
            "OPENED",
            "ASSIGNED",
            "ESCALATED",
            "REPLAYED",
            "REOPENED",
            "CLOSED"
        ]
    );
    ok(&leadflow(&bs, &t, &["exceptions", "reopen", &id]));
    assert_eq!(list(&bs, &t, &[]).len(), 1);

    // the state topic holds one record per action, keyed by the entry's id
    let states = consume_all(&bs, &t.state, 10, Duration::from_secs(3)).await;
    assert_eq!(states.len(), 5, "assign, escalate, replay, close, reopen");
    for s in &states {
        assert_eq!(s.key.as_deref(), Some(id.as_bytes()));
        let state: ExceptionState = codec.decode(&s.payload).await.unwrap();
        assert_eq!(state.exception_id, id);
        assert_eq!(state.history.last().map(|a| a.actor.as_str()), Some("ana"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_packet_keeps_its_idempotency_key_and_is_sent_once() {
    let bs = bootstrap();
    let t = topics(&bs).await;
    let codec = Codec::single_object().unwrap();
    let packet = samples::handoff_packet();
    let original = codec.encode(&t.packets, &packet).await.unwrap();
    let (p, o) = produce_raw(
        &bs,
        &t.packets,
        Some(packet.lead_id().as_bytes()),
        &original,
    )
    .await;
    let id = format!("notify:{}:slack", packet.idempotency_key);
    raise(
        &t,
        "notify",
        id.clone(),
        (&t.packets, p, o),
        ErrorKind::Delivery,
        packet.lead_id(),
        original.clone(),
    )
    .await;
    assert_eq!(
        list(&bs, &t, &["--kind", "delivery"])[0]["exception_id"],
        id.as_str()
    );

    ok(&leadflow(&bs, &t, &["exceptions", "retry", &id]));
    let second = leadflow(&bs, &t, &["exceptions", "retry", &id]);
    assert_eq!(
        second.status.code(),
        Some(2),
        "a second retry waits for the first"
    );
    let copies = consume_all(&bs, &t.packets, 3, Duration::from_secs(3)).await;
    assert_eq!(copies.len(), 2, "the original and exactly one retry");
    let retried: HandoffPacket = codec.decode(&copies[1].payload).await.unwrap();
    assert_eq!(retried.idempotency_key, packet.idempotency_key);
    assert_eq!(retried.packet_id, packet.packet_id);

    // notify fails it again (same id by construction): re-opened, and a retry is allowed again
    raise(
        &t,
        "notify",
        id.clone(),
        (&t.packets, copies[1].partition, copies[1].offset),
        ErrorKind::Delivery,
        packet.lead_id(),
        original,
    )
    .await;
    let entry = list(&bs, &t, &[]);
    assert_eq!(
        (entry.len(), entry[0]["status"].as_str()),
        (1, Some("open"))
    );
    ok(&leadflow(&bs, &t, &["exceptions", "retry", &id]));
    assert_eq!(
        history(&bs, &t, &id),
        ["OPENED", "RETRIED", "REOPENED", "RETRIED"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrected_replay_keeps_the_lead_and_is_encoded_for_the_topic() {
    let bs = bootstrap();
    let t = topics(&bs).await;
    let codec = Codec::single_object().unwrap();
    let lead = samples::lead_event();
    let original = codec.encode(&t.raw, &lead).await.unwrap();
    let (p, o) = produce_raw(&bs, &t.raw, Some(lead.lead_id.as_bytes()), &original).await;
    let id = format!("enrich:{}:{p}:{o}", t.raw);
    raise(
        &t,
        "enrich",
        id.clone(),
        (&t.raw, p, o),
        ErrorKind::Validation,
        &lead.lead_id,
        original,
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    let mut other = lead.clone();
    other.lead_id = "someone-else".into();
    let wrong = dir.path().join("wrong.json");
    std::fs::write(
        &wrong,
        leadflow_events::json::event_to_json(&other)
            .unwrap()
            .to_string(),
    )
    .unwrap();
    let refused = leadflow(
        &bs,
        &t,
        &[
            "exceptions",
            "replay",
            &id,
            "--edit",
            wrong.to_str().unwrap(),
        ],
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("lead id"));

    let mut fixed = lead.clone();
    fixed.contact.email = Some("fixed@example.com".into());
    let good = dir.path().join("fixed.json");
    std::fs::write(
        &good,
        leadflow_events::json::event_to_json(&fixed)
            .unwrap()
            .to_string(),
    )
    .unwrap();
    ok(&leadflow(
        &bs,
        &t,
        &[
            "exceptions",
            "replay",
            &id,
            "--edit",
            good.to_str().unwrap(),
        ],
    ));
    let raw = consume_all(&bs, &t.raw, 3, Duration::from_secs(3)).await;
    assert_eq!(raw.len(), 2);
    let replayed: LeadEvent = codec.decode(&raw[1].payload).await.unwrap();
    assert_eq!(replayed.contact.email.as_deref(), Some("fixed@example.com"));
    assert_eq!(replayed.event_id, lead.event_id, "the event id is kept");
    assert_eq!(list(&bs, &t, &[])[0]["status"], "replayed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_replay_of_an_undecodable_record_must_keep_the_exceptions_lead() {
    let bs = bootstrap();
    let t = topics(&bs).await;
    let lead = samples::lead_event();
    // bytes the stage could not decode: nothing to compare a corrected record with
    let garbage = b"\xc3\x01not an avro record".to_vec();
    let (p, o) = produce_raw(&bs, &t.raw, Some(lead.lead_id.as_bytes()), &garbage).await;
    let id = format!("enrich:{}:{p}:{o}", t.raw);
    raise(
        &t,
        "enrich",
        id.clone(),
        (&t.raw, p, o),
        ErrorKind::Decode,
        &lead.lead_id,
        garbage,
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    let mut other = lead.clone();
    other.lead_id = "someone-else".into();
    let wrong = dir.path().join("wrong.json");
    std::fs::write(
        &wrong,
        leadflow_events::json::event_to_json(&other)
            .unwrap()
            .to_string(),
    )
    .unwrap();
    let refused = leadflow(
        &bs,
        &t,
        &[
            "exceptions",
            "replay",
            &id,
            "--edit",
            wrong.to_str().unwrap(),
        ],
    );
    assert_eq!(
        refused.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("lead id"));
    let raw = consume_all(&bs, &t.raw, 2, Duration::from_secs(3)).await;
    assert_eq!(raw.len(), 1, "nothing was produced for the refused edit");
    assert_eq!(list(&bs, &t, &[])[0]["status"], "open");

    let good = dir.path().join("good.json");
    std::fs::write(
        &good,
        leadflow_events::json::event_to_json(&lead)
            .unwrap()
            .to_string(),
    )
    .unwrap();
    ok(&leadflow(
        &bs,
        &t,
        &[
            "exceptions",
            "replay",
            &id,
            "--edit",
            good.to_str().unwrap(),
        ],
    ));
    let raw = consume_all(&bs, &t.raw, 3, Duration::from_secs(3)).await;
    assert_eq!(raw.len(), 2, "the corrected record, once");
    let codec = Codec::single_object().unwrap();
    let replayed: LeadEvent = codec.decode(&raw[1].payload).await.unwrap();
    assert_eq!(replayed.lead_id, lead.lead_id);
}
