//! Latency of the notify hop: a handoff packet produced to `handoff.packets` → its `DELIVERED`
//! receipts on `handoff.deliveries` (Slack and the CRM, both), through the real `leadflow-notify`
//! process against the sandbox's Slack and HubSpot stand-ins, at a fixed rate.
//!
//! Latency per packet = CreateTime of the later of its two DELIVERED receipts − CreateTime of the
//! packet record (both stamped by the producing clients on this machine). Prints p50/p95/p99/max.
//!
//! ```text
//! cargo build --release --workspace
//! target/release/notify-latency --count 1000 --rate 50
//! ```
//! Without `--bootstrap-servers` it starts a private tansu broker (SQLite storage) of its own.
#![allow(clippy::expect_used, clippy::panic)]

mod broker;
mod latency;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use broker::BenchBroker;
use clap::Parser;
use leadflow_e2e::Service;
use leadflow_events::{
    Codec, DeliveryChannel, DeliveryReceipt, DeliveryStatus, Event, Timestamp, samples,
};
use leadflow_sandbox::{Sandbox, SandboxConfig};
use leadflow_testkit::{create_topic, unique_name};
use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};

#[derive(Parser, Debug)]
#[command(
    about = "Latency handoff.packets -> delivery receipts through leadflow-notify and the sandbox"
)]
struct Args {
    #[arg(long, default_value_t = 1_000)]
    count: usize,
    /// Packets per second.
    #[arg(long, default_value_t = 50)]
    rate: u32,
    #[arg(long)]
    bootstrap_servers: Option<String>,
    #[arg(long, default_value_t = 3)]
    partitions: i32,
}

