//! The whole pipeline at a sustained rate: generated leads on `leads.raw` at `--rate` for
//! `--duration-secs` through the real `leadflow-enrich`, `-score`, `-tier`, `-route`, `-notify` and
//! `-sla-watchdog` processes, notify delivering to the in-process Slack/HubSpot stand-in, which
//! answers after 50–150 ms (`--saas-delay-ms`, `--saas-jitter-ms`).
//!
//! Measures, per handed-off lead sent after `--warmup-secs`: raw record (its CreateTime, stamped at
//! send) → Slack and CRM delivered (the CreateTime of the later of its packet's two `DELIVERED`
//! receipts; the first one too) as p50/p95/p99/max; every `--sample-secs`, each stage's consumer lag
//! (high watermarks − the group's committed offsets on its input) and each process's CPU and resident
//! memory. Prints a table and writes `lag.svg` (lag over time), `latency.svg` (histogram) and
//! `lag.csv` into `--out-dir`.
//!
//! ```text
//! cargo build --release --workspace --bins
//! target/release/pipeline-soak --rate 1000 --duration-secs 600
//! target/release/pipeline-soak --rate 300 --duration-secs 120 --out-dir target/soak-300
//! ```
//! Without `--bootstrap-servers` it starts a private tansu broker (SQLite storage) of its own.
#![allow(clippy::expect_used, clippy::panic)]

mod broker;
mod latency;
mod procstat;
mod stage_env;
mod svg;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use broker::BenchBroker;
use clap::Parser;
use leadflow_events::{Codec, DeliveryReceipt, DeliveryStatus, Event, HandoffPacket, Timestamp};
use leadflow_generate::{DEFAULT_START, LeadGenerator, shift};
use leadflow_sandbox::{FaultMode, FaultSpec, Sandbox, SandboxConfig, Service as SandboxService};
use leadflow_testkit::{StageProcess, create_topic, unique_name};
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

#[derive(Parser, Debug)]
#[command(about = "The whole pipeline at a sustained rate: latency, lag, CPU and memory")]
struct Args {
    /// Leads per second.
    #[arg(long, default_value_t = 1_000)]
    rate: u32,
    /// How long to send, in seconds.
    #[arg(long, default_value_t = 600)]
    duration_secs: u64,
    /// Leads sent in the first seconds are left out of the latency figures (group joins, caches).
    #[arg(long, default_value_t = 60)]
    warmup_secs: u64,
    /// After sending, how long to wait at most for every stage to catch up.
    #[arg(long, default_value_t = 120)]
    drain_secs: u64,
    /// Partitions per data topic.
    #[arg(long, default_value_t = 6)]
    partitions: i32,
    /// The Slack/HubSpot stand-in answers after this many ms ...
    #[arg(long, default_value_t = 50)]
    saas_delay_ms: u64,
    /// ... plus up to this many more (uniform).
    #[arg(long, default_value_t = 100)]
    saas_jitter_ms: u64,
    /// Lag, CPU and memory are sampled this often.
    #[arg(long, default_value_t = 2)]
    sample_secs: u64,
    /// Where the plots and the CSV go.
    #[arg(long, default_value = "target/pipeline-soak")]
    out_dir: PathBuf,
    /// An existing broker; a private tansu is started when absent.
    #[arg(long)]
    bootstrap_servers: Option<String>,
}

/// A stage process and the topic its group consumes.
struct Stage {
    name: &'static str,
    input: &'static str,
    group: String,
    process: StageProcess,
}

/// One sample of every stage's lag and every process's CPU seconds and RSS.
#[derive(Clone, Debug)]
struct Sample {
    at_s: f64,
    lag: Vec<i64>,
    cpu_s: Vec<f64>,
    rss: Vec<u64>,
}

