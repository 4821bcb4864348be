#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Reps act from Slack and HubSpot (RULES.md RA1–RA7), on the broker: a signed click becomes one
//! `RepActivity` on `handoff.activity` and the message is updated through `response_url`; an
//! unsigned, stale or forged request gets 401 and writes nothing; a replay, a double click, another
//! rep's click or a click on an out-of-date message changes nothing (an ephemeral answer says why);
//! an unknown Slack user is an exception record; HubSpot's task completion is a CONTACTED and its
//! retry changes nothing.

mod common;

use std::time::Duration;

use common::{Harness, now_secs};
use leadflow_events::{
    Codec, DeliveryChannel, DeliveryReceipt, DeliveryStatus, ExceptionRecord, HandoffPacket,
    RepActivity, RepActivityKind, RepState, Timestamp, samples,
};
use leadflow_ingest::rep_actions::signatures::{hubspot_sign, slack_sign};
use leadflow_testkit::{
    HttpRecorder, bootstrap, consume_all, create_topic, produce_raw, unique_name,
};

const SLACK_SECRET: &str = "slack-signing-secret-for-tests";
const HUBSPOT_SECRET: &str = "hubspot-client-secret-for-tests";

struct Topics {
    reps: String,
    packets: String,
    activity: String,
    deliveries: String,
    exceptions: String,
}

async fn topics(bs: &str) -> Topics {
    let t = Topics {
        reps: unique_name("ra-reps"),
        packets: unique_name("ra-packets"),
        activity: unique_name("ra-activity"),
        deliveries: unique_name("ra-deliveries"),
        exceptions: unique_name("ra-exceptions"),
    };
    for name in [
        &t.reps,
        &t.packets,
        &t.activity,
        &t.deliveries,
        &t.exceptions,
    ] {
        create_topic(bs, name, 1).await;
    }
    t
}

fn rep(id: &str) -> RepState {
    let mut r = samples::rep_state();
    r.rep_id = id.into();
    r.name = format!("Rep {id}");
    r.slack_user_id = Some(format!("U{}", id.to_uppercase()));
    r
}

fn packet(lead: &str, id: &str, owner: &str, created: Timestamp, level: i32) -> HandoffPacket {
    let mut p = samples::handoff_packet();
    p.packet_id = id.into();
    p.idempotency_key = format!("{lead}|{id}");
    p.decision.scored.enriched.lead.lead_id = lead.into();
    p.assignee.as_mut().unwrap().rep_id = owner.into();
    p.created_at = created;
    p.escalation_level = level;
    p.withdraws = None;
    p
}

async fn put<E: leadflow_events::Event>(bs: &str, topic: &str, key: &str, e: &E) {
    let codec = Codec::single_object().unwrap();
    let payload = codec.encode(topic, e).await.unwrap();
    produce_raw(bs, topic, Some(key.as_bytes()), &payload).await;
}

fn click_body(
    user: &str,
    lead: &str,
    packet: &str,
    action: &str,
    reason: Option<&str>,
    response_url: &str,
) -> String {
    let mut action = serde_json::json!({
        "action_id": action, "block_id": format!("leadflow|{lead}|{packet}"),
        "action_ts": format!("{}.000100", now_secs()),
    });
    if let Some(r) = reason {
        action["selected_option"] = serde_json::json!({"value": r});
    }
    let payload = serde_json::json!({
        "type": "block_actions",
        "user": {"id": user},
        "response_url": response_url,
        "message": {"text": "HOT lead", "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "lead"}},
            {"type": "actions", "block_id": format!("leadflow|{lead}|{packet}"), "elements": [
                {"type": "button", "action_id": "leadflow_accept"},
                {"type": "button", "action_id": "leadflow_contacted"},
                {"type": "static_select", "action_id": "leadflow_reject"}
            ]}
        ]},
        "actions": [action],
    });
    serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap()
}

