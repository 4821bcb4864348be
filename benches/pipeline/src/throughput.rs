//! Throughput of each stage against a plain rdkafka pass-through, over the same preloaded data.
//!
//! In one run on one broker: generate `--count` leads into `leads.raw` (3 partitions), then for each
//! stage in pipeline order (enrich, score, tier):
//! 1. a plain rdkafka at-least-once pass-through (a child process of this binary: consume, produce the
//!    same bytes, store each offset after its record's acknowledgement, in order) over the stage's
//!    input topic,
//! 2. the stage's service binary alone over the same topic (its output is the next stage's input).
//!
//! Each process is measured from its first output record to its last (so group join and start-up
//! are left out): records/s, and CPU µs per record from the process's utime+stime over the same
//! span (`/proc/<pid>/stat`). Prints the ratio of each stage to the pass-through over its input, and
//! how many records enrich's dedup changelog took for its leads (the send gate joins its entries).
//!
//! ```text
//! cargo build --release --workspace
//! target/release/stage-throughput --count 30000
//! ```
#![allow(clippy::expect_used, clippy::panic)]

mod broker;
mod procstat;
mod stage_env;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use broker::BenchBroker;
use clap::Parser;
use futures::stream::{FuturesOrdered, StreamExt};
use leadflow_events::{Codec, Event, Timestamp};
use leadflow_generate::{DEFAULT_START, LeadGenerator};
use leadflow_testkit::StageProcess;
use leadflow_testkit::{create_topic, unique_name};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

#[derive(Parser, Debug)]
#[command(about = "Records/s and CPU per record of each stage vs a plain rdkafka pass-through")]
struct Args {
    /// Leads to preload.
    #[arg(long, default_value_t = 30_000)]
    count: usize,
    /// An existing broker; a private tansu is started when absent.
    #[arg(long)]
    bootstrap_servers: Option<String>,
    /// Partitions per topic.
    #[arg(long, default_value_t = 3)]
    partitions: i32,
    /// Stages to measure (in pipeline order; each needs the previous one's output).
    #[arg(long, value_delimiter = ',', default_value = "enrich,score,tier")]
    stages: Vec<String>,
    /// Record a `perf` profile of each measured process over the measured span into this directory
    /// (`<process>.perf.data`; read with `perf report -i FILE --no-children --sort symbol`).
    #[arg(long)]
    perf_dir: Option<std::path::PathBuf>,
    /// Internal: run as the pass-through process `IN,OUT,GROUP,BOOTSTRAP`.
    #[arg(long, hide = true)]
    passthrough: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(spec) = &args.passthrough {
        return passthrough(spec).await;
    }
    let broker = BenchBroker::given_or_private(args.bootstrap_servers.as_deref()).await?;
    let bs = broker.bootstrap.clone();
    let roles = [
        "raw",
        "enriched",
        "dedup_keys",
        "scored",
        "tiered",
        "model_params",
        "exceptions",
        // tier's side input (the nurture enrolments of its rule N1), empty here
        "activity",
    ];
    let names: BTreeMap<&str, String> = roles
        .into_iter()
        .map(|r| (r, unique_name(&format!("tp-{}", r.replace('_', "-")))))
        .collect();
    for (role, topic) in &names {
        let n = if *role == "model_params" {
            1
        } else {
            args.partitions
        };
        create_topic(&bs, topic, n).await;
    }

