//! `trace` on large topics: how long finding one lead takes when `leads.raw` and a downstream topic
//! hold a million records each.
//!
//! Loads `TRACE_BENCH_RECORDS` (default 1,000,000) raw lead records and as many scored records into
//! fresh 6-partition topics on the broker at `LEADFLOW_TEST_BOOTSTRAP`, keyed by lead id, with
//! record timestamps spread over 30 days (a month of leads), plus `TRACE_BENCH_LEADS` (default 20)
//! traced leads at random positions with their enriched, scored, tiered and packet records. Then
//! traces each traced lead with `leadflow_cli::trace::collect` and prints the time per trace and the
//! records it read. `TRACE_BENCH_PREFIX=<prefix printed by an earlier run>` reuses loaded topics.
//!
//! cargo bench -p leadflow-cli --bench trace            (release)
//! cargo bench --profile dev -p leadflow-cli --bench trace
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::{Duration, Instant};

use leadflow_cli::kafka::CliConfig;
use leadflow_cli::trace::{TraceOptions, collect};
use leadflow_events::{Codec, Event, Timestamp, samples};
use rand::{Rng, SeedableRng};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;

const PARTITIONS: i32 = 6;
const MONTH_MS: i64 = 30 * 86_400_000;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Loader {
    producer: FutureProducer,
    pending: Vec<rdkafka::producer::DeliveryFuture>,
}

impl Loader {
    fn new(bs: &str) -> Self {
        let producer = ClientConfig::new()
            .set("bootstrap.servers", bs)
            .set("linger.ms", "20")
            .set("batch.num.messages", "10000")
            .set("batch.size", "1000000")
            .set("queue.buffering.max.messages", "1000000")
            .set("queue.buffering.max.kbytes", "2000000")
            .set("message.timeout.ms", "300000")
            .create()
            .unwrap();
        Self {
            producer,
            pending: Vec::new(),
        }
    }

    async fn send(&mut self, topic: &str, key: &str, payload: &[u8], at: i64) {
        loop {
            let record = FutureRecord::to(topic)
                .key(key)
                .payload(payload)
                .timestamp(at);
            match self.producer.send_result(record) {
                Ok(f) => {
                    self.pending.push(f);
                    break;
                }
                Err((e, _)) => {
                    // queue full: wait for what is in flight
                    let _ = e;
                    self.drain().await;
                }
            }
        }
        if self.pending.len() >= 100_000 {
            self.drain().await;
        }
    }