async fn post_slack(h: &Harness, body: &str, ts: i64, secret: &str) -> u16 {
    let sig = slack_sign(secret, ts, body.as_bytes());
    h.http
        .post(format!("{}/v1/slack/interactions", h.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", ts.to_string())
        .header("x-slack-signature", sig)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn activities(bs: &str, topic: &str, at_least: usize) -> Vec<RepActivity> {
    let codec = Codec::single_object().unwrap();
    let mut out = Vec::new();
    for r in consume_all(bs, topic, at_least, Duration::from_secs(5)).await {
        out.push(codec.decode::<RepActivity>(&r.payload).await.unwrap());
    }
    out
}

/// Waits until the recorder holds `n` answers.
async fn answers(slack: &HttpRecorder, n: usize) -> Vec<serde_json::Value> {
    slack
        .wait_for_requests(n, Duration::from_secs(10))
        .await
        .iter()
        .map(|r| r.body_json())
        .collect()
}

async fn start(bs: &str, t: &Topics) -> Harness {
    let (reps, packets, activity, deliveries, exceptions) = (
        t.reps.clone(),
        t.packets.clone(),
        t.activity.clone(),
        t.deliveries.clone(),
        t.exceptions.clone(),
    );
    Harness::start(bs, move |cfg| {
        cfg.topics.reps = reps;
        cfg.topics.packets = packets;
        cfg.topics.activity = activity;
        cfg.topics.deliveries = deliveries;
        cfg.topics.exceptions = exceptions;
        cfg.stage.slack_signing_secret = Some(leadflow_runtime::Secret::new(SLACK_SECRET));
        cfg.stage.hubspot_client_secret = Some(leadflow_runtime::Secret::new(HUBSPOT_SECRET));
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_clicks_are_recorded_once_by_their_owner_and_refused_otherwise() {
    let bs = bootstrap();
    let t = topics(&bs).await;
    let slack = HttpRecorder::start(200, "ok").await;
    let now = Timestamp(chrono::Utc::now().timestamp_millis());
    for r in ["a", "b"] {
        put(&bs, &t.reps, r, &rep(r)).await;
    }
    put(&bs, &t.packets, "l1", &packet("l1", "p1", "a", now, 0)).await;
    let h = start(&bs, &t).await;
    let url = slack.url();
    let ts = now_secs();

    // unsigned, forged and stale: 401, nothing written, nothing answered
    let accept = click_body("UA", "l1", "p1", "leadflow_accept", None, &url);
    let unsigned = h
        .http
        .post(format!("{}/v1/slack/interactions", h.url))
        .body(accept.clone())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(unsigned, 401);
    assert_eq!(post_slack(&h, &accept, ts, "not-the-secret").await, 401);
    assert_eq!(post_slack(&h, &accept, ts - 301, SLACK_SECRET).await, 401);
    let forged_body = accept.replace("UA", "UB");
    let sig = slack_sign(SLACK_SECRET, ts, accept.as_bytes());
    let forged = h
        .http
        .post(format!("{}/v1/slack/interactions", h.url))
        .header("x-slack-request-timestamp", ts.to_string())
        .header("x-slack-signature", sig)
        .body(forged_body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(forged, 401);

    // the owner accepts: one ACCEPTED, the message updated in place
    assert_eq!(post_slack(&h, &accept, ts, SLACK_SECRET).await, 200);
    let got = answers(&slack, 1).await;
    assert_eq!(got[0]["replace_original"], true);
    let blocks = got[0]["blocks"].to_string();
    assert!(blocks.contains("*Accepted* by <@UA>"), "{blocks}");
    assert!(
        !blocks.contains("leadflow_accept"),
        "Accept is gone: {blocks}"
    );
    assert!(
        blocks.contains("leadflow_contacted"),
        "Contacted stays: {blocks}"
    );
    // the same signed request again (a replay): 200, nothing more
    assert_eq!(post_slack(&h, &accept, ts, SLACK_SECRET).await, 200);
    // a second click (a new request): an ephemeral "already recorded"
    assert_eq!(post_slack(&h, &accept, ts + 1, SLACK_SECRET).await, 200);
    let got = answers(&slack, 2).await;
    assert_eq!(got[1]["response_type"], "ephemeral");
    assert!(
        got[1]["text"]
            .as_str()
            .unwrap()
            .starts_with("Already recorded: accepted by <@UA>"),
        "{}",
        got[1]
    );
    // b clicks on a's lead
    let b_contacts = click_body("UB", "l1", "p1", "leadflow_contacted", None, &url);
    assert_eq!(post_slack(&h, &b_contacts, ts, SLACK_SECRET).await, 200);
    let got = answers(&slack, 3).await;
    assert!(
        got[2]["text"]
            .as_str()
            .unwrap()
            .starts_with("This lead belongs to <@UA>"),
        "{}",
        got[2]
    );
    // someone outside the roster: ephemeral and an exception record
    let stranger = click_body("UZZZ", "l1", "p1", "leadflow_contacted", None, &url);
    assert_eq!(post_slack(&h, &stranger, ts, SLACK_SECRET).await, 200);
    let got = answers(&slack, 4).await;
    assert!(
        got[3]["text"]
            .as_str()
            .unwrap()
            .contains("not linked to a rep"),
        "{}",
        got[3]
    );
    let codec = Codec::single_object().unwrap();
    let ex = consume_all(&bs, &t.exceptions, 1, Duration::from_secs(10)).await;
    assert_eq!(ex.len(), 1);
    let ex: ExceptionRecord = codec.decode(&ex[0].payload).await.unwrap();
    assert!(
        ex.reason.contains("UZZZ") && ex.reason.contains("no rep of the roster"),
        "{}",
        ex.reason
    );

    // the owner rejects with a reason: REJECTED, the controls removed
    let reject = click_body("UA", "l1", "p1", "leadflow_reject", Some("bad_data"), &url);
    assert_eq!(post_slack(&h, &reject, ts, SLACK_SECRET).await, 200);
    let got = answers(&slack, 5).await;
    let blocks = got[4]["blocks"].to_string();
    assert!(
        blocks.contains("*Rejected* by <@UA>") && blocks.contains("Bad contact data"),
        "{blocks}"
    );
    assert!(!blocks.contains("leadflow_contacted"), "{blocks}");

    // route reassigns to b: a's old message is out of date
    put(
        &bs,
        &t.packets,
        "l1",
        &packet("l1", "p2", "b", Timestamp(now.0 + 1_000), 1),
    )
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let late = click_body("UA", "l1", "p1", "leadflow_contacted", None, &url);
        assert_eq!(post_slack(&h, &late, now_secs(), SLACK_SECRET).await, 200);
        let n = slack.requests().len();
        let last = answers(&slack, n).await.pop().unwrap();
        if last["text"]
            .as_str()
            .unwrap_or_default()
            .starts_with("This lead was reassigned to <@UB>")
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the view never saw the reassignment: {last}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let recorded = activities(&bs, &t.activity, 2).await;
    let kinds: Vec<(RepActivityKind, &str)> = recorded
        .iter()
        .map(|a| (a.kind, a.rep_id.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            (RepActivityKind::Accepted, "a"),
            (RepActivityKind::Rejected, "a")
        ],
        "exactly the owner's two actions"
    );
    assert_eq!(recorded[1].reason.as_deref(), Some("bad_data"));
    assert_eq!(recorded[1].packet_id.as_deref(), Some("p1"));
    let metrics = h.metrics().await;
    assert!(
        metrics.contains(
            "leadflow_ingest_rep_actions_total{result=\"unauthenticated\",source=\"slack\"} 4"
        ),
        "{metrics}"
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hubspot_task_completed_is_a_contact_once_and_unsigned_webhooks_write_nothing() {
    let bs = bootstrap();
    let t = topics(&bs).await;
    let now = Timestamp(chrono::Utc::now().timestamp_millis());
    put(&bs, &t.reps, "a", &rep("a")).await;
    put(&bs, &t.packets, "l1", &packet("l1", "p1", "a", now, 0)).await;
    let receipt = DeliveryReceipt {
        receipt_id: "r1".into(),
        packet_id: "p1".into(),
        lead_id: "l1".into(),
        channel: DeliveryChannel::Crm,
        status: DeliveryStatus::Delivered,
        attempts: 1,
        external_id: Some("9001".into()),
        error: None,
        delivered_at: now,
        idempotency_key: Some("l1|p1".into()),
        fallback_for: vec![],
        remote_url: Some("https://app.hubspot.com/contacts/0/record/0-1/4242".into()),
        latency_ms: Some(10),
    };
    put(&bs, &t.deliveries, "l1", &receipt).await;
    let h = start(&bs, &t).await;
    let host = h.url.trim_start_matches("http://").to_owned();
    let uri = format!("http://{host}/v1/crm/hubspot/events");
    let event_ms = now.0 + 5_000;
    let body = format!(
        r#"[{{"eventId":11,"subscriptionType":"object.propertyChange","objectTypeId":"0-27","objectId":9001,"propertyName":"hs_task_status","propertyValue":"COMPLETED","occurredAt":{event_ms},"attemptNumber":0}},
            {{"eventId":12,"subscriptionType":"object.propertyChange","objectTypeId":"0-27","objectId":777,"propertyName":"hs_task_status","propertyValue":"COMPLETED","occurredAt":{event_ms}}}]"#
    );
    let post = |sig: String, ts: String, body: String| {
        let http = h.http.clone();
        let url = format!("{}/v1/crm/hubspot/events", h.url);
        async move {
            http.post(url)
                .header("content-type", "application/json")
                .header("x-hubspot-request-timestamp", ts)
                .header("x-hubspot-signature-v3", sig)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let ts = chrono::Utc::now().timestamp_millis();
    let good = hubspot_sign(HUBSPOT_SECRET, "POST", &uri, body.as_bytes(), ts);
    // forged (another secret) and stale: 401
    let forged = hubspot_sign("nope", "POST", &uri, body.as_bytes(), ts);
    assert_eq!(post(forged, ts.to_string(), body.clone()).await, 401);
    let stale_ts = ts - 301_000;
    let stale = hubspot_sign(HUBSPOT_SECRET, "POST", &uri, body.as_bytes(), stale_ts);
    assert_eq!(post(stale, stale_ts.to_string(), body.clone()).await, 401);
    assert!(
        activities(&bs, &t.activity, 1).await.is_empty(),
        "a refused webhook wrote nothing"
    );
    // the real one, then HubSpot's retry of it
    assert_eq!(post(good.clone(), ts.to_string(), body.clone()).await, 204);
    assert_eq!(post(good, ts.to_string(), body.clone()).await, 204);
    // a contact property change on the same lead's contact: QUALIFIED
    let body2 = format!(
        r#"[{{"eventId":13,"subscriptionType":"contact.propertyChange","objectId":4242,"propertyName":"hs_lead_status","propertyValue":"OPEN_DEAL","occurredAt":{}}}]"#,
        event_ms + 1_000
    );
    let sig2 = hubspot_sign(HUBSPOT_SECRET, "POST", &uri, body2.as_bytes(), ts);
    assert_eq!(post(sig2, ts.to_string(), body2).await, 204);
    let recorded = activities(&bs, &t.activity, 2).await;
    let got: Vec<(RepActivityKind, &str, i64)> = recorded
        .iter()
        .map(|a| (a.kind, a.rep_id.as_str(), a.occurred_at.0))
        .collect();
    assert_eq!(
        got,
        [
            (RepActivityKind::Contacted, "a", event_ms),
            (RepActivityKind::Qualified, "a", event_ms + 1_000)
        ]
    );
    h.stop().await;
}
