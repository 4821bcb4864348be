//! End-to-end latency of the qualification stages: how long a lead takes from `leads.raw` to its
//! decision on `leads.tiered`, through the real `leadflow-enrich`, `leadflow-score` and `leadflow-tier`
//! processes on a real broker, and the sustained throughput.
//!
//! Latency per lead = CreateTime of its decision record − CreateTime of its raw record (both stamped
//! by the producing client, so the broker's clock does not matter). Prints p50/p95/p99/max and
//! events/second.
//!
//! ```text
//! cargo build --release --workspace
//! target/release/pipeline-latency --count 2000 --rate 200     # paced, latency under load
//! target/release/pipeline-latency --count 5000                # as fast as possible: throughput
//! ```
//! Without `--bootstrap-servers` it starts a private tansu broker (SQLite storage) of its own.
#![allow(clippy::expect_used, clippy::panic)]

mod broker;
mod latency;
mod stage_env;

use broker::BenchBroker;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Parser;
use leadflow_e2e::Service;
use leadflow_events::{Codec, Event, Timestamp};
use leadflow_generate::{DEFAULT_START, LeadGenerator};
use leadflow_testkit::{create_topic, unique_name};
use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};

#[derive(Parser, Debug)]
#[command(about = "End-to-end latency of enrich -> score -> tier on a real broker")]
struct Args {
    /// Leads to send.
    #[arg(long, default_value_t = 2_000)]
    count: usize,
    /// Leads per second; as fast as possible when absent.
    #[arg(long)]
    rate: Option<u32>,
    /// An existing broker; a private tansu is started when absent.
    #[arg(long)]
    bootstrap_servers: Option<String>,
    /// Partitions per topic.
    #[arg(long, default_value_t = 3)]
    partitions: i32,
    /// Where to measure: `tiered` (the qualification stages), `scored`, `enriched`, or `raw` (the
    /// broker alone: receive time of the raw record by a plain consumer); `deliveries` runs route
    /// and notify too (with the sample roster and the in-process sandbox) and measures lead event →
    /// the first `DELIVERED` receipt of its packet.
    #[arg(long, default_value = "tiered")]
    hop: String,
    /// Raw librdkafka settings for the services, e.g. `linger.ms=0,fetch.wait.max.ms=10`.
    #[arg(long)]
    kafka_overrides: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let broker = BenchBroker::given_or_private(args.bootstrap_servers.as_deref()).await?;
    let bs = broker.bootstrap.clone();
    let full = args.hop == "deliveries";
    let names: BTreeMap<&str, String> = [
        "raw",
        "enriched",
        "dedup_keys",
        "scored",
        "tiered",
        "packets",
        "deliveries",
        "activity",
        "reps",
        "model_params",
        "exceptions",
    ]
    .into_iter()
    .map(|r| (r, unique_name(&format!("bench-{}", r.replace('_', "-")))))
    .collect();
    for (role, topic) in &names {
        create_topic(
            &bs,
            topic,
            if matches!(*role, "model_params" | "reps") {
                1
            } else {
                args.partitions
            },
        )
        .await;
    }
    let logs = tempfile::tempdir()?;
    let codec = Codec::single_object()?;
    let sandbox = if full {
        // the sample roster for route, the sandbox for notify
        leadflow_e2e::publish_sample_roster(
            &bs,
            &names["reps"],
            &codec,
            Timestamp::parse_rfc3339(DEFAULT_START)?,
        )
        .await;
        Some(leadflow_sandbox::Sandbox::start(leadflow_sandbox::SandboxConfig::default()).await?)
    } else {
        None
    };
    let stages: &[&str] = if full {
        &["enrich", "score", "tier", "route", "notify"]
    } else {
        &["enrich", "score", "tier"]
    };
    let services: Vec<Service> = stages
        .iter()
        .copied()
        .map(|stage| {
            let mut env = stage_env::stage_env(
                stage,
                &bs,
                &unique_name(&format!("bench-{stage}")),
                &names,
                "info",
            );
            if let (Some(sb), "notify") = (&sandbox, stage) {
                env.extend(leadflow_e2e::notify_sandbox_vars(sb));
            }
            Service::start(&format!("leadflow-{stage}"), &env, logs.path())
        })
        .collect();

