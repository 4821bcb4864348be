//! Drives `leadflow-ingest` at a fixed rate (open loop: request i is due at start + i / rate, whether or
//! not earlier ones were answered) and prints the sustained accepted leads/s and the latency from a
//! request's due time to its answer (a 202 is sent only after the broker acknowledged the record, so
//! this is request → ack, queueing included).
//!
//! By default it starts a private tansu and `target/release/leadflow-ingest` pinned to one core
//! (`taskset -c 0` when available); `--url` and `--api-key` measure a running service instead.
//!
//! ```text
//! cargo build --release -p leadflow-ingest -p leadflow-bench-ingest
//! target/release/ingest-load --rate 5000 --seconds 20
//! ```
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use leadflow_testkit::{PrivateBroker, create_topic, unique_name};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

#[derive(Parser, Debug)]
#[command(about = "leadflow-ingest at a fixed rate: accepted leads/s and request -> ack latency")]
struct Args {
    /// Leads per second offered.
    #[arg(long, default_value_t = 5000)]
    rate: u32,
    #[arg(long, default_value_t = 20)]
    seconds: u32,
    /// Leads per request (1: POST /v1/leads; more: POST /v1/leads:batch).
    #[arg(long, default_value_t = 1)]
    batch: u32,
    /// Requests in flight at most (HTTP/1.1 keep-alive connections).
    #[arg(long, default_value_t = 256)]
    connections: usize,
    /// A running ingest (with --api-key); otherwise a private tansu and target/release/leadflow-ingest.
    #[arg(long)]
    url: Option<String>,
    #[arg(long)]
    api_key: Option<String>,
    /// Cores the started ingest may use (taskset list), e.g. "0" or "0-1".
    #[arg(long, default_value = "0")]
    cpus: String,
    /// The ingest binary to start (default target/release/leadflow-ingest).
    #[arg(long)]
    exe: Option<PathBuf>,
}

struct Started {
    _broker: PrivateBroker,
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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_ingest(
    cpus: &str,
    exe: Option<PathBuf>,
) -> anyhow::Result<(String, String, Started)> {
    let broker = tokio::task::spawn_blocking(PrivateBroker::start).await?;
    let bootstrap = broker.bootstrap();
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
    let exe = exe.unwrap_or_else(|| {
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
        c.args(["-c", cpus]).arg(&exe);
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
    eprintln!(
        "ingest {} on {url} (cpus {}), private tansu {bootstrap}, topic {topic}",
        exe.display(),
        if pinned { cpus } else { "all" }
    );
    Ok((
        url,
        key,
        Started {
            _broker: broker,
            child,
            _dir: dir,
        },
    ))
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (url, key, _started) = match (&args.url, &args.api_key) {
        (Some(u), Some(k)) => (u.clone(), k.clone(), None),
        (Some(_), None) => anyhow::bail!("--url needs --api-key"),
        _ => {
            let (u, k, s) = start_ingest(&args.cpus, args.exe.clone()).await?;
            (u, k, Some(s))
        }
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections)
        .timeout(Duration::from_secs(30))
        .build()?;
    let path = if args.batch <= 1 {
        "/v1/leads"
    } else {
        "/v1/leads:batch"
    };
    let requests_per_sec = (f64::from(args.rate) / f64::from(args.batch.max(1))).max(1.0);
    let total = (requests_per_sec * f64::from(args.seconds)) as u64;
    let run = unique_name("r");
    // warm-up: connections and the producer
    for i in 0..20 {
        let _ = client
            .post(format!("{url}{path}"))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(body(&format!("{run}-warm"), i, args.batch))
            .send()
            .await;
    }
    let gate = Arc::new(Semaphore::new(args.connections));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    let mut dropped = 0u64;
    for i in 0..total {
        let due = start + Duration::from_secs_f64(i as f64 / requests_per_sec);
        tokio::time::sleep_until(due.into()).await;
        let Ok(permit) = gate.clone().try_acquire_owned() else {
            // every connection busy: the request is late; count it and send when one frees up
            dropped += 1;
            let permit = gate.clone().acquire_owned().await?;
            tasks.push(spawn_request(
                &client,
                &url,
                path,
                &key,
                body(&run, i, args.batch),
                due,
                permit,
            ));
            continue;
        };
        tasks.push(spawn_request(
            &client,
            &url,
            path,
            &key,
            body(&run, i, args.batch),
            due,
            permit,
        ));
    }
    let offered_for = start.elapsed();
    let mut latencies = Vec::with_capacity(tasks.len());
    let mut statuses = std::collections::BTreeMap::<u16, u64>::new();
    let mut last_answer = start;
    for t in tasks {
        let (status, latency, at) = t.await?;
        *statuses.entry(status).or_default() += 1;
        if status == 202 {
            latencies.push(latency);
        }
        last_answer = last_answer.max(at);
    }
    latencies.sort();
    let accepted_leads = latencies.len() as u64 * u64::from(args.batch.max(1));
    let window = last_answer.duration_since(start).max(offered_for);
    let stalls = latencies
        .iter()
        .filter(|l| **l >= Duration::from_millis(250))
        .count();
    let below: Vec<Duration> = latencies
        .iter()
        .copied()
        .filter(|l| *l < Duration::from_millis(250))
        .collect();
    println!(
        "ingest-load: {} leads/s offered for {} s, {} lead(s) per request, {} connections",
        args.rate, args.seconds, args.batch, args.connections
    );
    println!(
        "  requests: {total}, answers by status: {statuses:?}, sent late (all connections busy): {dropped}"
    );
    println!(
        "  accepted: {accepted_leads} leads in {:.2} s = {:.0} leads/s sustained",
        window.as_secs_f64(),
        accepted_leads as f64 / window.as_secs_f64()
    );
    println!(
        "  request -> ack latency (from the due time): p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, max {:.1} ms",
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.90)),
        ms(percentile(&latencies, 0.99)),
        ms(percentile(&latencies, 0.999)),
        ms(latencies.last().copied().unwrap_or_default())
    );
    println!(
        "  answers >= 250 ms (broker ack stalls, see broker-ack-latency): {stalls} ({:.2} %); p99 of the rest {:.1} ms",
        100.0 * stalls as f64 / latencies.len().max(1) as f64,
        ms(percentile(&below, 0.99))
    );
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn spawn_request(
    client: &reqwest::Client,
    url: &str,
    path: &str,
    key: &str,
    body: String,
    due: Instant,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> tokio::task::JoinHandle<(u16, Duration, Instant)> {
    let rb = client
        .post(format!("{url}{path}"))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(body);
    tokio::spawn(async move {
        let status = match rb.send().await {
            Ok(r) => {
                let s = r.status().as_u16();
                let _ = r.bytes().await;
                s
            }
            Err(_) => 0,
        };
        drop(permit);
        let at = Instant::now();
        (status, at.duration_since(due), at)
    })
}
