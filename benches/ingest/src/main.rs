//! Drives `leadflow-ingest` at fixed rates (open loop: request i is due at start + i / rate, whether
//! or not earlier ones were answered) and prints, per rate, the sustained accepted leads/s and the
//! latency from a request's due time to its answer (a 202 is sent only after the broker acknowledged
//! the record, so this is request → ack, queueing included), the service's CPU, and — measured in the
//! same run — the broker's own send → ack latency seen by a plain rdkafka producer with ingest's
//! settings (the probe), so the service's latency can be told apart from the broker's stalls.
//!
//! By default it starts a private tansu (or uses `--bootstrap-servers`) and
//! `target/release/leadflow-ingest` pinned to one core (`taskset -c 1`); `--url` and `--api-key`
//! measure a running service instead (no CPU figures then).
//!
//! ```text
//! cargo build --release -p leadflow-ingest -p leadflow-bench-ingest
//! taskset -c 0 target/release/ingest-load --rates 1000,3000,5000,7000 --batches 1,50 --seconds 15
//! ```
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod probe;
mod proc_stat;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use leadflow_testkit::{PrivateBroker, create_topic, free_port, unique_name};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::probe::{BrokerProbe, Span};

#[derive(Parser, Debug)]
#[command(about = "leadflow-ingest at fixed rates: accepted leads/s and request -> ack latency")]
struct Args {
    /// Leads per second offered, one step per value (e.g. 1000,3000,5000,7000).
    #[arg(long, value_delimiter = ',', default_value = "5000")]
    rates: Vec<u32>,
    /// Seconds per step.
    #[arg(long, default_value_t = 15)]
    seconds: u32,
    /// Leads per request, one step per value (1: POST /v1/leads; more: POST /v1/leads:batch).
    #[arg(long, value_delimiter = ',', default_value = "1")]
    batches: Vec<u32>,
    /// Requests in flight at most (HTTP/1.1 keep-alive connections).
    #[arg(long, default_value_t = 256)]
    connections: usize,
    /// A running ingest (with --api-key); otherwise a broker and target/release/leadflow-ingest.
    #[arg(long)]
    url: Option<String>,
    #[arg(long)]
    api_key: Option<String>,
    /// The broker for the started ingest and the probe (default: a private tansu, see --storage).
    #[arg(long)]
    bootstrap_servers: Option<String>,
    /// The private tansu's storage: `sqlite` (the dev/test broker's engine) or `memory` (no SQLite
    /// write path: the figure of the service rather than of the local broker, which cannot absorb
    /// thousands of single-record produces per second on a small box). `memory` loses records when
    /// tansu restarts, so it is never the dev/test broker; a benchmark run never restarts it.
    #[arg(long, default_value = "sqlite")]
    storage: String,
    /// Cores the started ingest may use (taskset list), e.g. "1" or "0-1".
    #[arg(long, default_value = "1")]
    cpus: String,
    /// The ingest binary to start (default target/release/leadflow-ingest).
    #[arg(long)]
    exe: Option<PathBuf>,
    /// Records per second of the broker probe (a plain producer with ingest's settings, own topic).
    #[arg(long, default_value_t = 200)]
    probe_rate: u32,
    /// A probe acknowledgement at least this slow is a broker stall (ms).
    #[arg(long, default_value_t = 50)]
    stall_ms: u64,
}

