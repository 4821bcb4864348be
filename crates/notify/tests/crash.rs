#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! kill -9 of the real `leadflow-notify` process mid-burst, against the broker and the sandbox:
//! after a restart every packet has its Slack and CRM `DELIVERED` receipts, the CRM holds exactly one
//! task per packet, and every duplicate Slack post is one whose first post fell in the documented
//! window (Slack accepted, receipt not yet acknowledged when the process died). Needs
//! `LEADFLOW_TEST_BOOTSTRAP` (fails without it).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{packet, sandbox};
use leadflow_events::{Codec, DeliveryChannel, DeliveryReceipt, DeliveryStatus, Event};
use leadflow_sandbox::{FaultMode, FaultSpec, Sandbox, Service};
use leadflow_testkit::{bootstrap, consume_all, create_topic, produce_raw, unique_name};

const BIN: &str = env!("CARGO_BIN_EXE_leadflow-notify");
const PACKETS: u32 = 40;
/// Slack accepted → receipt acknowledged: the CRM's answer plus the produce acknowledgement
/// (tansu stalls up to ~1 s), with margin. RULES.md section 3.
const WINDOW_MS: i64 = 3_000;

struct Topics {
    packets: String,
    deliveries: String,
    exceptions: String,
    group: String,
}

fn spawn(sb: &Sandbox, bootstrap: &str, t: &Topics, log: &str) -> Child {
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

/// Successful Slack posts per idempotency key, with the time of each (ms since the epoch).
fn slack_posts(sb: &Sandbox) -> BTreeMap<String, Vec<i64>> {
    let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in sb.state.requests() {
        if r.service != Service::Slack || r.status != 200 || r.fault.is_some() {
            continue;
        }
        let Some(key) = r.body["metadata"]["event_payload"]["idempotency_key"].as_str() else {
            continue;
        };
        let at = chrono::DateTime::parse_from_rfc3339(&r.at)
            .unwrap()
            .timestamp_millis();
        out.entry(key.to_owned()).or_default().push(at);
    }
    out
}

async fn delivered(bootstrap: &str, topic: &str, codec: &Codec) -> Vec<DeliveryReceipt> {
    let mut out = Vec::new();
    for rec in consume_all(bootstrap, topic, 100_000, Duration::from_secs(3)).await {
        out.push(codec.decode::<DeliveryReceipt>(&rec.payload).await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_mid_burst_loses_no_packet_and_duplicates_stay_in_the_window() {
    let bootstrap = bootstrap();
    let t = Topics {
        packets: unique_name("notify-crash-packets"),
        deliveries: unique_name("notify-crash-deliveries"),
        exceptions: unique_name("notify-crash-exceptions"),
        group: unique_name("notify-crash"),
    };
    for topic in [&t.packets, &t.deliveries, &t.exceptions] {
        create_topic(&bootstrap, topic, 2).await;
    }
    let sb = sandbox().await;
    // Slow Slack so the burst spans seconds and the kill lands mid-burst.
    sb.set_fault(
        Service::Slack,
        FaultSpec::new(FaultMode::Slow).delay(Duration::from_millis(150)),
    );
    let codec = Codec::single_object().unwrap();
    let mut records = Vec::new();
    let mut keys = BTreeSet::new();
    for n in 0..PACKETS {
        let p = packet(1_000 + n);
        keys.insert(p.packet_id.clone());
        let bytes = codec.encode(&t.packets, &p).await.unwrap();
        records.push((p.key().as_bytes().to_vec(), bytes));
    }
    // A paced burst (one packet every 100 ms) so the kill lands while packets keep coming.
    let producer = {
        let (bs, topic) = (bootstrap.clone(), t.packets.clone());
        tokio::spawn(async move {
            for (key, bytes) in records {
                produce_raw(&bs, &topic, Some(&key), &bytes).await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };

    let dir = std::env::temp_dir();
    let log1 = dir.join(format!("{}-1.log", t.group));
    let mut first = spawn(&sb, &bootstrap, &t, log1.to_str().unwrap());
    let started = Instant::now();
    while slack_posts(&sb).len() < 12 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "notify delivered nothing within 60 s; log: {}",
            std::fs::read_to_string(&log1).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let killed_at = chrono::Utc::now().timestamp_millis();
    let before_kill = slack_posts(&sb).len();
    assert!(before_kill < PACKETS as usize, "the kill came mid-burst");

    // The dead member's session (10 s) must expire before the replacement joins (a tansu quirk).
    tokio::time::sleep(Duration::from_secs(12)).await;
    let log2 = dir.join(format!("{}-2.log", t.group));
    let mut second = spawn(&sb, &bootstrap, &t, log2.to_str().unwrap());
    let deadline = Instant::now() + Duration::from_secs(120);
    let receipts = loop {
        let receipts = delivered(&bootstrap, &t.deliveries, &codec).await;
        let done = |c: DeliveryChannel| -> BTreeSet<String> {
            receipts
                .iter()
                .filter(|r| {
                    r.channel == c
                        && matches!(
                            r.status,
                            DeliveryStatus::Delivered | DeliveryStatus::Skipped
                        )
                })
                .map(|r| r.packet_id.clone())
                .collect()
        };
        if done(DeliveryChannel::Slack) == keys && done(DeliveryChannel::Crm) == keys {
            break receipts;
        }
        assert!(
            Instant::now() < deadline,
            "not every packet has its receipts after the restart; log: {}",
            std::fs::read_to_string(&log2).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let _ = second.kill();
    let _ = second.wait();
    producer.await.unwrap();

    // No packet without a receipt: every key has DELIVERED receipts on both primaries.
    for key in &keys {
        for c in [DeliveryChannel::Slack, DeliveryChannel::Crm] {
            assert!(
                receipts.iter().any(|r| &r.packet_id == key
                    && r.channel == c
                    && r.status == DeliveryStatus::Delivered),
                "{key} has no DELIVERED receipt for {c:?}"
            );
        }
    }
    // The CRM: one task per packet whatever happened (upserts by key).
    assert_eq!(sb.state.crm_objects("tasks").len(), PACKETS as usize);
    // Slack: each packet posted; a second post only when the first fell in the window.
    let posts = slack_posts(&sb);
    assert_eq!(posts.len(), PACKETS as usize, "every packet reached Slack");
    let mut duplicates = 0;
    for (key, times) in &posts {
        if times.len() > 1 {
            duplicates += times.len() - 1;
            assert!(
                times[0] >= killed_at - WINDOW_MS && times[0] <= killed_at,
                "{key} was posted twice but its first post ({}) is not within {WINDOW_MS} ms before the kill ({killed_at})",
                times[0]
            );
        }
    }
    println!(
        "kill -9 after {before_kill} of {PACKETS} Slack posts: {duplicates} duplicate post(s), all within the {WINDOW_MS} ms window"
    );
}