const STAGES: [(&str, &str); 6] = [
    ("enrich", "raw"),
    ("score", "enriched"),
    ("tier", "scored"),
    ("route", "tiered"),
    ("notify", "packets"),
    ("sla-watchdog", "packets"),
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("creating {}", args.out_dir.display()))?;
    let broker = BenchBroker::given_or_private(args.bootstrap_servers.as_deref()).await?;
    let bs = broker.bootstrap.clone();
    let names: BTreeMap<&str, String> = [
        "raw",
        "enriched",
        "dedup_keys",
        "scored",
        "tiered",
        "packets",
        "deliveries",
        "activity",
        "escalations",
        "sla_outcomes",
        "reps",
        "model_params",
        "exceptions",
    ]
    .into_iter()
    .map(|r| (r, unique_name(&format!("soak-{}", r.replace('_', "-")))))
    .collect();
    for (role, topic) in &names {
        let partitions = if matches!(*role, "model_params" | "reps") {
            1
        } else {
            args.partitions
        };
        create_topic(&bs, topic, partitions).await;
    }
    let codec = Codec::single_object()?;
    let since = Timestamp(chrono::Utc::now().timestamp_millis() - 86_400_000);
    leadflow_e2e::publish_sample_roster(&bs, &names["reps"], &codec, since).await;
    let sandbox = Sandbox::start(SandboxConfig::default()).await?;
    for service in [SandboxService::Slack, SandboxService::Hubspot] {
        sandbox.state.set_fault(
            service,
            FaultSpec::new(FaultMode::Slow)
                .delay(Duration::from_millis(args.saas_delay_ms))
                .jitter(Duration::from_millis(args.saas_jitter_ms)),
        );
    }

    let logs = tempfile::tempdir()?;
    let stages: Vec<Stage> = STAGES
        .iter()
        .map(|(name, input)| {
            let group = unique_name(&format!("soak-{name}"));
            let mut env = stage_env::stage_env(name, &bs, &group, &names, "warn");
            if *name == "notify" {
                env.extend(leadflow_e2e::notify_sandbox_vars(&sandbox));
            }
            let binary = leadflow_e2e::bin(&format!("leadflow-{name}"));
            Stage {
                name,
                input,
                group,
                process: StageProcess::start(&binary, &env, logs.path(), name),
            }
        })
        .collect();
    let broker_pid = broker.private.as_ref().and_then(|b| b.pid());
    let mut processes: Vec<(String, u32)> = stages
        .iter()
        .map(|s| (s.name.to_owned(), s.process.pid()))
        .collect();
    if let Some(pid) = broker_pid {
        processes.push(("broker (tansu)".into(), pid));
    }
    processes.push(("harness + stand-in".into(), std::process::id()));

    // sampling: lag per stage group, CPU and memory per process
    let started = Instant::now();
    let samples: Arc<Mutex<Vec<Sample>>> = Arc::default();
    let stop_sampling = Arc::new(AtomicBool::new(false));
    let sampler = {
        let groups: Vec<(String, String)> = stages
            .iter()
            .map(|s| (s.group.clone(), names[s.input].clone()))
            .collect();
        let pids: Vec<u32> = processes.iter().map(|p| p.1).collect();
        let (bs, samples, stop) = (bs.clone(), samples.clone(), stop_sampling.clone());
        let every = Duration::from_secs(args.sample_secs.max(1));
        std::thread::spawn(move || {
            sample_loop(&bs, &groups, &pids, started, every, &samples, &stop)
        })
    };

    // receive packets and receipts while sending
    let done_sending = Arc::new(AtomicBool::new(false));
    let receiver = tokio::spawn(receive(
        bs.clone(),
        names["packets"].clone(),
        names["deliveries"].clone(),
        Codec::single_object()?,
        done_sending.clone(),
    ));
    let sent = send(&bs, &names["raw"], &codec, args.rate, args.duration_secs).await?;
    let send_end_s = started.elapsed().as_secs_f64();

    // drain: until every stage's lag is back to zero, or drain_secs
    let drain_deadline = Instant::now() + Duration::from_secs(args.drain_secs);
    let mut drained = false;
    while Instant::now() < drain_deadline {
        tokio::time::sleep(Duration::from_secs(args.sample_secs.max(1))).await;
        let last = samples.lock().expect("samples").last().cloned();
        if last.is_some_and(|s| s.at_s > send_end_s && s.lag.iter().all(|l| *l == 0)) {
            drained = true;
            break;
        }
    }
    let drain_s = started.elapsed().as_secs_f64() - send_end_s;
    done_sending.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop_sampling.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let delivered = receiver.await??;

    // latencies over the leads sent after the warm-up
    let warm_from = sent.first_ms + i64::try_from(args.warmup_secs * 1_000).unwrap_or(i64::MAX);
    let mut both: Vec<i64> = Vec::new();
    let mut first: Vec<i64> = Vec::new();
    // the two hops of `both`: raw → packet (enrich, score, tier, route and the broker between them)
    // and packet → both delivered (notify, the stand-in); with the send time, for the tail over time
    let mut hops: Vec<Hops> = Vec::new();
    let mut all_leads = 0usize;
    for (event_id, d) in &delivered {
        let Some(sent_ms) = sent.at.get(event_id) else {
            continue;
        };
        all_leads += 1;
        if *sent_ms < warm_from {
            continue;
        }
        first.push(d.first_ms - sent_ms);
        if d.channels >= 2 {
            both.push(d.last_ms - sent_ms);
            hops.push(Hops {
                sent_s: (sent_ms - sent.first_ms) as f64 / 1_000.0,
                to_packet_ms: d.packet_ms - sent_ms,
                to_delivered_ms: d.last_ms - d.packet_ms,
                total_ms: d.last_ms - sent_ms,
            });
        }
    }
    both.sort_unstable();
    first.sort_unstable();

    let samples = samples.lock().expect("samples").clone();
    println!(
        "pipeline-soak: enrich -> score -> tier -> route -> notify (+ sla-watchdog), {} partitions, {}",
        args.partitions,
        broker.label()
    );
    println!(
        "  sent {} leads at {}/s for {} s (the sender fell behind its schedule by at most {} ms; the broker acknowledged the last one {:.1} s after the first was sent; {} sends failed); the Slack/CRM stand-in answers in {}-{} ms",
        sent.count,
        args.rate,
        args.duration_secs,
        sent.max_behind_ms,
        sent.acked_after_s,
        sent.failed,
        args.saas_delay_ms,
        args.saas_delay_ms + args.saas_jitter_ms
    );
    println!(
        "  handed off and delivered: {all_leads} leads; {} sent after the {} s warm-up",
        first.len(),
        args.warmup_secs
    );
    println!(
        "  raw -> Slack and CRM both delivered ({} leads): {}",
        both.len(),
        latency::summary(&both)
    );
    println!(
        "  raw -> first channel delivered ({} leads): {}",
        first.len(),
        latency::summary(&first)
    );
    report_hops(&hops);
    println!(
        "  after sending: {} in {drain_s:.0} s",
        if drained {
            "every stage caught up"
        } else {
            "NOT caught up"
        }
    );
    let longest_gap = samples
        .windows(2)
        .map(|w| w[1].at_s - w[0].at_s)
        .fold(0.0, f64::max);
    println!(
        "  longest gap between lag samples (every {} s): {longest_gap:.1} s (a longer gap is the broker not answering)",
        args.sample_secs
    );
    report_stages(&stages, &samples, send_end_s, args.warmup_secs as f64);
    report_processes(&processes, &samples, args.warmup_secs as f64, send_end_s);
    write_outputs(&args, &stages, &samples, &both)?;
    write_latency_over_time(&args, &hops)?;

    drop(sandbox);
    for s in stages {
        let name = s.name;
        let status = s.process.terminate(Duration::from_secs(30));
        println!("  {name}: exit {status} after SIGTERM");
    }
    drop(broker);
    Ok(())
}