    // preload
    let codec = Codec::single_object()?;
    let mut generator = LeadGenerator::new(5, Timestamp::parse_rfc3339(DEFAULT_START)?);
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &bs)
        .set("linger.ms", "5")
        .create()
        .context("preload producer")?;
    let mut acks = FuturesOrdered::new();
    for _ in 0..args.count {
        let lead = generator.next_lead().event;
        let bytes = codec.encode(&names["raw"], &lead).await?;
        let key = lead.key().to_owned();
        loop {
            match producer.send_result(FutureRecord::to(&names["raw"]).key(&key).payload(&bytes)) {
                Ok(f) => {
                    acks.push_back(f);
                    break;
                }
                Err(_) => {
                    while acks.len() > 1000 {
                        let _ = acks.next().await;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        }
    }
    while let Some(r) = acks.next().await {
        r?.map_err(|(e, _)| e)?;
    }
    eprintln!(
        "preloaded {} leads on {} ({})",
        args.count,
        names["raw"],
        broker.label()
    );

    let logs = tempfile::tempdir()?;
    let exe = std::env::current_exe()?;
    let mut rows = Vec::new();
    let mut expected = args.count as i64;
    let mut changelog = None;
    for stage in &args.stages {
        let (input, output) = match stage.as_str() {
            "enrich" => ("raw", "enriched"),
            "score" => ("enriched", "scored"),
            "tier" => ("scored", "tiered"),
            other => anyhow::bail!("unknown stage {other}"),
        };
        // the pass-through copies the stage's input to a topic of its own
        let copy = unique_name(&format!("tp-copy-{input}"));
        create_topic(&bs, &copy, args.partitions).await;
        let spec = format!(
            "{},{copy},{},{bs}",
            names[input],
            unique_name("tp-passthrough")
        );
        let child = std::process::Command::new(&exe)
            .args(["--passthrough", &spec])
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .context("pass-through process")?;
        let perf = args
            .perf_dir
            .as_ref()
            .map(|d| d.join(format!("passthrough-{input}.perf.data")));
        let broker_pid = broker.private.as_ref().and_then(|b| b.pid()).map(Pid);
        let pass = measure(
            &bs,
            &copy,
            expected,
            Pid(child.id()),
            broker_pid,
            child,
            perf,
        )
        .await?;
        rows.push((format!("pass-through over {input}"), pass, None));

        let mut env = stage_env::stage_env(
            stage,
            &bs,
            &unique_name(&format!("tp-{stage}")),
            &names,
            "warn",
        );
        // every input ends on the output topic or (poison) on the exceptions topic, which each
        // stage run gets fresh
        let exceptions = unique_name(&format!("tp-exceptions-{stage}"));
        create_topic(&bs, &exceptions, 1).await;
        env.insert("LEADFLOW_TOPICS__EXCEPTIONS".to_owned(), exceptions.clone());
        let watched = format!("{},{exceptions}", names[output]);
        let binary = leadflow_e2e::bin(&format!("leadflow-{stage}"));
        let service = StageProcess::start(&binary, &env, logs.path(), stage);
        let pid = Pid(service.pid());
        let perf = args
            .perf_dir
            .as_ref()
            .map(|d| d.join(format!("{stage}.perf.data")));
        let m = measure(&bs, &watched, expected, pid, broker_pid, service, perf).await?;
        rows.push((format!("leadflow-{stage}"), m, Some(pass)));
        expected = high_watermarks(&bs, &names[output])?;
        if stage == "enrich" {
            // the dedup changelog's records: what every enrich instance reads back
            changelog = Some((high_watermarks(&bs, &names["dedup_keys"])?, expected));
        }
    }

    println!(
        "\n{} leads, {} partitions, {}\n",
        args.count,
        args.partitions,
        broker.label()
    );
    println!(
        "| process | records | records/s | CPU µs/record | × pass-through records/s | × pass-through CPU/record | broker CPU µs/record |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, m, base) in rows {
        let (r, c) = match base {
            Some(b) => (
                format!("{:.2}", m.rate() / b.rate()),
                format!("{:.2}", m.cpu_us_per_record() / b.cpu_us_per_record()),
            ),
            None => ("1.00".into(), "1.00".into()),
        };
        let broker_cpu = m
            .broker_cpu_us_per_record()
            .map_or_else(|| "-".to_owned(), |us| format!("{us:.1}"));
        println!(
            "| {name} | {} | {:.0} | {:.1} | {r} | {c} | {broker_cpu} |",
            m.records,
            m.rate(),
            m.cpu_us_per_record()
        );
    }
    if let Some((records, leads)) = changelog {
        println!(
            "\nenrich's dedup changelog: {records} records for {leads} enriched leads \
             ({:.1} leads per record, {:.3} records per lead)",
            leads as f64 / records.max(1) as f64,
            records as f64 / leads.max(1) as f64
        );
    }
    Ok(())
}

#[derive(Clone, Copy, Debug)]
struct Pid(u32);

#[derive(Clone, Copy, Debug)]
struct Measured {
    records: i64,
    seconds: f64,
    cpu_seconds: f64,
    /// The private broker's CPU over the same span (none for a given broker).
    broker_cpu_seconds: Option<f64>,
}

impl Measured {
    fn rate(&self) -> f64 {
        self.records as f64 / self.seconds
    }
    fn cpu_us_per_record(&self) -> f64 {
        self.cpu_seconds * 1e6 / self.records as f64
    }
    fn broker_cpu_us_per_record(&self) -> Option<f64> {
        self.broker_cpu_seconds
            .map(|s| s * 1e6 / self.records as f64)
    }
}

/// Something the measurement stops at the end.
trait Stoppable: Send + 'static {
    fn stop(self);
}

impl Stoppable for std::process::Child {
    fn stop(mut self) {
        let _ = self.kill();
        let _ = self.wait();
    }
}

impl Stoppable for StageProcess {
    fn stop(self) {
        let _ = self.terminate(Duration::from_secs(30));
    }
}

/// How long the output may stay unchanged before a measurement ends short of `expected` (an input
/// that yields no output, e.g. a repeated event, or a stage that stalled: reported as such).
const STALL: Duration = Duration::from_secs(5);
/// How often the output topics' high watermarks are read (one long-lived client: a client per poll
/// would load the machine the measured process runs on).
const POLL: Duration = Duration::from_millis(25);

/// Waits for `expected` records on `output` (comma-separated topics: outputs and exceptions);
/// measures from the first to the last.
async fn measure(
    bs: &str,
    output: &str,
    expected: i64,
    pid: Pid,
    broker: Option<Pid>,
    process: impl Stoppable,
    perf: Option<std::path::PathBuf>,
) -> anyhow::Result<Measured> {
    let give_up = Instant::now() + Duration::from_secs(900);
    let watermarks = Watermarks::new(bs, output)?;
    eprintln!(
        "measuring {output} ({} partitions), pid {}",
        watermarks.partitions.len(),
        pid.0
    );
    // the first output: start of the measured span
    let mut polls = 0u64;
    let broker_cpu = || broker.map(cpu_seconds).transpose();
    let (t0, cpu0, n0) = loop {
        let n = watermarks.total()?;
        polls += 1;
        if polls % 200 == 0 {
            eprintln!("{output}: waiting for the first output");
        }
        anyhow::ensure!(
            !exited(pid),
            "the measured process {} exited before its first output (see its log)",
            pid.0
        );
        if n > 0 {
            break (Instant::now(), cpu_seconds(pid)?, n);
        }
        anyhow::ensure!(Instant::now() < give_up, "no output on {output}");
        tokio::time::sleep(POLL).await;
    };
    let profiler = match perf {
        Some(file) => Some(
            std::process::Command::new("perf")
                // DWARF call graphs: the release build keeps no frame pointers
                .args(["record", "-F", "999", "--call-graph", "dwarf,16384"])
                .args(["-p", &pid.0.to_string(), "-o"])
                .arg(&file)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .context("perf record")?,
        ),
        None => None,
    };
    // the last output: the record count, time and CPU when the count last changed
    let broker0 = broker_cpu()?;
    let mut last = (t0, cpu0, n0, broker0);
    let (t1, cpu1, n1, broker1) = loop {
        let n = watermarks.total()?;
        let now = Instant::now();
        polls += 1;
        if polls % 200 == 0 {
            eprintln!("{output}: {n} of {expected}");
        }
        if n != last.2 {
            last = (now, cpu_seconds(pid)?, n, broker_cpu()?);
        }
        if n >= expected {
            break last;
        }
        if now - last.0 > STALL {
            eprintln!(
                "{output}: {n} of {expected} records, nothing new for {STALL:?}; measured up to the last one"
            );
            break last;
        }
        anyhow::ensure!(now < give_up, "{output}: {n} of {expected} records");
        tokio::time::sleep(POLL).await;
    };
    if let Some(profiler) = profiler {
        // SIGINT makes perf write its file and exit
        let _ = std::process::Command::new("kill")
            .args(["-INT", &profiler.id().to_string()])
            .status();
        let _ = tokio::task::spawn_blocking(move || {
            let mut profiler = profiler;
            profiler.wait()
        })
        .await;
    }
    tokio::task::spawn_blocking(move || process.stop()).await?;
    Ok(Measured {
        records: n1 - n0,
        seconds: (t1 - t0).as_secs_f64(),
        cpu_seconds: cpu1 - cpu0,
        broker_cpu_seconds: broker0.zip(broker1).map(|(a, b)| b - a),
    })
}

/// Reads the record count of a set of topics (sum of high minus low watermarks) with one client.
struct Watermarks {
    consumer: rdkafka::consumer::BaseConsumer,
    partitions: Vec<(String, i32)>,
}

impl Watermarks {
    fn new(bs: &str, topics: &str) -> anyhow::Result<Self> {
        let consumer: rdkafka::consumer::BaseConsumer =
            ClientConfig::new().set("bootstrap.servers", bs).create()?;
        let mut partitions = Vec::new();
        for topic in topics.split(',') {
            let meta = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
            for t in meta.topics() {
                for p in t.partitions() {
                    partitions.push((topic.to_owned(), p.id()));
                }
            }
        }
        anyhow::ensure!(!partitions.is_empty(), "no partitions on {topics}");
        Ok(Self {
            consumer,
            partitions,
        })
    }

    fn total(&self) -> anyhow::Result<i64> {
        let mut total = 0;
        for (topic, p) in &self.partitions {
            let (low, high) = self
                .consumer
                .fetch_watermarks(topic, *p, Duration::from_secs(10))?;
            total += high - low;
        }
        Ok(total)
    }
}

/// Records on every partition of `topic` (sum of high watermarks).
fn high_watermarks(bs: &str, topic: &str) -> anyhow::Result<i64> {
    Watermarks::new(bs, topic)?.total()
}

/// Whether a child process has exited (a zombie not yet reaped, or gone).
fn exited(pid: Pid) -> bool {
    std::fs::read_to_string(format!("/proc/{}/stat", pid.0))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(true)
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: Pid) -> anyhow::Result<f64> {
    procstat::cpu_seconds(pid.0)
}

/// The reference: plain rdkafka at-least-once pass-through with the stages' client settings.
async fn passthrough(spec: &str) -> anyhow::Result<()> {
    let parts: Vec<&str> = spec.split(',').collect();
    let [input, output, group, bs] = parts[..] else {
        anyhow::bail!("--passthrough IN,OUT,GROUP,BOOTSTRAP");
    };
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", bs)
        .set("group.id", group)
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "1000")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "1000")
        .set("fetch.wait.max.ms", "20")
        .create()?;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bs)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("message.timeout.ms", "30000")
        .set("compression.type", "none")
        .create()?;
    consumer.subscribe(&[input])?;
    let mut in_flight = FuturesOrdered::new();
    loop {
        tokio::select! {
            Some(done) = in_flight.next(), if !in_flight.is_empty() => {
                let (topic, partition, offset, acked): (String, i32, i64, _) = done;
                if let Ok(Ok(_)) = acked {
                    let mut tpl = TopicPartitionList::new();
                    tpl.add_partition_offset(&topic, partition, Offset::Offset(offset + 1))?;
                    consumer.store_offsets(&tpl)?;
                }
            }
            m = consumer.recv(), if in_flight.len() < 1000 => {
                let m = m?;
                let record = FutureRecord::to(output)
                    .key(m.key().unwrap_or_default())
                    .payload(m.payload().unwrap_or_default());
                let f = producer.send_result(record).map_err(|(e, _)| e)?;
                let (topic, partition, offset) = (m.topic().to_owned(), m.partition(), m.offset());
                in_flight.push_back(async move { (topic, partition, offset, f.await) });
            }
        }
    }
}
