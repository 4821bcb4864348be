#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! A rejection from Slack goes back to the pool, through real processes on the broker:
//! leadflow-route routes a decision, the owner picks "Reject… → Not a fit" on the Slack message
//! (a signed interaction to leadflow-ingest), leadflow-route-rejections gives the lead to the other
//! rep with the reason in the packet; that rep rejects too, and the lead goes to the manager
//! (route RULES.md §6c, ingest RULES.md RA4).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use leadflow_e2e::{Service, StageEnv, TestTopics, free_port, team_rep};
use leadflow_events::{Codec, HandoffPacket, RepActivity, RepState, samples};
use leadflow_ingest::rep_actions::signatures::slack_sign;
use leadflow_testkit::{HttpRecorder, bootstrap, consume_all, produce_raw};

const SECRET: &str = "e2e-slack-signing-secret";

fn rep(id: &str, manager: bool) -> RepState {
    let mut r = team_rep(id, "ae");
    r.max_open_leads = 10;
    r.manager_id = (!manager).then(|| "mgr".to_owned());
    if manager {
        r.role = leadflow_events::RepRole::Manager;
    }
    r
}

async fn packets(bs: &str, topic: &str, n: usize) -> Vec<HandoffPacket> {
    let codec = Codec::single_object().unwrap();
    let mut out = Vec::new();
    for r in consume_all(bs, topic, n, Duration::from_secs(5)).await {
        out.push(codec.decode::<HandoffPacket>(&r.payload).await.unwrap());
    }
    out
}

/// Waits for the `n`th packet of the topic.
async fn nth_packet(bs: &str, topic: &str, n: usize, logs: &dyn Fn() -> String) -> HandoffPacket {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let got = packets(bs, topic, n).await;
        if got.len() >= n {
            return got[n - 1].clone();
        }
        assert!(
            Instant::now() < deadline,
            "packet {n} never came ({} so far); logs:\n{}",
            got.len(),
            logs()
        );
    }
}

fn reject_body(user: &str, p: &HandoffPacket, response_url: &str) -> String {
    let payload = serde_json::json!({
        "type": "block_actions",
        "user": {"id": user},
        "response_url": response_url,
        "message": {"text": "lead", "blocks": []},
        "actions": [{
            "action_id": "leadflow_reject",
            "block_id": format!("leadflow|{}|{}", p.lead_id(), p.packet_id),
            "type": "static_select",
            "selected_option": {"value": "not_a_fit"},
            "action_ts": format!("{}.000000", chrono::Utc::now().timestamp()),
        }],
    });
    serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap()
}