    async fn drain(&mut self) {
        for f in self.pending.drain(..) {
            f.await.unwrap().map_err(|(e, _)| e).unwrap();
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let bs = std::env::var("LEADFLOW_TEST_BOOTSTRAP")
        .expect("set LEADFLOW_TEST_BOOTSTRAP to a broker (scripts/broker.sh start)");
    let records = env_num("TRACE_BENCH_RECORDS", 1_000_000);
    let traced = env_num("TRACE_BENCH_LEADS", 20);
    let reuse = std::env::var("TRACE_BENCH_PREFIX").ok();
    let prefix = reuse
        .clone()
        .unwrap_or_else(|| format!("bench-trace-{}", std::process::id()));
    let roles = [
        "raw",
        "enriched",
        "scored",
        "tiered",
        "packets",
        "deliveries",
        "activity",
        "escalations",
        "outcomes",
        "exceptions",
    ];
    let mut cfg = CliConfig {
        bootstrap_servers: bs.clone(),
        ..CliConfig::default()
    };
    for role in roles {
        let name = format!("{prefix}.{role}");
        match role {
            "raw" => cfg.topics.raw = name,
            "enriched" => cfg.topics.enriched = name,
            "scored" => cfg.topics.scored = name,
            "tiered" => cfg.topics.tiered = name,
            "packets" => cfg.topics.packets = name,
            "deliveries" => cfg.topics.deliveries = name,
            "activity" => cfg.topics.activity = name,
            "escalations" => cfg.topics.escalations = name,
            "outcomes" => cfg.topics.outcomes = name,
            _ => cfg.topics.exceptions = name,
        }
    }
    let codec = Codec::single_object().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(14);
    let traced_at: Vec<usize> = (0..traced).map(|_| rng.random_range(0..records)).collect();
    let lead_of = |i: usize| format!("bench-lead-{i:08}");
    let start = samples::T0.0 - MONTH_MS;
    let at = |i: usize| start + (i as i64) * MONTH_MS / records.max(1) as i64;

    if reuse.is_none() {
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", &bs)
            .create()
            .unwrap();
        let names: Vec<String> = roles.iter().map(|r| format!("{prefix}.{r}")).collect();
        let topics: Vec<NewTopic<'_>> = names
            .iter()
            .map(|n| NewTopic::new(n, PARTITIONS, TopicReplication::Fixed(1)))
            .collect();
        admin
            .create_topics(&topics, &AdminOptions::new())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;

        let mut loader = Loader::new(&bs);
        let filler_raw = codec
            .encode(&cfg.topics.raw, &samples::lead_event())
            .await
            .unwrap();
        let filler_scored = codec
            .encode(&cfg.topics.scored, &samples::scored_lead())
            .await
            .unwrap();
        println!(
            "loading {records} raw ({} B each) and {records} scored ({} B each) records into {prefix}.*",
            filler_raw.len(),
            filler_scored.len()
        );
        let loading = Instant::now();
        for i in 0..records {
            let key = lead_of(i);
            if traced_at.contains(&i) {
                let mut lead = samples::lead_event();
                lead.lead_id = key.clone();
                lead.occurred_at = Timestamp(at(i));
                let mut enriched = samples::enriched_lead();
                enriched.lead = lead.clone();
                let mut scored = samples::scored_lead();
                scored.enriched = enriched.clone();
                let mut tiered = samples::tier_decision();
                tiered.scored = scored.clone();
                let mut packet = samples::handoff_packet();
                packet.decision = tiered.clone();
                let t = at(i);
                let raw_b = codec.encode(&cfg.topics.raw, &lead).await.unwrap();
                loader.send(&cfg.topics.raw, &key, &raw_b, t).await;
                let b = codec.encode(&cfg.topics.enriched, &enriched).await.unwrap();
                loader.send(&cfg.topics.enriched, &key, &b, t + 40).await;
                let b = codec.encode(&cfg.topics.scored, &scored).await.unwrap();
                loader.send(&cfg.topics.scored, &key, &b, t + 70).await;
                let b = codec.encode(&cfg.topics.tiered, &tiered).await.unwrap();
                loader.send(&cfg.topics.tiered, &key, &b, t + 95).await;
                let b = codec.encode(&cfg.topics.packets, &packet).await.unwrap();
                loader
                    .send(&cfg.topics.packets, packet.key(), &b, t + 130)
                    .await;
            } else {
                loader.send(&cfg.topics.raw, &key, &filler_raw, at(i)).await;
                loader
                    .send(&cfg.topics.scored, &key, &filler_scored, at(i) + 70)
                    .await;
            }
            if i > 0 && i % 100_000 == 0 {
                println!(
                    "  {i} leads loaded in {:.0} s ({:.0} records/s)",
                    loading.elapsed().as_secs_f64(),
                    (2 * i) as f64 / loading.elapsed().as_secs_f64()
                );
            }
        }
        loader.drain().await;
        loader
            .producer
            .flush(Timeout::After(Duration::from_secs(60)))
            .unwrap();
        println!(
            "loaded {} records in {:.0} s",
            2 * records,
            loading.elapsed().as_secs_f64()
        );
    }

    // TRACE_BENCH_INDEX=0: scan the raw partition from its beginning; else a fresh local index
    // (the first trace builds it, the others only catch up)
    let index_dir = tempfile::tempdir().unwrap();
    let use_index = std::env::var("TRACE_BENCH_INDEX").map_or(true, |v| v != "0");
    let opts = TraceOptions {
        index_dir: use_index.then(|| index_dir.path().to_path_buf()),
        ..TraceOptions::default()
    };
    if use_index {
        let t = Instant::now();
        let first = collect(&cfg, &codec, &lead_of(traced_at[0]), &opts)
            .await
            .unwrap();
        let built = first.index.clone().unwrap_or_default();
        println!(
            "index built: {} raw records indexed in {} ms (first trace {} ms)",
            built.indexed,
            built.elapsed.as_millis(),
            t.elapsed().as_millis()
        );
    }
    let mut times = Vec::new();
    let mut scanned = Vec::new();
    for i in &traced_at {
        let lead = lead_of(*i);
        let t = Instant::now();
        let trace = collect(&cfg, &codec, &lead, &opts).await.unwrap();
        let elapsed = t.elapsed();
        assert!(
            trace.steps.len() >= 5,
            "{lead}: {} steps found",
            trace.steps.len()
        );
        let read: u64 = trace.scans.iter().map(|(_, s)| s.scanned).sum();
        let raw_read = trace.scans.first().map_or(0, |(_, s)| s.scanned);
        println!(
            "trace {lead}: {} steps, {} ms, {read} records read ({raw_read} of them on raw){}",
            trace.steps.len(),
            elapsed.as_millis(),
            trace.index.as_ref().map_or(String::new(), |c| format!(
                ", index caught up {} records in {} ms",
                c.indexed,
                c.elapsed.as_millis()
            ))
        );
        times.push(elapsed);
        scanned.push(read);
    }
    times.sort();
    let pct = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    println!(
        "trace over {records} raw + {records} scored records ({PARTITIONS} partitions, index {}): p50 {} ms, p95 {} ms, max {} ms; records read per trace: mean {}",
        if use_index { "on" } else { "off" },
        pct(0.5).as_millis(),
        pct(0.95).as_millis(),
        times.last().map_or(0, Duration::as_millis),
        scanned.iter().sum::<u64>() / scanned.len().max(1) as u64
    );
    println!("topics kept: TRACE_BENCH_PREFIX={prefix} reuses them");
}