enum Broker {
    Sqlite(#[allow(dead_code)] PrivateBroker),
    Memory(Child),
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Broker::Memory(child) = self {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// tansu with its in-memory storage engine on a free port.
fn start_memory_tansu() -> anyhow::Result<(Broker, String)> {
    let tansu = leadflow_testkit::find_tansu()
        .ok_or_else(|| anyhow::anyhow!("tansu is not installed (scripts/broker.sh install)"))?;
    let port = free_port();
    let url = format!("tcp://127.0.0.1:{port}");
    let child = Command::new(tansu)
        .args(["broker", "--cluster-id", "leadflow-bench"])
        .args(["--listener-url", &url, "--advertised-listener-url", &url])
        .args(["--storage-engine", "memory://tansu/"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let broker = Broker::Memory(child);
    let bootstrap = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while leadflow_testkit::kafka_answers(&bootstrap, Duration::from_millis(500)).is_err() {
        anyhow::ensure!(
            Instant::now() < deadline,
            "tansu (memory) did not start in 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok((broker, bootstrap))
}

struct Started {
    _broker: Option<Broker>,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

struct Target {
    url: String,
    key: String,
    bootstrap: Option<String>,
    pid: Option<u32>,
    _started: Option<Started>,
}

async fn start_ingest(args: &Args) -> anyhow::Result<Target> {
    let (broker, bootstrap) = match (&args.bootstrap_servers, args.storage.as_str()) {
        (Some(b), _) => (None, b.clone()),
        (None, "sqlite") => {
            let broker = tokio::task::spawn_blocking(PrivateBroker::start).await?;
            let b = broker.bootstrap();
            (Some(Broker::Sqlite(broker)), b)
        }
        (None, "memory") => {
            let (broker, b) = tokio::task::spawn_blocking(start_memory_tansu).await??;
            (Some(broker), b)
        }
        (None, other) => anyhow::bail!("--storage {other}: memory or sqlite"),
    };
    let topic = unique_name("bench-ingest-raw");
    create_topic(&bootstrap, &topic, 3).await;
    let dir = tempfile::tempdir()?;
    let key = "bench-key-0123456789".to_owned();
    let hash = hex::encode(Sha256::digest(key.as_bytes()));
    let config = dir.path().join("ingest.toml");
    std::fs::write(
        &config,
        format!("[stage]\n[[stage.publishers]]\nid = \"bench\"\napi_key_sha256 = [\"{hash}\"]\n"),
    )?;
    let exe = args.exe.clone().unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/release/leadflow-ingest")
    });
    anyhow::ensure!(
        exe.is_file(),
        "build it first: cargo build --release -p leadflow-ingest ({})",
        exe.display()
    );
    let port = free_port();
    let pinned = Command::new("taskset").arg("--version").output().is_ok();
    let mut cmd = if pinned {
        let mut c = Command::new("taskset");
        c.args(["-c", &args.cpus]).arg(&exe);
        c
    } else {
        eprintln!("taskset not found: ingest is not pinned");
        Command::new(&exe)
    };
    let log = std::fs::File::create(dir.path().join("ingest.log"))?;
    let child = cmd
        .arg("--config")
        .arg(&config)
        .env("LEADFLOW_BOOTSTRAP_SERVERS", &bootstrap)
        .env("LEADFLOW_TOPICS__RAW", &topic)
        .env("LEADFLOW_HTTP__LISTEN", format!("127.0.0.1:{port}"))
        .env("LEADFLOW_LOG__LEVEL", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()?;
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = client.get(format!("{url}/readyz")).send().await {
            if r.status().is_success() {
                break;
            }
        }
        anyhow::ensure!(Instant::now() < deadline, "ingest not ready in 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // `taskset` execs the binary: the child's pid is ingest's
    let pid = child.id();
    println!(
        "ingest {} (pid {pid}) on {url}, cpus {}, threads: {}; broker {bootstrap} ({}), topic {topic}",
        exe.display(),
        if pinned { args.cpus.as_str() } else { "all" },
        proc_stat::thread_names(pid),
        if args.bootstrap_servers.is_some() {
            "given"
        } else {
            args.storage.as_str()
        },
    );
    Ok(Target {
        url,
        key,
        bootstrap: Some(bootstrap),
        pid: Some(pid),
        _started: Some(Started {
            _broker: broker,
            child,
            _dir: dir,
        }),
    })
}

fn body(run: &str, i: u64, batch: u32) -> String {
    let lead = |j: u64| {
        serde_json::json!({
            "event_id": format!("{run}-{j}"),
            "lead_id": format!("lead-{}", j % 50_000),
            "source_record_id": format!("bench-{j}"),
            "occurred_at": "2026-11-30T09:30:00Z",
            "event_type": "FORM_SUBMISSION",
            "contact": {"email": format!("p{}@acme-{}.example", j % 50_000, j % 97), "first_name": "Ada", "title": "VP Sales"},
            "company": {"name": "Acme", "domain": format!("acme-{}.example", j % 97), "employee_count": 250},
            "activities": [{"kind": "DEMO_REQUEST", "occurred_at": "2026-11-30T09:29:00Z", "detail": "/demo"}],
            "attributes": {"utm_source": "bench", "utm_campaign": "q4"}
        })
    };
    if batch <= 1 {
        lead(i).to_string()
    } else {
        let leads: Vec<_> = (0..u64::from(batch))
            .map(|k| lead(i * u64::from(batch) + k))
            .collect();
        serde_json::json!({ "leads": leads }).to_string()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One step's figures.
struct Step {
    rate: u32,
    batch: u32,
    requests: u64,
    statuses: std::collections::BTreeMap<u16, u64>,
    late: u64,
    accepted_per_sec: f64,
    /// request -> 202 latencies, sorted
    latencies: Vec<Duration>,
    /// the same without the requests that overlapped a broker stall, sorted
    clean: Vec<Duration>,
    probe: Vec<Duration>,
    probe_stalls: usize,
    cpu: Option<(f64, f64)>,
}

async fn run_step(
    args: &Args,
    client: &reqwest::Client,
    target: &Target,
    probe: Option<&BrokerProbe>,
    rate: u32,
    batch: u32,
) -> anyhow::Result<Step> {
    let path = if batch <= 1 {
        "/v1/leads"
    } else {
        "/v1/leads:batch"
    };
    let url = format!("{}{path}", target.url);
    let requests_per_sec = (f64::from(rate) / f64::from(batch.max(1))).max(1.0);
    let total = (requests_per_sec * f64::from(args.seconds)) as u64;
    let run = unique_name("r");
    // warm-up: connections and the producer
    for i in 0..20 {
        let _ = client
            .post(&url)
            .bearer_auth(&target.key)
            .header("content-type", "application/json")
            .body(body(&format!("{run}-warm"), i, batch))
            .send()
            .await;
    }
    let probe_run = probe.map(BrokerProbe::start);
    let cpu_before = target.pid.and_then(proc_stat::cpu_time);
    let gate = Arc::new(Semaphore::new(args.connections));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    let mut late = 0u64;
    for i in 0..total {
        let due = start + Duration::from_secs_f64(i as f64 / requests_per_sec);
        tokio::time::sleep_until(due.into()).await;
        let permit = match gate.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                // every connection busy: the request is late; count it and send when one frees up
                late += 1;
                gate.clone().acquire_owned().await?
            }
        };
        let rb = client
            .post(&url)
            .bearer_auth(&target.key)
            .header("content-type", "application/json")
            .body(body(&run, i, batch));
        tasks.push(tokio::spawn(async move {
            let status = match rb.send().await {
                Ok(r) => {
                    let s = r.status().as_u16();
                    let _ = r.bytes().await;
                    s
                }
                Err(_) => 0,
            };
            drop(permit);
            (status, due, Instant::now())
        }));
    }
    let offered_for = start.elapsed();
    let mut answers = Vec::with_capacity(tasks.len());
    let mut statuses = std::collections::BTreeMap::<u16, u64>::new();
    let mut last_answer = start;
    for t in tasks {
        let (status, due, at) = t.await?;
        *statuses.entry(status).or_default() += 1;
        if status == 202 {
            answers.push(Span { from: due, to: at });
        }
        last_answer = last_answer.max(at);
    }
    let window = last_answer.duration_since(start).max(offered_for);
    let cpu = match (cpu_before, target.pid.and_then(proc_stat::cpu_time)) {
        (Some(a), Some(b)) => {
            let used = b.saturating_sub(a).as_secs_f64();
            let leads = answers.len() as f64 * f64::from(batch.max(1));
            Some((
                100.0 * used / window.as_secs_f64(),
                1e6 * used / leads.max(1.0),
            ))
        }
        _ => None,
    };
    let probe_spans = match probe_run {
        Some(r) => r.stop().await,
        None => Vec::new(),
    };
    let stall = Duration::from_millis(args.stall_ms);
    let stalls: Vec<&Span> = probe_spans.iter().filter(|s| s.len() >= stall).collect();
    let mut latencies: Vec<Duration> = answers.iter().map(Span::len).collect();
    let mut clean: Vec<Duration> = answers
        .iter()
        .filter(|a| !stalls.iter().any(|s| s.overlaps(a)))
        .map(Span::len)
        .collect();
    let mut probe: Vec<Duration> = probe_spans.iter().map(Span::len).collect();
    latencies.sort();
    clean.sort();
    probe.sort();
    let accepted_leads = answers.len() as f64 * f64::from(batch.max(1));
    Ok(Step {
        rate,
        batch,
        requests: total,
        statuses,
        late,
        accepted_per_sec: accepted_leads / window.as_secs_f64(),
        latencies,
        clean,
        probe,
        probe_stalls: stalls.len(),
        cpu,
    })
}

fn print_step(s: &Step, stall_ms: u64) {
    println!(
        "\n{} leads/s offered, {} lead(s) per request: {} requests, answers by status {:?}, sent late (all connections busy) {}",
        s.rate, s.batch, s.requests, s.statuses, s.late
    );
    println!("  accepted: {:.0} leads/s sustained", s.accepted_per_sec);
    let line = |name: &str, v: &[Duration]| {
        println!(
            "  {name}: n {}, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            v.len(),
            ms(percentile(v, 0.50)),
            ms(percentile(v, 0.95)),
            ms(percentile(v, 0.99)),
            ms(v.last().copied().unwrap_or_default())
        );
    };
    line("request -> ack (all 202s)", &s.latencies);
    line("broker probe send -> ack", &s.probe);
    line(
        &format!(
            "request -> ack, requests overlapping a broker stall (probe ack >= {stall_ms} ms; {} stalls) left out",
            s.probe_stalls
        ),
        &s.clean,
    );
    if let Some((pct, us)) = s.cpu {
        println!("  ingest CPU: {pct:.0} % of one core, {us:.1} µs per accepted lead");
    }
}

fn table_row(s: &Step) -> String {
    let p = |v: &[Duration], q: f64| format!("{:.1}", ms(percentile(v, q)));
    let excluded = s.latencies.len() - s.clean.len();
    let bad: u64 = s
        .statuses
        .iter()
        .filter(|(k, _)| **k != 202)
        .map(|(_, v)| v)
        .sum();
    format!(
        "| {} | {} | {:.0} | {} | {} / {} / {} | {} / {} / {:.1} | {} / {} / {} ({} of {} left out) | {} |",
        s.rate,
        s.batch,
        s.accepted_per_sec,
        bad,
        p(&s.latencies, 0.5),
        p(&s.latencies, 0.95),
        p(&s.latencies, 0.99),
        p(&s.probe, 0.5),
        p(&s.probe, 0.99),
        ms(s.probe.last().copied().unwrap_or_default()),
        p(&s.clean, 0.5),
        p(&s.clean, 0.95),
        p(&s.clean, 0.99),
        excluded,
        s.latencies.len(),
        s.cpu.map_or_else(
            || "—".to_owned(),
            |(pct, us)| format!("{pct:.0} % / {us:.0} µs")
        ),
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let target = match (&args.url, &args.api_key) {
        (Some(u), Some(k)) => Target {
            url: u.clone(),
            key: k.clone(),
            bootstrap: args.bootstrap_servers.clone(),
            pid: None,
            _started: None,
        },
        (Some(_), None) => anyhow::bail!("--url needs --api-key"),
        _ => start_ingest(&args).await?,
    };
    let probe = match &target.bootstrap {
        Some(b) if args.probe_rate > 0 => Some(BrokerProbe::new(b, args.probe_rate).await?),
        _ => {
            eprintln!("no broker probe (give --bootstrap-servers with --url)");
            None
        }
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections)
        .timeout(Duration::from_secs(30))
        .build()?;
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "ingest-load: {} s per step, {} connections, probe {} records/s; load average at start: {}",
        args.seconds,
        args.connections,
        args.probe_rate,
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut steps = Vec::new();
    for &batch in &args.batches {
        for &rate in &args.rates {
            let s = run_step(&args, &client, &target, probe.as_ref(), rate, batch).await?;
            print_step(&s, args.stall_ms);
            steps.push(s);
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "\nload average at the end: {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "\n| offered leads/s | leads per request | accepted leads/s | non-202 answers | request → ack p50 / p95 / p99 ms | broker probe ack p50 / p99 / max ms | without requests overlapping a broker stall (≥ {} ms) p50 / p95 / p99 ms | ingest CPU (one core) / per lead |",
        args.stall_ms
    );
    println!("|---|---|---|---|---|---|---|---|");
    for s in &steps {
        println!("{}", table_row(s));
    }
    Ok(())
}
