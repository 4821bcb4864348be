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
//! `TRACE_BENCH_LOCATOR=1`: a lead locator (`leadflow_locator`) is served in the bench's process
//! and every trace asks it (no local index: each trace is cold, as a newcomer's first call). Its
//! book is fed by the load's delivery reports (partition and offset of every record), or, when
//! topics are reused or with `TRACE_BENCH_LOCATOR=follow`, by the locator's own consumer reading
//! the topics (its catch-up time and CPU are printed). `TRACE_BENCH_BEFORE=N` also traces the first
//! N leads without locator or index (the scan), in the same run.
//!
//! cargo bench -p leadflow-cli --bench trace            (release)
//! cargo bench --profile dev -p leadflow-cli --bench trace
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::{Duration, Instant};

use leadflow_cli::kafka::CliConfig;
use leadflow_cli::trace::{TraceOptions, collect};
use leadflow_events::{Codec, Event, Timestamp, samples};
use leadflow_locator::api::{Shared, serve};
use leadflow_locator::book::{Book, BookLimits};
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
    /// (topic index in the book, key, write time, delivery)
    pending: Vec<(u16, String, i64, rdkafka::producer::DeliveryFuture)>,
    /// The locator's book, fed from the delivery reports.
    book: Option<Book>,
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
            book: None,
        }
    }

    async fn send(&mut self, topic: &str, key: &str, payload: &[u8], at: i64) {
        let index = self
            .book
            .as_ref()
            .and_then(|b| b.topic_index(topic))
            .unwrap_or(u16::MAX);
        loop {
            let record = FutureRecord::to(topic)
                .key(key)
                .payload(payload)
                .timestamp(at);
            match self.producer.send_result(record) {
                Ok(f) => {
                    self.pending.push((index, key.to_owned(), at, f));
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
        for (index, key, at, f) in self.pending.drain(..) {
            let d = f.await.unwrap().map_err(|(e, _)| e).unwrap();
            let (partition, offset) = (d.partition, d.offset);
            if let Some(book) = self.book.as_mut() {
                book.observe(index, key.as_bytes(), partition, offset, at);
            }
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
    let topic_names: Vec<String> = roles.iter().map(|r| format!("{prefix}.{r}")).collect();
    let locator = match std::env::var("TRACE_BENCH_LOCATOR").as_deref() {
        Ok("1") if reuse.is_none() => Some(Feed::Deliveries),
        Ok("1" | "follow") => Some(Feed::Follow),
        _ => None,
    };
    let mut fed: Option<Book> = None;
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
        if locator == Some(Feed::Deliveries) {
            loader.book = Some(Book::new(topic_names.clone(), BookLimits::default()));
        }
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
        fed = loader.book.take();
    }
    let locator_url = match locator {
        None => None,
        Some(feed) => Some(start_locator(&cfg, &topic_names, feed, fed.take()).await),
    };
    let before = env_num("TRACE_BENCH_BEFORE", 0).min(traced_at.len());
    if before > 0 {
        let scan_opts = TraceOptions {
            index_dir: None,
            locator_url: None,
            ..TraceOptions::default()
        };
        let mut times = Vec::new();
        for i in &traced_at[..before] {
            let t = Instant::now();
            let trace = collect(&cfg, &codec, &lead_of(*i), &scan_opts)
                .await
                .unwrap();
            let read: u64 = trace.scans.iter().map(|(_, s)| s.scanned).sum();
            println!(
                "before (scan, no index) {}: {} steps, {} ms, {read} records read",
                lead_of(*i),
                trace.steps.len(),
                t.elapsed().as_millis()
            );
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "before: scan without index over {before} leads: median {} ms, max {} ms",
            times[times.len() / 2].as_millis(),
            times.last().map_or(0, Duration::as_millis)
        );
    }

    // TRACE_BENCH_INDEX=0: scan the raw partition from its beginning; else a fresh local index
    // (the first trace builds it, the others only catch up)
    let index_dir = tempfile::tempdir().unwrap();
    let use_index = std::env::var("TRACE_BENCH_INDEX").map_or(true, |v| v != "0");
    let use_index = use_index && locator_url.is_none();
    let opts = TraceOptions {
        index_dir: use_index.then(|| index_dir.path().to_path_buf()),
        locator_url: locator_url.clone(),
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
        if locator_url.is_some() {
            assert!(trace.locator.is_some(), "{lead}: the locator was not used");
        }
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
        "trace of {} leads over {records} raw + {records} scored records ({PARTITIONS} partitions, {}): p50 {} ms, p95 {} ms, max {} ms; records read per trace: mean {}",
        times.len(),
        if locator_url.is_some() {
            "locator, no index"
        } else if use_index {
            "index on"
        } else {
            "index off"
        },
        pct(0.5).as_millis(),
        pct(0.95).as_millis(),
        times.last().map_or(0, Duration::as_millis),
        scanned.iter().sum::<u64>() / scanned.len().max(1) as u64
    );
    println!("topics kept: TRACE_BENCH_PREFIX={prefix} reuses them");
}

/// How the bench's locator book is fed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Feed {
    /// From the load's delivery reports.
    Deliveries,
    /// By the locator's own consumer reading the topics.
    Follow,
}

/// Serves a locator in this process; returns its base URL.
async fn start_locator(
    cfg: &CliConfig,
    topics: &[String],
    feed: Feed,
    fed: Option<Book>,
) -> String {
    let book = fed.unwrap_or_else(|| Book::new(topics.to_vec(), BookLimits::default()));
    let shared = Shared::new(book, leadflow_runtime::StageRegistry::new("locator")).unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let addr = serve("127.0.0.1:0", shared.clone(), stop.clone())
        .await
        .unwrap();
    if feed == Feed::Deliveries {
        shared.set_caught_up();
    } else {
        let config = leadflow_runtime::kafka::base_config(cfg);
        let (s, st) = (shared.clone(), stop.clone());
        let cpu0 = cpu_seconds();
        let t = Instant::now();
        std::thread::spawn(move || leadflow_locator::follow::follow(config, &s, &st).unwrap());
        while !shared.caught_up.load(std::sync::atomic::Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let n = shared.metrics.records.get();
        println!(
            "locator caught up: {n} records in {:.1} s, process CPU {:.1} µs per record",
            t.elapsed().as_secs_f64(),
            (cpu_seconds() - cpu0) * 1e6 / n.max(1) as f64
        );
    }
    let book = shared.book.read().unwrap();
    println!(
        "locator book: {} keys, {} B estimated ({:.0} B per key)",
        book.keys(),
        book.bytes(),
        book.bytes() as f64 / book.keys().max(1) as f64
    );
    drop(book);
    drop(stop); // dropping the token does not cancel it: the listener serves on
    format!("http://{addr}")
}

/// This process's user + system CPU time, from /proc/self/stat (0 where unavailable).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat(5); here 11 and 12 after the name
    (ticks(11) + ticks(12)) / 100.0
}
