#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! RULES.md §3a, the intent, with a real crash: the real `leadflow-notify` is SIGKILLed after Slack
//! recorded its post and before notify had Slack's answer (the sandbox holds the reply), so no
//! DELIVERED receipt exists. Its replacement finds the post by its metadata and records DELIVERED
//! with the post's `ts`: exactly one post in Slack. Needs `LEADFLOW_TEST_BOOTSTRAP` (fails without it).

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{packet, sandbox};
use leadflow_events::{Codec, DeliveryChannel, DeliveryReceipt, DeliveryStatus, Event};
use leadflow_sandbox::Sandbox;
use leadflow_testkit::{bootstrap, consume_all, create_topic, produce_raw, unique_name};

const BIN: &str = env!("CARGO_BIN_EXE_leadflow-notify");

struct Topics {
    packets: String,
    deliveries: String,
    exceptions: String,
    group: String,
}

fn spawn(sb: &Sandbox, bootstrap: &str, t: &Topics, log: &std::path::Path) -> Child {
    let log = std::fs::File::create(log).unwrap();
    Command::new(BIN)
        .env("LEADFLOW_BOOTSTRAP_SERVERS", bootstrap)
        .env("LEADFLOW_GROUP_ID", &t.group)
        .env("LEADFLOW_TOPICS__PACKETS", &t.packets)
        .env("LEADFLOW_TOPICS__DELIVERIES", &t.deliveries)
        .env("LEADFLOW_TOPICS__EXCEPTIONS", &t.exceptions)
        .env("LEADFLOW_HTTP__LISTEN", "127.0.0.1:0")
        .env("LEADFLOW_STAGE__SLACK__API_URL", sb.slack_api_url())
        .env("LEADFLOW_STAGE__SLACK__BOT_TOKEN", "xoxb-sandbox-token")
        .env("LEADFLOW_STAGE__HUBSPOT__API_URL", sb.hubspot_api_url())
        .env("LEADFLOW_STAGE__HUBSPOT__TOKEN", "pat-sandbox-token")
        .env("LEADFLOW_STAGE__EMAIL__SMTP_HOST", "127.0.0.1")
        .env(
            "LEADFLOW_STAGE__EMAIL__SMTP_PORT",
            sb.smtp_addr.port().to_string(),
        )
        .env("LEADFLOW_STAGE__EMAIL__TLS", "none")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("leadflow-notify starts")
}

async fn receipts(bootstrap: &str, topic: &str, codec: &Codec) -> Vec<DeliveryReceipt> {
    let mut out = Vec::new();
    for rec in consume_all(bootstrap, topic, 10_000, Duration::from_secs(2)).await {
        out.push(codec.decode::<DeliveryReceipt>(&rec.payload).await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_between_slacks_acceptance_and_the_receipt_posts_once() {
    let bootstrap = bootstrap();
    let t = Topics {
        packets: unique_name("notify-intent-packets"),
        deliveries: unique_name("notify-intent-deliveries"),
        exceptions: unique_name("notify-intent-exceptions"),
        group: unique_name("notify-intent"),
    };
    for topic in [&t.packets, &t.deliveries, &t.exceptions] {
        create_topic(&bootstrap, topic, 1).await;
    }
    let sb = sandbox().await;
    // Slack records the post, then holds its answer far longer than the test waits.
    sb.state.hold_slack_replies(Duration::from_secs(600), 1);
    let codec = Codec::single_object().unwrap();
    let p = packet(7_001);
    let key = p.idempotency_key.clone();
    let bytes = codec.encode(&t.packets, &p).await.unwrap();
    produce_raw(&bootstrap, &t.packets, Some(p.key().as_bytes()), &bytes).await;
    let posts = |sb: &Sandbox| -> Vec<leadflow_sandbox::SlackMessage> {
        sb.state
            .slack_messages()
            .into_iter()
            .filter(|m| m.metadata["event_payload"]["idempotency_key"].as_str() == Some(&key))
            .collect()
    };

    let dir = std::env::temp_dir();
    let log1 = dir.join(format!("{}-1.log", t.group));
    let mut first = spawn(&sb, &bootstrap, &t, &log1);
    let deadline = Instant::now() + Duration::from_secs(60);
    while posts(&sb).is_empty() {
        assert!(
            Instant::now() < deadline,
            "notify posted nothing within 60 s; log: {}",
            std::fs::read_to_string(&log1).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Slack has the post; notify is waiting for the answer: crash now.
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let before = receipts(&bootstrap, &t.deliveries, &codec).await;
    assert!(
        before.iter().any(|r| r.channel == DeliveryChannel::Slack
            && r.status == DeliveryStatus::Posting
            && r.idempotency_key.as_deref() == Some(key.as_str())),
        "the intent was acknowledged before the post: {before:?}"
    );
    assert!(
        !before
            .iter()
            .any(|r| r.channel == DeliveryChannel::Slack && r.status == DeliveryStatus::Delivered),
        "the crash came before the receipt"
    );

    // The replacement starts at once (the runtime's rejoin rule takes the partition up).
    let log2 = dir.join(format!("{}-2.log", t.group));
    let mut second = spawn(&sb, &bootstrap, &t, &log2);
    let deadline = Instant::now() + Duration::from_secs(120);
    let delivered = loop {
        let rs = receipts(&bootstrap, &t.deliveries, &codec).await;
        if let Some(r) = rs.iter().find(|r| {
            r.channel == DeliveryChannel::Slack
                && r.status == DeliveryStatus::Delivered
                && r.idempotency_key.as_deref() == Some(key.as_str())
        }) {
            break r.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no DELIVERED Slack receipt after the restart; log: {}",
            std::fs::read_to_string(&log2).unwrap_or_default()
        );
    };
    let _ = second.kill();
    let _ = second.wait();

    let made = posts(&sb);
    let ts: Vec<&str> = made.iter().map(|m| m.ts.as_str()).collect();
    assert_eq!(made.len(), 1, "exactly one post in Slack, posted at {ts:?}");
    assert_eq!(delivered.external_id.as_deref(), Some(made[0].ts.as_str()));
    assert_eq!(
        delivered.error.as_deref(),
        Some(leadflow_notify::deliver::FOUND_NOTE)
    );
    assert!(
        sb.state
            .requests()
            .iter()
            .any(|r| r.path == "/api/conversations.history"),
        "the replacement looked the post up"
    );
}