/// What the sender did: each event id's send time (the raw record's CreateTime).
struct Sent {
    at: HashMap<String, i64>,
    first_ms: i64,
    count: usize,
    failed: u64,
    max_behind_ms: u128,
    /// When the broker had acknowledged every lead, from the first send.
    acked_after_s: f64,
}

/// Sends generated leads, open loop: lead *i* is due at start + i / rate; each lead's times are moved
/// to now (its SLA deadlines run on the real clock, as the watchdog sees them).
async fn send(
    bs: &str,
    topic: &str,
    codec: &Codec,
    rate: u32,
    duration_secs: u64,
) -> anyhow::Result<Sent> {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bs)
        .set("linger.ms", "5")
        .create()
        .context("lead producer")?;
    let failed = Arc::new(AtomicU64::new(0));
    let mut generator = LeadGenerator::new(5, Timestamp::parse_rfc3339(DEFAULT_START)?);
    let total = u64::from(rate) * duration_secs;
    let gap = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let start = Instant::now();
    let mut sent = Sent {
        at: HashMap::with_capacity(usize::try_from(total).unwrap_or(0)),
        first_ms: now_ms(),
        count: 0,
        failed: 0,
        max_behind_ms: 0,
        acked_after_s: 0.0,
    };
    let mut pending = Vec::new();
    let mut ack_tasks = Vec::new();
    for i in 0..total {
        let due = start + gap.mul_f64(i as f64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            tokio::time::sleep(wait).await;
        } else {
            sent.max_behind_ms = sent.max_behind_ms.max(due.elapsed().as_millis());
        }
        let mut lead = generator.next_lead().event;
        let now = now_ms();
        let delta = now - lead.occurred_at.0;
        shift(&mut lead, delta);
        let bytes = codec.encode(topic, &lead).await?;
        let record = FutureRecord::to(topic)
            .key(lead.key())
            .payload(&bytes)
            .timestamp(now);
        match producer.send_result(record) {
            Ok(delivery) => pending.push(delivery),
            Err(_) => {
                failed.fetch_add(1, Ordering::Relaxed);
            }
        }
        sent.at.insert(lead.event_id, now);
        sent.count += 1;
        // acknowledgements are collected in batches, never holding up the schedule
        if pending.len() >= 1_000 {
            let batch = std::mem::take(&mut pending);
            let failed = failed.clone();
            ack_tasks.push(tokio::spawn(async move {
                for d in batch {
                    if !matches!(d.await, Ok(Ok(_))) {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
    }
    for d in pending {
        if !matches!(d.await, Ok(Ok(_))) {
            failed.fetch_add(1, Ordering::Relaxed);
        }
    }
    for t in ack_tasks {
        let _ = t.await;
    }
    sent.acked_after_s = start.elapsed().as_secs_f64();
    sent.failed = failed.load(Ordering::Relaxed);
    Ok(sent)
}

/// Delivery of one lead's packet: its first and last `DELIVERED` receipt and how many channels,
/// and when route wrote the packet (its CreateTime), which splits the latency into the hops before
/// and after notify.
#[derive(Clone, Copy, Debug)]
struct Delivered {
    first_ms: i64,
    last_ms: i64,
    channels: u8,
    packet_ms: i64,
}

/// Reads packets (packet → the lead's raw event id) and receipts until `done` is set (the stages
/// caught up, or the drain time ran out) and 10 s passed without a record; returns the delivery per
/// raw event id.
async fn receive(
    bs: String,
    packets: String,
    deliveries: String,
    codec: Codec,
    done: Arc<AtomicBool>,
) -> anyhow::Result<HashMap<String, Delivered>> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &bs)
        .set("group.id", unique_name("soak-reader"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "20")
        .create()
        .context("receipt consumer")?;
    consumer.subscribe(&[packets.as_str(), deliveries.as_str()])?;
    let mut event_of: HashMap<String, (String, i64)> = HashMap::new();
    let mut by_packet: HashMap<String, (Delivered, Vec<String>)> = HashMap::new();
    let mut idle = Duration::ZERO;
    loop {
        let Ok(next) = tokio::time::timeout(Duration::from_secs(1), consumer.recv()).await else {
            idle += Duration::from_secs(1);
            if done.load(Ordering::Relaxed) && idle >= Duration::from_secs(10) {
                break;
            }
            continue;
        };
        idle = Duration::ZERO;
        let Ok(msg) = next else { continue };
        let (Some(created), Some(payload)) = (msg.timestamp().to_millis(), msg.payload()) else {
            continue;
        };
        if msg.topic() == packets {
            if let Ok(p) = codec.decode::<HandoffPacket>(payload).await {
                event_of
                    .entry(p.packet_id)
                    .or_insert((p.decision.scored.enriched.lead.event_id, created));
            }
        } else if let Ok(r) = codec.decode::<DeliveryReceipt>(payload).await {
            if r.status != DeliveryStatus::Delivered {
                continue;
            }
            let channel = format!("{:?}", r.channel);
            let (d, channels) = by_packet.entry(r.packet_id).or_insert((
                Delivered {
                    first_ms: created,
                    last_ms: created,
                    channels: 0,
                    packet_ms: 0,
                },
                Vec::new(),
            ));
            if !channels.contains(&channel) {
                channels.push(channel);
                d.channels += 1;
                d.first_ms = d.first_ms.min(created);
                d.last_ms = d.last_ms.max(created);
            }
        }
    }
    Ok(by_packet
        .into_iter()
        .filter_map(|(packet, (d, _))| {
            event_of.get(&packet).map(|(e, packet_ms)| {
                let d = Delivered {
                    packet_ms: *packet_ms,
                    ..d
                };
                (e.clone(), d)
            })
        })
        .collect())
}

fn sample_loop(
    bs: &str,
    groups: &[(String, String)],
    pids: &[u32],
    started: Instant,
    every: Duration,
    samples: &Mutex<Vec<Sample>>,
    stop: &AtomicBool,
) {
    let clients: Vec<Option<BaseConsumer>> = groups
        .iter()
        .map(|(group, _)| {
            ClientConfig::new()
                .set("bootstrap.servers", bs)
                .set("group.id", group)
                .set("enable.auto.commit", "false")
                .create()
                .ok()
        })
        .collect();
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        let lag = groups
            .iter()
            .zip(&clients)
            .map(|((_, topic), c)| c.as_ref().map_or(-1, |c| group_lag(c, topic)))
            .collect();
        let cpu_s = pids
            .iter()
            .map(|p| procstat::cpu_seconds(*p).unwrap_or(f64::NAN))
            .collect();
        let rss = pids
            .iter()
            .map(|p| procstat::rss_bytes(*p).unwrap_or(0))
            .collect();
        samples.lock().expect("samples").push(Sample {
            at_s: started.elapsed().as_secs_f64(),
            lag,
            cpu_s,
            rss,
        });
        std::thread::sleep(every.saturating_sub(t.elapsed()));
    }
}

/// Records on `topic` the group has not committed: the sum over partitions of the high watermark
/// minus the committed offset (the low watermark for a partition without a commit).
fn group_lag(consumer: &BaseConsumer, topic: &str) -> i64 {
    let timeout = Duration::from_secs(5);
    let Ok(meta) = consumer.fetch_metadata(Some(topic), timeout) else {
        return -1;
    };
    let Some(t) = meta.topics().first() else {
        return -1;
    };
    let mut tpl = TopicPartitionList::new();
    for p in t.partitions() {
        tpl.add_partition(topic, p.id());
    }
    let Ok(committed) = consumer.committed_offsets(tpl, timeout) else {
        return -1;
    };
    let mut lag = 0;
    for e in committed.elements() {
        let Ok((low, high)) = consumer.fetch_watermarks(topic, e.partition(), timeout) else {
            return -1;
        };
        let at = match e.offset() {
            Offset::Offset(o) => o,
            _ => low,
        };
        lag += (high - at).max(0);
    }
    lag
}

fn report_stages(stages: &[Stage], samples: &[Sample], send_end_s: f64, warmup_s: f64) {
    println!(
        "  consumer lag (records behind on the stage's input), after the warm-up while sending:"
    );
    println!(
        "    {:<14} {:>9} {:>9} {:>12}",
        "stage", "median", "max", "at send end"
    );
    for (i, s) in stages.iter().enumerate() {
        let mut during: Vec<i64> = samples
            .iter()
            .filter(|x| x.at_s >= warmup_s && x.at_s <= send_end_s)
            .filter_map(|x| x.lag.get(i).copied())
            .collect();
        during.sort_unstable();
        let at_end = samples
            .iter()
            .rev()
            .find(|x| x.at_s <= send_end_s)
            .and_then(|x| x.lag.get(i).copied())
            .unwrap_or(-1);
        println!(
            "    {:<14} {:>9} {:>9} {:>12}",
            s.name,
            during.get(during.len() / 2).copied().unwrap_or(-1),
            during.last().copied().unwrap_or(-1),
            at_end
        );
    }
}

fn report_processes(processes: &[(String, u32)], samples: &[Sample], from_s: f64, to_s: f64) {
    let window: Vec<&Sample> = samples
        .iter()
        .filter(|x| x.at_s >= from_s && x.at_s <= to_s)
        .collect();
    println!("  per process, after the warm-up while sending (cores = CPU seconds per second):");
    println!("    {:<20} {:>7} {:>12}", "process", "cores", "max RSS MiB");
    for (i, (name, _)) in processes.iter().enumerate() {
        let cores = match (window.first(), window.last()) {
            (Some(a), Some(b)) if b.at_s > a.at_s => (b.cpu_s[i] - a.cpu_s[i]) / (b.at_s - a.at_s),
            _ => f64::NAN,
        };
        let rss = samples.iter().map(|x| x.rss[i]).max().unwrap_or(0);
        println!(
            "    {:<20} {:>7.2} {:>12.0}",
            name,
            cores,
            rss as f64 / 1_048_576.0
        );
    }
}

fn write_outputs(
    args: &Args,
    stages: &[Stage],
    samples: &[Sample],
    latencies: &[i64],
) -> anyhow::Result<()> {
    let series: Vec<svg::Series> = stages
        .iter()
        .enumerate()
        .map(|(i, s)| svg::Series {
            name: s.name.to_owned(),
            points: samples
                .iter()
                .map(|x| (x.at_s, x.lag[i].max(0) as f64))
                .collect(),
        })
        .collect();
    let title = format!(
        "consumer lag per stage, {} leads/s for {} s",
        args.rate, args.duration_secs
    );
    std::fs::write(
        args.out_dir.join("lag.svg"),
        svg::lines(
            &title,
            "seconds since the first lead",
            "records behind",
            &series,
        ),
    )?;
    let mut csv = String::from("seconds");
    for s in stages {
        csv.push(',');
        csv.push_str(s.name);
    }
    csv.push('\n');
    for x in samples {
        csv.push_str(&format!("{:.1}", x.at_s));
        for l in &x.lag {
            csv.push_str(&format!(",{l}"));
        }
        csv.push('\n');
    }
    std::fs::write(args.out_dir.join("lag.csv"), csv)?;
    let edges = [
        0, 100, 150, 200, 250, 300, 400, 500, 750, 1_000, 2_000, 5_000,
    ];
    let mut counts = vec![0u64; edges.len()];
    for l in latencies {
        let i = edges.iter().rposition(|e| l >= e).unwrap_or(0);
        counts[i] += 1;
    }
    let labels: Vec<String> = edges
        .iter()
        .enumerate()
        .map(|(i, e)| match edges.get(i + 1) {
            Some(n) if *n > 1_000 => format!("{}-{} s", e / 1_000, n / 1_000),
            Some(n) => format!("{e}-{n}"),
            None => format!("{} s+", e / 1_000),
        })
        .collect();
    std::fs::write(
        args.out_dir.join("latency.svg"),
        svg::histogram(
            &format!(
                "raw -> Slack and CRM delivered, ms ({} leads after the warm-up)",
                latencies.len()
            ),
            "milliseconds",
            &labels,
            &counts,
        ),
    )?;
    println!(
        "  plots: {0}/lag.svg, {0}/latency.svg; lag samples: {0}/lag.csv",
        args.out_dir.display()
    );
    Ok(())
}

/// Picks one latency of a lead's [`Hops`].
type HopOf = fn(&Hops) -> i64;

/// One handed-off lead's latency, split at the packet.
struct Hops {
    /// When it was sent, seconds after the first lead.
    sent_s: f64,
    to_packet_ms: i64,
    to_delivered_ms: i64,
    total_ms: i64,
}

/// Where the time goes: raw → packet and packet → delivered, over all leads after the warm-up and
/// per minute of sending (a tail that grows with time shows here).
fn report_hops(hops: &[Hops]) {
    let sorted = |f: HopOf, of: &[&Hops]| {
        let mut v: Vec<i64> = of.iter().map(|h| f(h)).collect();
        v.sort_unstable();
        v
    };
    let all: Vec<&Hops> = hops.iter().collect();
    println!(
        "    of which raw -> packet (enrich, score, tier, route, the broker): {}",
        latency::summary(&sorted(|h| h.to_packet_ms, &all))
    );
    println!(
        "    and packet -> both delivered (notify, the stand-in): {}",
        latency::summary(&sorted(|h| h.to_delivered_ms, &all))
    );
    println!("  p99 per minute of sending, ms (raw -> packet / packet -> delivered / total):");
    let last_minute = hops.iter().map(|h| h.sent_s as u64 / 60).max().unwrap_or(0);
    for minute in 0..=last_minute {
        let of: Vec<&Hops> = hops
            .iter()
            .filter(|h| h.sent_s as u64 / 60 == minute)
            .collect();
        if of.is_empty() {
            continue;
        }
        let p99 = |v: Vec<i64>| v[((v.len() as f64 - 1.0) * 0.99).round() as usize];
        println!(
            "    minute {:>2}: {:>6} / {:>6} / {:>6}  ({} leads)",
            minute + 1,
            p99(sorted(|h| h.to_packet_ms, &of)),
            p99(sorted(|h| h.to_delivered_ms, &of)),
            p99(sorted(|h| h.total_ms, &of)),
            of.len()
        );
    }
}

/// `latency-over-time.svg`: p50 and p99 per 10 s of sending, total and per hop.
fn write_latency_over_time(args: &Args, hops: &[Hops]) -> anyhow::Result<()> {
    const WINDOW_S: f64 = 10.0;
    let windows = hops
        .iter()
        .map(|h| (h.sent_s / WINDOW_S) as usize)
        .max()
        .map_or(0, |w| w + 1);
    let pick: [(&str, HopOf, f64); 4] = [
        ("p99 raw -> delivered", |h| h.total_ms, 0.99),
        ("p50 raw -> delivered", |h| h.total_ms, 0.5),
        ("p99 raw -> packet", |h| h.to_packet_ms, 0.99),
        ("p99 packet -> delivered", |h| h.to_delivered_ms, 0.99),
    ];
    let series: Vec<svg::Series> = pick
        .iter()
        .map(|(name, f, q)| svg::Series {
            name: (*name).to_owned(),
            points: (0..windows)
                .filter_map(|w| {
                    let mut v: Vec<i64> = hops
                        .iter()
                        .filter(|h| (h.sent_s / WINDOW_S) as usize == w)
                        .map(f)
                        .collect();
                    v.sort_unstable();
                    let at = ((v.len() as f64 - 1.0) * q).round() as usize;
                    v.get(at)
                        .map(|ms| ((w as f64 + 0.5) * WINDOW_S, *ms as f64))
                })
                .collect(),
        })
        .collect();
    std::fs::write(
        args.out_dir.join("latency-over-time.svg"),
        svg::lines(
            &format!(
                "latency per 10 s of sending, {} leads/s for {} s",
                args.rate, args.duration_secs
            ),
            "seconds since the first lead (when it was sent)",
            "milliseconds",
            &series,
        ),
    )?;
    println!(
        "  latency over time: {}/latency-over-time.svg",
        args.out_dir.display()
    );
    Ok(())
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
