//! notify against the sandbox on 127.0.0.1 (no broker): what lands in Slack, the CRM and the inbox,
//! under faults.

mod common;

use std::time::{Duration, Instant};

use common::*;
use leadflow_events::{DeliveryChannel as Ch, DeliveryStatus as St};
use leadflow_sandbox::{FaultMode, FaultSpec, Service};

#[tokio::test]
async fn hot_packet_lands_in_slack_and_the_crm_at_once() {
    let sb = sandbox().await;
    let stage = new_stage(&settings(&sb));
    let out = run(&stage, packet(1)).await;
    let rs = receipts(&out);
    assert_eq!(with(&rs, Ch::Slack, St::Delivered).len(), 1, "{rs:#?}");
    let crm = with(&rs, Ch::Crm, St::Delivered);
    assert_eq!(crm.len(), 1, "{rs:#?}");
    assert!(
        crm[0]
            .remote_url
            .as_deref()
            .unwrap()
            .contains("/crm/record/")
    );
    assert!(exceptions(&out).is_empty());
    assert!(
        sb.state.emails().is_empty(),
        "no fallback when both primaries work"
    );

    let msgs = sb.state.slack_messages();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].channel, "#ae-hot-leads");
    let blocks = msgs[0].blocks.to_string();
    assert!(blocks.contains("<@U123>"), "owner mentioned: {blocks}");
    assert!(blocks.contains("HOT lead · HOT tier"), "{blocks}");
    assert!(blocks.contains("Book the meeting"), "{blocks}");
    assert!(blocks.contains("/crm/record/"), "CRM link: {blocks}");

    let contacts = sb.state.crm_objects("contacts");
    let tasks = sb.state.crm_objects("tasks");
    let notes = sb.state.crm_objects("notes");
    assert_eq!((contacts.len(), tasks.len(), notes.len()), (1, 1, 1));
    assert_eq!(
        tasks[0].properties["hs_timestamp"],
        serde_json::json!((leadflow_events::samples::T0.0 + 300_000).to_string()),
        "task due at the SLA deadline"
    );
    assert_eq!(contacts[0].associations["tasks"], vec![tasks[0].id.clone()]);
    assert_eq!(contacts[0].associations["notes"], vec![notes[0].id.clone()]);
    assert!(
        notes[0].properties["hs_note_body"]
            .as_str()
            .unwrap()
            .contains("Context packet")
    );
}

#[tokio::test]
async fn slack_down_while_crm_up_then_email_fallback_then_slack_later() {
    let outage = Duration::from_secs(
        std::env::var("NOTIFY_TEST_OUTAGE_S")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(30),
    );
    let sb = sandbox().await;
    // measured from before the fault is set: Slack cannot deliver before `outage` has passed since
    let started = Instant::now();
    sb.set_fault(
        Service::Slack,
        FaultSpec::new(FaultMode::Down).for_duration(outage),
    );
    let mut s = settings(&sb);
    s.fallback_after_ms = 2_000;
    s.max_backoff_ms = 2_000;
    s.breaker_open_ms = 1_000;
    let stage = new_stage(&s);
    let out = run(&stage, packet(2)).await;
    let took = started.elapsed();
    let rs = receipts(&out);

    // The CRM delivered at once, Slack was retried and delivered after the outage, email in between.
    let crm = with(&rs, Ch::Crm, St::Delivered);
    assert_eq!(crm.len(), 1, "{rs:#?}");
    assert_eq!(crm[0].attempts, 1);
    assert!(!with(&rs, Ch::Slack, St::Retrying).is_empty());
    let slack = with(&rs, Ch::Slack, St::Delivered);
    assert_eq!(slack.len(), 1, "Slack delivered after the outage: {rs:#?}");
    assert!(
        took >= outage,
        "Slack cannot have delivered during the outage ({took:?})"
    );
    let email = with(&rs, Ch::Email, St::FellBack);
    assert_eq!(email.len(), 1, "{rs:#?}");
    assert_eq!(email[0].fallback_for, vec![Ch::Slack]);
    let first_failure = with(&rs, Ch::Slack, St::Retrying)[0].delivered_at.0;
    assert!(
        email[0].delivered_at.0 - first_failure >= 2_000,
        "email only after fallback_after"
    );
    assert!(email[0].delivered_at.0 < slack[0].delivered_at.0);
    assert!(
        exceptions(&out).is_empty(),
        "nothing lost, nothing to escalate"
    );

    // What arrived: one post, one task, one email to the team naming Slack.
    assert_eq!(sb.state.slack_messages().len(), 1);
    assert_eq!(sb.state.crm_objects("tasks").len(), 1);
    let emails = sb.state.emails();
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].to, vec!["ae-team@example.com".to_owned()]);
    assert!(
        emails[0].subject.contains("Slack unavailable"),
        "{}",
        emails[0].subject
    );
    assert!(
        emails[0].data.contains("Slack failed"),
        "{}",
        emails[0].data
    );
}

