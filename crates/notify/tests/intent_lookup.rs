#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! RULES.md §3a, the intent: a Slack post whose intent has no DELIVERED receipt is looked up in the
//! conversation history (by its metadata) before posting again. Against the sandbox, no broker: the
//! intent reaches a fresh stage as a replayed `POSTING` receipt, as after a crash.

mod common;

use common::{new_stage, packet, receipts, run, sandbox, settings};
use leadflow_events::{AnyEvent, DeliveryChannel, DeliveryReceipt, DeliveryStatus, Timestamp};
use leadflow_notify::deliver::FOUND_NOTE;
use leadflow_notify::slack_dm::dm_key;
use leadflow_runtime::Stage;
use leadflow_sandbox::{FaultMode, FaultSpec, Sandbox, Service};

/// Messages in the sandbox's Slack whose metadata carries `key`.
fn posts(sb: &Sandbox, key: &str) -> Vec<leadflow_sandbox::SlackMessage> {
    sb.state
        .slack_messages()
        .into_iter()
        .filter(|m| m.metadata["event_payload"]["idempotency_key"].as_str() == Some(key))
        .collect()
}

fn history_calls(sb: &Sandbox) -> usize {
    sb.state
        .requests()
        .iter()
        .filter(|r| r.path == "/api/conversations.history" && r.fault.is_none())
        .count()
}

/// The `POSTING` receipt a crashed process left for `key` (written just before its post).
fn intent(key: &str, lead: &str) -> AnyEvent {
    AnyEvent::DeliveryReceipt(DeliveryReceipt {
        receipt_id: format!("{key}:slack:posting:1"),
        packet_id: "pkt".into(),
        lead_id: lead.into(),
        channel: DeliveryChannel::Slack,
        status: DeliveryStatus::Posting,
        attempts: 1,
        external_id: None,
        error: None,
        delivered_at: Timestamp::from(chrono::Utc::now()),
        idempotency_key: Some(key.into()),
        fallback_for: Vec::new(),
        remote_url: None,
        latency_ms: None,
    })
}

fn slack_delivered(rs: &[DeliveryReceipt]) -> Vec<DeliveryReceipt> {
    rs.iter()
        .filter(|r| r.channel == DeliveryChannel::Slack && r.status == DeliveryStatus::Delivered)
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_post_made_before_a_crash_is_found_and_not_posted_again() {
    let sb = sandbox().await;
    let s = settings(&sb);
    let p = packet(1);
    let key = p.idempotency_key.clone();
    // the crashed process: it posted, then died before its receipt
    let first = new_stage(&s);
    run(&first, p.clone()).await;
    let before = posts(&sb, &key);
    assert_eq!(before.len(), 1);
    assert_eq!(
        before[0].metadata["event_payload"]["channel_kind"], "team",
        "the metadata says which post it is"
    );

    // its replacement knows the intent (replayed), not the outcome; Slack's first answer fails
    let second = new_stage(&s);
    second
        .on_side_input(intent(&key, &p.decision.scored.enriched.lead.lead_id))
        .unwrap();
    sb.set_fault(Service::Slack, FaultSpec::new(FaultMode::Error).count(1));
    let rs = receipts(&run(&second, p).await);

    assert_eq!(posts(&sb, &key).len(), 1, "not posted again");
    assert!(history_calls(&sb) >= 1, "the history was read");
    let delivered = slack_delivered(&rs);
    assert_eq!(delivered.len(), 1, "{rs:?}");
    assert_eq!(
        delivered[0].external_id.as_deref(),
        Some(before[0].ts.as_str())
    );
    assert_eq!(delivered[0].error.as_deref(), Some(FOUND_NOTE));
    assert!(
        rs.iter()
            .any(|r| r.channel == DeliveryChannel::Slack && r.status == DeliveryStatus::Retrying),
        "the failed lookup was retried like any Slack call"
    );
}

#[tokio::test]
async fn an_intent_whose_post_never_arrived_is_posted_once() {
    let sb = sandbox().await;
    let s = settings(&sb);
    let p = packet(2);
    let key = p.idempotency_key.clone();
    // another packet in the same channel, so the channel exists and has history
    run(&new_stage(&s), packet(3)).await;
    let stage = new_stage(&s);
    stage
        .on_side_input(intent(&key, &p.decision.scored.enriched.lead.lead_id))
        .unwrap();
    let rs = receipts(&run(&stage, p).await);
    let made = posts(&sb, &key);
    assert_eq!(made.len(), 1);
    assert!(history_calls(&sb) >= 1, "looked before posting");
    let delivered = slack_delivered(&rs);
    assert_eq!(delivered.len(), 1);
    assert_eq!(
        delivered[0].external_id.as_deref(),
        Some(made[0].ts.as_str())
    );
    assert_eq!(delivered[0].error, None, "posted, not found");
}

#[tokio::test]
async fn without_an_intent_nothing_is_looked_up() {
    let sb = sandbox().await;
    let s = settings(&sb);
    let stage = new_stage(&s);
    run(&stage, packet(4)).await;
    assert_eq!(history_calls(&sb), 0);
}

#[tokio::test]
async fn a_direct_message_sent_before_a_crash_is_found_in_the_dm() {
    let sb = sandbox().await;
    let s = settings(&sb);
    let mut p = packet(5);
    let mut prev = p.assignee.clone().expect("sample assignee");
    prev.rep_id = "rep-old".into();
    prev.slack_user_id = Some("U0OLDOWNER".into());
    p.previous_assignee = Some(prev);
    p.escalation_level = 1;
    let key = dm_key(&p.idempotency_key);
    run(&new_stage(&s), p.clone()).await;
    let before = sb.state.direct_messages("U0OLDOWNER");
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].metadata["event_payload"]["channel_kind"], "dm");

    let second = new_stage(&s);
    second
        .on_side_input(intent(&key, &p.decision.scored.enriched.lead.lead_id))
        .unwrap();
    let rs = receipts(&run(&second, p).await);
    assert_eq!(
        sb.state.direct_messages("U0OLDOWNER").len(),
        1,
        "no second DM"
    );
    let dm: Vec<_> = rs
        .iter()
        .filter(|r| r.idempotency_key.as_deref() == Some(key.as_str()))
        .filter(|r| r.status == DeliveryStatus::Delivered)
        .collect();
    assert_eq!(dm.len(), 1, "{rs:?}");
    assert_eq!(dm[0].external_id.as_deref(), Some(before[0].ts.as_str()));
}