/// Clicks Reject as `user` until ingest records it (its view follows the packets topic with a
/// lag of milliseconds), and returns the answer Slack got.
async fn reject(
    ingest: &str,
    user: &str,
    p: &HandoffPacket,
    slack: &HttpRecorder,
) -> serde_json::Value {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let seen = slack.requests().len();
        let body = reject_body(user, p, &slack.url());
        let ts = chrono::Utc::now().timestamp();
        let status = http
            .post(format!("{ingest}/v1/slack/interactions"))
            .header("x-slack-request-timestamp", ts.to_string())
            .header("x-slack-signature", slack_sign(SECRET, ts, body.as_bytes()))
            .body(body)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200);
        let answer = slack
            .wait_for_requests(seen + 1, Duration::from_secs(10))
            .await
            .pop()
            .unwrap()
            .body_json();
        if answer["replace_original"] == true {
            return answer;
        }
        assert!(
            Instant::now() < deadline,
            "the click was never recorded: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_lead_goes_to_the_other_rep_with_the_reason_then_to_the_manager() {
    let bs = bootstrap();
    let names = TestTopics::create(
        &bs,
        "e2e-rejections",
        &[
            "raw",
            "tiered",
            "packets",
            "activity",
            "deliveries",
            "reps",
            "exceptions",
        ],
        1,
    )
    .await;
    let codec = Codec::single_object().unwrap();
    for (id, manager) in [("a", false), ("b", false), ("mgr", true)] {
        let r = rep(id, manager);
        let payload = codec.encode(&names["reps"], &r).await.unwrap();
        produce_raw(&bs, &names["reps"], Some(id.as_bytes()), &payload).await;
    }
    let slack = HttpRecorder::start(200, "ok").await;
    let logs = tempfile::tempdir().unwrap();
    let port = free_port();
    let ingest_env: BTreeMap<String, String> = StageEnv::new(&bs, "leadflow-ingest", &names)
        .stage("API_LISTEN", &format!("127.0.0.1:{port}"))
        .stage("SLACK_SIGNING_SECRET", SECRET)
        .vars()
        .clone();
    let services: Vec<Service> = ["leadflow-route", "leadflow-route-rejections"]
        .into_iter()
        .map(|b| Service::start(b, StageEnv::new(&bs, b, &names).vars(), logs.path()))
        .chain([Service::start("leadflow-ingest", &ingest_env, logs.path())])
        .collect();
    let all_logs = || -> String {
        services
            .iter()
            .map(|s| format!("--- {}\n{}", s.name, s.log()))
            .collect()
    };

    let mut decision = samples::tier_decision();
    decision.target_team = "ae".into();
    decision.decided_at = leadflow_events::Timestamp(chrono::Utc::now().timestamp_millis());
    let lead = decision.scored.enriched.lead.lead_id.clone();
    let payload = codec.encode(&names["tiered"], &decision).await.unwrap();
    produce_raw(&bs, &names["tiered"], Some(lead.as_bytes()), &payload).await;

    let first = nth_packet(&bs, &names["packets"], 1, &all_logs).await;
    let first_owner = first.assignee.as_ref().unwrap().rep_id.clone();
    assert!(["a", "b"].contains(&first_owner.as_str()), "{first_owner}");
    let other = if first_owner == "a" { "b" } else { "a" };

    // wait until ingest answers on its port
    let ingest = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while reqwest::get(format!("{ingest}/openapi.json"))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "ingest never listened; logs:\n{}",
            all_logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let answer = reject(
        &ingest,
        &format!("U{}", first_owner.to_uppercase()),
        &first,
        &slack,
    )
    .await;
    assert!(
        answer["blocks"].to_string().contains("Not a fit"),
        "{answer}"
    );
    let second = nth_packet(&bs, &names["packets"], 2, &all_logs).await;
    assert_eq!(
        second.assignee.as_ref().unwrap().rep_id,
        other,
        "{second:?}"
    );
    assert_eq!(
        second.previous_assignee.as_ref().unwrap().rep_id,
        first_owner
    );
    assert!(
        second.assignment_reason.starts_with(&format!(
            "reassigned after {first_owner} rejected it (not_a_fit)"
        )),
        "{}",
        second.assignment_reason
    );
    // the new owner's clock starts at the rejection
    assert!(second.created_at > first.created_at);
    assert_eq!(
        second.sla[0].due_at.0 - second.created_at.0,
        first.sla[0].due_at.0 - first.created_at.0
    );

    reject(
        &ingest,
        &format!("U{}", other.to_uppercase()),
        &second,
        &slack,
    )
    .await;
    let third = nth_packet(&bs, &names["packets"], 3, &all_logs).await;
    assert_eq!(third.assignee.as_ref().unwrap().rep_id, "mgr", "{third:?}");
    let why = third.unassigned_reason.clone().unwrap_or_default();
    assert!(why.contains("rejected by"), "{why}");
    assert!(why.contains(&first_owner) && why.contains(other), "{why}");

    // exactly two rejections were recorded, both REJECTED with the reason
    let mut recorded = Vec::new();
    for r in consume_all(&bs, &names["activity"], 2, Duration::from_secs(5)).await {
        recorded.push(codec.decode::<RepActivity>(&r.payload).await.unwrap());
    }
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    assert!(
        recorded
            .iter()
            .all(|a| a.reason.as_deref() == Some("not_a_fit"))
    );
    // and nothing more was routed
    assert_eq!(packets(&bs, &names["packets"], 4).await.len(), 3);
    for s in services {
        s.terminate(Duration::from_secs(15));
    }
}