#[tokio::test]
async fn slack_429_retry_after_is_honoured() {
    let sb = sandbox().await;
    sb.set_fault(
        Service::Slack,
        FaultSpec::new(FaultMode::RateLimit).count(1).retry_after(2),
    );
    let mut s = settings(&sb);
    s.fallback_after_ms = 5_000;
    let stage = new_stage(&s);
    let out = run(&stage, packet(3)).await;
    let rs = receipts(&out);
    let retry = with(&rs, Ch::Slack, St::Retrying);
    assert_eq!(retry.len(), 1, "{rs:#?}");
    assert!(
        retry[0]
            .error
            .as_deref()
            .unwrap()
            .contains("retry after 2000 ms")
    );
    let done = with(&rs, Ch::Slack, St::Delivered);
    assert_eq!(done.len(), 1);
    let slack_requests: Vec<_> = sb
        .state
        .requests()
        .into_iter()
        .filter(|r| r.service == Service::Slack)
        .collect();
    assert_eq!(slack_requests.len(), 2);
    let t = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_millis()
    };
    let gap = t(&slack_requests[1].at) - t(&slack_requests[0].at);
    assert!(gap >= 2_000, "second call only after Retry-After: {gap} ms");
    assert!(gap < 3_500, "and not much later: {gap} ms");
    // A 2 s rate limit is shorter than fallback_after (5 s here): no email.
    assert!(sb.state.emails().is_empty());
}

#[tokio::test]
async fn hubspot_429_with_rate_limit_headers_is_honoured() {
    let sb = sandbox().await;
    sb.set_fault(
        Service::Hubspot,
        FaultSpec::new(FaultMode::RateLimit).count(1).retry_after(1),
    );
    let stage = new_stage(&settings(&sb));
    let out = run(&stage, packet(4)).await;
    let rs = receipts(&out);
    assert_eq!(with(&rs, Ch::Crm, St::Retrying).len(), 1, "{rs:#?}");
    assert_eq!(with(&rs, Ch::Crm, St::Delivered).len(), 1);
    assert_eq!(sb.state.crm_objects("tasks").len(), 1);
}

#[tokio::test]
async fn the_same_packet_three_times_gives_one_post_and_one_task() {
    let sb = sandbox().await;
    let stage = new_stage(&settings(&sb));
    let mut all = Vec::new();
    for _ in 0..3 {
        all.extend(receipts(&run(&stage, packet(5)).await));
    }
    assert_eq!(sb.state.slack_messages().len(), 1);
    assert_eq!(sb.state.crm_objects("tasks").len(), 1);
    assert_eq!(sb.state.crm_objects("tasks")[0].writes, 1);
    assert_eq!(with(&all, Ch::Slack, St::Delivered).len(), 1);
    assert_eq!(with(&all, Ch::Slack, St::Skipped).len(), 2);
    assert_eq!(with(&all, Ch::Crm, St::Skipped).len(), 2);

    // A restarted notify that replayed the receipts (side input) skips too.
    let restarted = new_stage(&settings(&sb));
    for r in &all {
        leadflow_runtime::Stage::on_side_input(&restarted, r.clone().into()).unwrap();
    }
    let again = receipts(&run(&restarted, packet(5)).await);
    assert_eq!(with(&again, Ch::Slack, St::Skipped).len(), 1, "{again:#?}");
    assert_eq!(sb.state.slack_messages().len(), 1);

    // Without any receipt (the uncloseable window), the CRM side stays single: upserts by key.
    let amnesiac = new_stage(&settings(&sb));
    run(&amnesiac, packet(5)).await;
    assert_eq!(sb.state.crm_objects("tasks").len(), 1);
    assert_eq!(sb.state.crm_objects("notes").len(), 1);
    assert_eq!(sb.state.crm_objects("contacts").len(), 1);
    assert_eq!(
        sb.state.slack_messages().len(),
        2,
        "Slack has no idempotency key: the documented window"
    );
}