    // consume decisions from the start while producing
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &bs)
        .set("group.id", unique_name("bench-reader"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "20")
        .create()
        .context("decision consumer")?;
    let hop = args.hop.clone();
    let hop_topic = names
        .get(hop.trim_end_matches("-received"))
        .with_context(|| {
            format!("--hop must be raw, enriched, scored, tiered or deliveries, not {hop}")
        })?;
    if full {
        // packets give packet id -> event id; receipts give packet id -> delivered time
        consumer.subscribe(&[hop_topic.as_str(), names["packets"].as_str()])?;
    } else {
        consumer.subscribe(&[hop_topic.as_str()])?;
    }
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &bs)
        .set("linger.ms", "1")
        .create()
        .context("lead producer")?;

    let mut generator = LeadGenerator::new(5, Timestamp::parse_rfc3339(DEFAULT_START)?);
    let leads: Vec<_> = (0..args.count)
        .map(|_| generator.next_lead().event)
        .collect();
    let mut sent_at: HashMap<String, i64> = HashMap::new();
    let interval = args
        .rate
        .map(|r| Duration::from_secs_f64(1.0 / f64::from(r.max(1))));
    let started = Instant::now();
    let raw_topic = names["raw"].clone();
    let send = async {
        let mut deliveries = Vec::new();
        for (i, lead) in leads.iter().enumerate() {
            if let Some(gap) = interval {
                let due = started + gap * u32::try_from(i).unwrap_or(u32::MAX);
                tokio::time::sleep_until(due.into()).await;
            }
            let bytes = codec.encode(&raw_topic, lead).await.expect("lead encodes");
            let now = now_ms();
            sent_at.insert(lead.event_id.clone(), now);
            let record = FutureRecord::to(&raw_topic)
                .key(lead.key())
                .payload(&bytes)
                .timestamp(now);
            deliveries.push(
                producer
                    .send_result(record)
                    .map_err(|(e, _)| e)
                    .expect("enqueue"),
            );
        }
        for d in deliveries {
            let _ = d.await;
        }
    };
    let expected = leads
        .iter()
        .map(|l| l.event_id.clone())
        .collect::<std::collections::BTreeSet<_>>();
    let mut latencies: HashMap<String, i64> = HashMap::new();
    let mut packet_event: HashMap<String, String> = HashMap::new();
    let mut packet_done: HashMap<String, i64> = HashMap::new();
    let receive = async {
        let deadline = Instant::now() + Duration::from_secs(300);
        while latencies.len() < expected.len() && Instant::now() < deadline {
            // leads that became exceptions never arrive: stop after a quiet spell
            let Ok(Ok(msg)) = tokio::time::timeout(Duration::from_secs(5), consumer.recv()).await
            else {
                break;
            };
            let Some(created) = msg.timestamp().to_millis() else {
                continue;
            };
            let Some(payload) = msg.payload() else {
                continue;
            };
            if full {
                use leadflow_events::{DeliveryReceipt, DeliveryStatus, HandoffPacket};
                if msg.topic() == names["packets"] {
                    if let Ok(p) = codec.decode::<HandoffPacket>(payload).await {
                        packet_event.insert(p.packet_id, p.decision.scored.enriched.lead.event_id);
                    }
                } else if let Ok(r) = codec.decode::<DeliveryReceipt>(payload).await {
                    if r.status == DeliveryStatus::Delivered {
                        packet_done.entry(r.packet_id).or_insert(created);
                    }
                }
                for (packet, done) in &packet_done {
                    if let Some(event_id) = packet_event.get(packet) {
                        latencies.entry(event_id.clone()).or_insert(*done);
                    }
                }
                continue;
            }
            if let Some((event_id, done)) = arrival(&codec, &hop, payload, created).await {
                latencies.insert(event_id, done);
            }
        }
    };
    tokio::join!(send, receive);

    let mut ms: Vec<i64> = latencies
        .iter()
        .filter_map(|(id, done)| sent_at.get(id).map(|s| done - s))
        .collect();
    ms.sort_unstable();
    println!(
        "pipeline-latency: {}, {} partitions, {}",
        stages.join(" -> "),
        args.partitions,
        broker.label()
    );
    println!(
        "  sent {} leads{}; {} {}",
        leads.len(),
        args.rate
            .map(|r| format!(" at {r}/s"))
            .unwrap_or_else(|| " as fast as possible".into()),
        ms.len(),
        if full {
            "handed off and delivered to Slack or the CRM (the other leads need no human)"
        } else {
            "decisions arrived (the rest went to the exceptions topic or are duplicates)"
        }
    );
    println!("  latency raw -> {hop}: {}", latency::summary(&ms));
    // from the first lead sent to the last decision produced
    let first_sent = sent_at.values().min().copied().unwrap_or(0);
    // the same percentiles over the leads sent after the first 2 s: the services start with the
    // run (group joins, side-input replay), so the first leads can wait for them
    let mut settled: Vec<i64> = latencies
        .iter()
        .filter_map(|(id, done)| sent_at.get(id).map(|s| (*s, done - s)))
        .filter(|(s, _)| *s >= first_sent + 2_000)
        .map(|(_, l)| l)
        .collect();
    settled.sort_unstable();
    println!(
        "  leads sent after the first 2 s ({}): {}",
        settled.len(),
        latency::summary(&settled)
    );
    let last_done = latencies.values().max().copied().unwrap_or(first_sent);
    let span_s = ((last_done - first_sent).max(1) as f64) / 1000.0;
    println!(
        "  throughput: {:.0} leads/s end to end ({span_s:.1} s from the first lead sent to the last decision)",
        ms.len() as f64 / span_s
    );

    for s in &services {
        if let Some(line) = input_age(s).await {
            println!("  {}: {line}", s.name);
        }
    }
    for s in services {
        let name = s.name.clone();
        let status = s.terminate(Duration::from_secs(30));
        println!("  {name}: exit {status} after SIGTERM");
    }
    drop(broker);
    Ok(())
}