fn now_ms() -> i64 {
    Timestamp::from(chrono::Utc::now()).0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let broker = BenchBroker::given_or_private(args.bootstrap_servers.as_deref()).await?;
    let bs = broker.bootstrap.clone();
    let names: BTreeMap<&str, String> = ["packets", "deliveries", "exceptions"]
        .into_iter()
        .map(|r| (r, unique_name(&format!("bench-{r}"))))
        .collect();
    for topic in names.values() {
        create_topic(&bs, topic, args.partitions).await;
    }
    let sandbox = Sandbox::start(SandboxConfig::default()).await?;
    let logs = tempfile::tempdir()?;
    let mut env = BTreeMap::from([
        ("LEADFLOW_BOOTSTRAP_SERVERS".to_owned(), bs.clone()),
        ("LEADFLOW_GROUP_ID".to_owned(), unique_name("bench-notify")),
        ("LEADFLOW_HTTP__LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("LEADFLOW_LOG__LEVEL".to_owned(), "warn".to_owned()),
        (
            "LEADFLOW_STAGE__SLACK__API_URL".to_owned(),
            sandbox.slack_api_url(),
        ),
        (
            "LEADFLOW_STAGE__SLACK__BOT_TOKEN".to_owned(),
            "xoxb-sandbox-token".to_owned(),
        ),
        (
            "LEADFLOW_STAGE__HUBSPOT__API_URL".to_owned(),
            sandbox.hubspot_api_url(),
        ),
        (
            "LEADFLOW_STAGE__HUBSPOT__TOKEN".to_owned(),
            "pat-sandbox-token".to_owned(),
        ),
        (
            "LEADFLOW_STAGE__EMAIL__SMTP_HOST".to_owned(),
            "127.0.0.1".to_owned(),
        ),
        (
            "LEADFLOW_STAGE__EMAIL__SMTP_PORT".to_owned(),
            sandbox.smtp_addr.port().to_string(),
        ),
        ("LEADFLOW_STAGE__EMAIL__TLS".to_owned(), "none".to_owned()),
    ]);
    for (role, topic) in &names {
        env.insert(
            format!("LEADFLOW_TOPICS__{}", role.to_ascii_uppercase()),
            topic.clone(),
        );
    }
    let notify = Service::start("leadflow-notify", &env, logs.path());

    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &bs)
        .set("group.id", unique_name("bench-reader"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "20")
        .create()
        .context("receipt consumer")?;
    consumer.subscribe(&[names["deliveries"].as_str()])?;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &bs)
        .set("linger.ms", "1")
        .create()
        .context("packet producer")?;
    let codec = Codec::single_object()?;
    let packets: Vec<_> = (0..args.count)
        .map(|i| {
            let mut p = samples::handoff_packet();
            p.packet_id = format!("pkt-bench-{i}");
            p.idempotency_key = format!("bench-{i}-{}", now_ms());
            p.decision.scored.enriched.lead.lead_id = format!("lead-bench-{i}");
            p.visitor.email = Some(format!("bench{i}@acme.example"));
            p
        })
        .collect();
    let mut sent_at: HashMap<String, i64> = HashMap::new();
    let gap = Duration::from_secs_f64(1.0 / f64::from(args.rate.max(1)));
    let started = Instant::now();
    let topic = names["packets"].clone();
    let send = async {
        let mut acks = Vec::new();
        for (i, p) in packets.iter().enumerate() {
            tokio::time::sleep_until((started + gap * u32::try_from(i).unwrap_or(u32::MAX)).into())
                .await;
            let bytes = codec.encode(&topic, p).await.expect("packet encodes");
            let now = now_ms();
            sent_at.insert(p.packet_id.clone(), now);
            let record = FutureRecord::to(&topic)
                .key(p.key())
                .payload(&bytes)
                .timestamp(now);
            acks.push(
                producer
                    .send_result(record)
                    .map_err(|(e, _)| e)
                    .expect("enqueue"),
            );
        }
        for a in acks {
            let _ = a.await;
        }
    };
    // packet id -> (slack delivered at, crm delivered at)
    let mut done: HashMap<String, (Option<i64>, Option<i64>)> = HashMap::new();
    let receive = async {
        let deadline = Instant::now() + Duration::from_secs(600);
        let complete = |d: &HashMap<String, (Option<i64>, Option<i64>)>| {
            d.values()
                .filter(|(s, c)| s.is_some() && c.is_some())
                .count()
        };
        while complete(&done) < args.count && Instant::now() < deadline {
            let Ok(Ok(msg)) = tokio::time::timeout(Duration::from_secs(20), consumer.recv()).await
            else {
                break;
            };
            let (Some(created), Some(payload)) = (msg.timestamp().to_millis(), msg.payload())
            else {
                continue;
            };
            let Ok(r) = codec.decode::<DeliveryReceipt>(payload).await else {
                continue;
            };
            if r.status != DeliveryStatus::Delivered {
                continue;
            }
            let e = done.entry(r.packet_id.clone()).or_default();
            match r.channel {
                DeliveryChannel::Slack => e.0 = Some(created),
                DeliveryChannel::Crm => e.1 = Some(created),
                DeliveryChannel::Email => {}
            }
        }
    };
    tokio::join!(send, receive);

    let mut ms: Vec<i64> = done
        .iter()
        .filter_map(|(id, (s, c))| Some(s.as_ref()?.max(c.as_ref()?) - sent_at.get(id)?))
        .collect();
    ms.sort_unstable();
    println!(
        "notify-latency: handoff.packets -> Slack + CRM DELIVERED receipts, leadflow-notify + sandbox, {} partitions, {}",
        args.partitions,
        broker.label()
    );
    println!(
        "  sent {} packets at {}/s; {} with both receipts; {} Slack posts, {} CRM tasks in the sandbox",
        packets.len(),
        args.rate,
        ms.len(),
        sandbox.state.slack_messages().len(),
        sandbox.state.crm_objects("tasks").len()
    );
    println!("  latency packet -> receipts: {}", latency::summary(&ms));
    let status = notify.terminate(Duration::from_secs(30));
    println!("  leadflow-notify: exit {status} after SIGTERM");
    drop(broker);
    Ok(())
}