#[tokio::test]
async fn a_rejected_channel_goes_to_exceptions_and_the_other_still_delivers() {
    let sb = sandbox().await;
    let mut s = settings(&sb);
    s.slack
        .channels
        .insert("ae".into(), "#missing-channel".into());
    let stage = new_stage(&s);
    let out = run(&stage, packet(6)).await;
    let rs = receipts(&out);
    let failed = with(&rs, Ch::Slack, St::Failed);
    assert_eq!(failed.len(), 1, "{rs:#?}");
    assert!(
        failed[0]
            .error
            .as_deref()
            .unwrap()
            .contains("channel_not_found")
    );
    assert_eq!(
        with(&rs, Ch::Slack, St::Retrying).len(),
        0,
        "a 4xx is not retried"
    );
    assert_eq!(with(&rs, Ch::Crm, St::Delivered).len(), 1);
    assert_eq!(
        with(&rs, Ch::Email, St::FellBack).len(),
        1,
        "failed permanently → email at once"
    );
    let ex = exceptions(&out);
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].owner, "ae");
    assert_eq!(ex[0].error_kind, leadflow_events::ErrorKind::Delivery);
    assert!(
        ex[0].reason.contains("channel_not_found") && ex[0].reason.contains("email fallback sent"),
        "{}",
        ex[0].reason
    );
    assert!(!ex[0].original.is_empty());

    // A bad visitor address: the CRM rejects, Slack delivers.
    let mut bad = packet(7);
    bad.visitor.email = Some("not-an-address".into());
    let stage = new_stage(&settings(&sb));
    let out = run(&stage, bad).await;
    let rs = receipts(&out);
    assert_eq!(with(&rs, Ch::Crm, St::Failed).len(), 1, "{rs:#?}");
    assert_eq!(with(&rs, Ch::Slack, St::Delivered).len(), 1);
    assert_eq!(exceptions(&out).len(), 1);
}

#[tokio::test]
async fn a_dead_channel_opens_its_breaker_and_never_blocks_the_other() {
    let sb = sandbox().await;
    sb.set_fault(Service::Hubspot, FaultSpec::new(FaultMode::Error));
    let mut s = settings(&sb);
    s.give_up_after_ms = 3_000;
    s.fallback_after_ms = 500;
    s.breaker_open_ms = 10_000;
    let stage = new_stage(&s);
    let n = stage.notifier().clone();
    // Ten packets at once: Slack delivers every one while the CRM is dead.
    let handoffs: Vec<_> = (10..20)
        .map(|i| leadflow_notify::Handoff::from_packet(&packet(i)))
        .collect();
    let started = Instant::now();
    let reports = futures::future::join_all(handoffs.iter().map(|h| n.deliver(h))).await;
    assert!(
        started.elapsed() < Duration::from_secs(3 + 30 + 2),
        "bounded by give-up + email budget"
    );
    assert_eq!(sb.state.slack_messages().len(), 10);
    for r in &reports {
        assert_eq!(with(&r.receipts, Ch::Slack, St::Delivered).len(), 1);
        assert_eq!(with(&r.receipts, Ch::Crm, St::Failed).len(), 1);
        assert_eq!(r.undeliverable.len(), 1);
    }
    // The breaker (3 failures, open 10 s) kept the dead CRM from being hammered.
    let crm_calls = sb
        .state
        .requests()
        .iter()
        .filter(|r| r.service == Service::Hubspot)
        .count();
    assert!(
        crm_calls <= 3 + 10,
        "breaker open: {crm_calls} CRM calls for 10 packets"
    );
    assert_eq!(sb.state.emails().len(), 10, "one fallback email per packet");
}

#[tokio::test]
async fn webhook_only_slack_and_faults_set_over_http() {
    let sb = sandbox().await;
    // The control endpoint, as a person or the demo would use it.
    let resp = reqwest::Client::new()
        .post(format!("{}/_sandbox/faults/slack", sb.base_url()))
        .json(&serde_json::json!({"mode": "error", "count": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut s = settings(&sb);
    s.slack.bot_token = None;
    s.slack.webhook_url = Some(leadflow_runtime::Secret::new(sb.slack_webhook_url()));
    let stage = new_stage(&s);
    let out = run(&stage, packet(30)).await;
    let rs = receipts(&out);
    assert_eq!(with(&rs, Ch::Slack, St::Retrying).len(), 2, "{rs:#?}");
    let done = with(&rs, Ch::Slack, St::Delivered);
    assert_eq!(done.len(), 1);
    assert!(
        done[0]
            .external_id
            .as_deref()
            .unwrap()
            .starts_with("webhook:")
    );
    let msgs = sb.state.slack_messages();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].via, "webhook");
    // The page shows it.
    let page = reqwest::get(format!("{}/", sb.base_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("HOT lead · HOT tier"), "{page}");
    assert!(page.contains("Task:"), "the CRM task is on the page");
}