/// How old inputs were when the service received them, from its `/metrics` (bucket shares).
async fn input_age(service: &Service) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let log = service.log();
    let addr = log
        .split("addr=")
        .nth(1)?
        .split_whitespace()
        .next()?
        .to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.ok()?;
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut body = String::new();
    stream.read_to_string(&mut body).await.ok()?;
    let value = |needle: &str| -> Option<f64> {
        body.lines()
            .find(|l| l.contains(needle))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    };
    let share = |metric: &str, le: &str| -> f64 {
        let count = value(&format!("{metric}_count")).unwrap_or(0.0);
        value(&format!("{metric}_bucket{{le=\"{le}\"}}"))
            .map_or(0.0, |n| 100.0 * n / count.max(1.0))
    };
    Some(format!(
        "input age at receive {:.1}% <= 50 ms, {:.1}% <= 250 ms; outputs acknowledged {:.1}% <= 50 ms, {:.1}% <= 250 ms",
        share("_input_age_seconds", "0.05"),
        share("_input_age_seconds", "0.25"),
        share("_delivery_duration_seconds", "0.05"),
        share("_delivery_duration_seconds", "0.25"),
    ))
}

/// The lead's event id and the time it reached the measured hop: the output record's CreateTime for
/// a stage's topic, the receive time for the raw topic.
async fn arrival(codec: &Codec, hop: &str, payload: &[u8], created: i64) -> Option<(String, i64)> {
    use leadflow_events::AnyEvent;
    use leadflow_events::EventKind;
    let topic = hop.trim_end_matches("-received");
    let kind = match topic {
        "raw" => EventKind::LeadEvent,
        "enriched" => EventKind::EnrichedLead,
        "scored" => EventKind::ScoredLead,
        _ => EventKind::TierDecision,
    };
    let event_id = match AnyEvent::decode(codec, kind, payload).await.ok()? {
        AnyEvent::LeadEvent(l) => l.event_id,
        AnyEvent::EnrichedLead(e) => e.lead.event_id,
        AnyEvent::ScoredLead(s) => s.enriched.lead.event_id,
        AnyEvent::TierDecision(d) => d.scored.enriched.lead.event_id,
        _ => return None,
    };
    // receive time for the raw topic and the `-received` hops, the record's CreateTime otherwise
    let at = if topic == "raw" || hop.ends_with("-received") {
        now_ms()
    } else {
        created
    };
    Some((event_id, at))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
