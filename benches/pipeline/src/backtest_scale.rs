//! `leadflow backtest` and `leadflow replay` at scale, each against a plain rdkafka reference read in
//! the same run on the same broker and data.
//!
//! Preloads `--count` scored leads (generated, enriched and scored by the stages' code) and their
//! generated outcomes; then, per round:
//! 1. a plain rdkafka consumer reads the scored and outcomes topics end to end;
//! 2. `leadflow backtest` (the release binary, a process) reads the same topics, scores every lead with
//!    the live model (the embedded one) and a candidate, and writes its reports;
//! 3. a plain rdkafka pass-through copies the scored topic (the whole range) to a fresh topic with the
//!    CLI's producer settings;
//! 4. `leadflow replay` re-produces the same range to another fresh topic.
//!
//! Each is a process of its own, timed from its start to its exit, with its CPU (utime + stime), peak
//! resident memory and the private broker's CPU over the same span (`/proc`).
//!
//! ```text
//! cargo build --release -p leadflow-cli -p leadflow-bench-pipeline
//! target/release/backtest-scale --count 1000000
//! ```
#![allow(clippy::expect_used, clippy::panic)]

mod broker;
mod counted_producer;
mod proc_watch;
mod procstat;
mod scale_data;
mod scale_plain;

use std::path::PathBuf;
use std::process::Command;

use anyhow::Context as _;
use broker::BenchBroker;
use clap::Parser;
use leadflow_testkit::{create_topic, unique_name};
use proc_watch::Run;

#[derive(Parser, Debug)]
#[command(
    about = "leadflow backtest and replay over --count scored leads vs a plain rdkafka read / pass-through"
)]
struct Args {
    /// Scored leads to preload (their outcomes come on top).
    #[arg(long, default_value_t = 1_000_000)]
    count: u64,
    /// An existing broker; a private tansu (SQLite) is started when absent.
    #[arg(long)]
    bootstrap_servers: Option<String>,
    /// Partitions of the scored and outcomes topics.
    #[arg(long, default_value_t = 3)]
    partitions: i32,
    /// Seed of the generated leads.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Measure on these already loaded topics `SCORED,OUTCOMES` (printed by an earlier run on the same
    /// --bootstrap-servers) instead of preloading.
    #[arg(long)]
    reuse: Option<String>,
    /// What to measure: backtest, replay or both.
    #[arg(long, value_delimiter = ',', default_value = "backtest,replay")]
    measure: Vec<String>,
    /// Rounds of the measurements (each compares with its own reference run).
    #[arg(long, default_value_t = 1)]
    rounds: u32,
    /// A consumer setting `KEY=VALUE` of the plain read and pass-through, on top of librdkafka's
    /// defaults (repeatable).
    /// The default, `fetch.wait.max.ms=0`, makes it the fastest plain read of tansu, which holds
    /// every fetch answer for half the wait when data is there (`benches/README.md`).
    #[arg(
        long = "plain-setting",
        value_name = "KEY=VALUE",
        default_value = "fetch.wait.max.ms=0"
    )]
    plain_settings: Vec<String>,
    /// The leadflow binary (default: next to this one).
    #[arg(long)]
    leadflow: Option<PathBuf>,
    /// Another leadflow binary (e.g. a build of the previous commit) whose backtest is measured
    /// after the first's in each round: before/after in one run.
    #[arg(long)]
    compare: Option<PathBuf>,
    /// Internal: run as the plain reader of `BOOTSTRAP;TOPICS`.
    #[arg(long, hide = true)]
    plain_read: Option<String>,
    /// Internal: run as the plain pass-through `BOOTSTRAP;FROM;TO`.
    #[arg(long, hide = true)]
    plain_copy: Option<String>,
}

/// The small topics a backtest reads besides the leads and outcomes (empty here: the live model is
/// the embedded one, the roster capacity unknown).
const SIDE_ROLES: [&str; 3] = ["model_params", "model_history", "reps"];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(spec) = &args.plain_read {
        let (bs, topics) = spec.split_once(';').context("--plain-read BS;TOPICS")?;
        return scale_plain::read(bs, topics, &args.plain_settings);
    }
    if let Some(spec) = &args.plain_copy {
        let parts: Vec<&str> = spec.split(';').collect();
        let [bs, from, to] = parts[..] else {
            anyhow::bail!("--plain-copy BS;FROM;TO");
        };
        return scale_plain::copy(bs, from, to, &args.plain_settings);
    }
    let broker = BenchBroker::given_or_private(args.bootstrap_servers.as_deref()).await?;
    let bs = broker.bootstrap.clone();
    let broker_pid = broker.private.as_ref().and_then(|b| b.pid());
    let leadflow = args
        .leadflow
        .clone()
        .unwrap_or_else(|| leadflow_e2e::bin("leadflow"));
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    eprintln!("load at start: {}", load.trim());

    let (scored, outcomes, preload) = match &args.reuse {
        Some(spec) => {
            let (s, o) = spec.split_once(',').context("--reuse SCORED,OUTCOMES")?;
            (s.to_owned(), o.to_owned(), None)
        }
        None => {
            let scored = unique_name("bs-scored");
            let outcomes = unique_name("bs-outcomes");
            create_topic(&bs, &scored, args.partitions).await;
            create_topic(&bs, &outcomes, args.partitions).await;
            let p = scale_data::preload(&bs, &scored, &outcomes, args.count, args.seed).await?;
            eprintln!(
                "preloaded {} scored leads and {} outcomes ({:.0} MB) in {:.1} s: --reuse {scored},{outcomes}",
                p.scored,
                p.outcomes,
                p.bytes as f64 / 1e6,
                p.seconds
            );
            (scored, outcomes, Some(p))
        }
    };
    let mut side = Vec::new();
    for role in SIDE_ROLES {
        let t = unique_name(&format!("bs-{}", role.replace('_', "-")));
        create_topic(&bs, &t, 1).await;
        side.push((role, t));
    }
    let dir = tempfile::tempdir()?;
    let candidate = dir.path().join("candidate.json");
    std::fs::write(&candidate, candidate_json()?)?;
    let exe = std::env::current_exe()?;

    let mut rows: Vec<Row> = Vec::new();
    for round in 1..=args.rounds {
        if args.measure.iter().any(|m| m == "backtest") {
            let plain = run_logged(
                &format!("round {round}: plain read"),
                self_command(
                    &exe,
                    "--plain-read",
                    &format!("{bs};{scored},{outcomes}"),
                    &args.plain_settings,
                ),
                broker_pid,
            )?;
            let records = field(&plain.stdout, "records")?;
            let base = rows.len();
            rows.push(Row::new(
                "plain read: scored + outcomes",
                plain,
                None,
                records,
            ));
            let binaries = std::iter::once(("leadflow backtest", &leadflow)).chain(
                args.compare
                    .as_ref()
                    .map(|c| ("compared leadflow backtest", c)),
            );
            for (name, bin) in binaries {
                let mut cmd = leadflow_command(bin, &bs, &scored, &outcomes, &side);
                cmd.arg("backtest")
                    .arg("--candidate")
                    .arg(&candidate)
                    .arg("--json")
                    .arg(dir.path().join("backtest.json"))
                    .arg("--html")
                    .arg(dir.path().join("backtest.html"));
                let bt = run_logged(&format!("round {round}: {name}"), cmd, broker_pid)?;
                let leads = backtest_leads(&bt.stdout)?;
                eprintln!("{}", bt.stdout.trim_end());
                rows.push(Row {
                    leads: Some(leads),
                    ..Row::new(name, bt, Some(base), records)
                });
            }
        }
        if args.measure.iter().any(|m| m == "replay") {
            let copy = unique_name("bs-copy");
            create_topic(&bs, &copy, args.partitions).await;
            let plain = run_logged(
                &format!("round {round}: plain pass-through"),
                self_command(
                    &exe,
                    "--plain-copy",
                    &format!("{bs};{scored};{copy}"),
                    &args.plain_settings,
                ),
                broker_pid,
            )?;
            let records = field(&plain.stdout, "records")?;
            let base = rows.len();
            rows.push(Row::new("plain pass-through: scored", plain, None, records));
            let target = unique_name("bs-replayed");
            create_topic(&bs, &target, args.partitions).await;
            let mut cmd = leadflow_command(&leadflow, &bs, &scored, &outcomes, &side);
            cmd.args(["replay", &scored, "--to", &target, "--from-offset", "0"]);
            let replay = run_logged(&format!("round {round}: leadflow replay"), cmd, broker_pid)?;
            let written = topic_records(&bs, &target)?;
            anyhow::ensure!(
                written == records as i64,
                "replay wrote {written} records, the range has {records}"
            );
            rows.push(Row::new(
                "leadflow replay: scored",
                replay,
                Some(base),
                records,
            ));
        }
    }

    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "\n{} scored leads, {} partitions, {}; load at the end: {}",
        preload.as_ref().map_or(args.count, |p| p.scored),
        args.partitions,
        broker.label(),
        load.trim()
    );
    if let Some(p) = &preload {
        println!(
            "preload: {} scored leads + {} outcomes, {:.0} MB, {:.1} s ({:.0} records/s)",
            p.scored,
            p.outcomes,
            p.bytes as f64 / 1e6,
            p.seconds,
            (p.scored + p.outcomes) as f64 / p.seconds
        );
    }
    println!();
    println!(
        "| process | records | wall s | records/s | × plain | leads/s | CPU s | CPU µs/record | broker CPU µs/record | peak RSS MB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for row in &rows {
        let run = &row.run;
        let ratio = match row.base {
            Some(b) => format!("{:.2}", rows[b].run.seconds / run.seconds),
            None => "1.00".into(),
        };
        let per_record = |s: f64| s * 1e6 / row.records as f64;
        let broker_cpu = run
            .broker_cpu_seconds
            .map_or_else(|| "-".to_owned(), |s| format!("{:.1}", per_record(s)));
        let leads = row.leads.map_or_else(
            || "-".to_owned(),
            |n| format!("{n} leads, {:.0}/s", n as f64 / run.seconds),
        );
        println!(
            "| {} | {} | {:.1} | {:.0} | {ratio} | {leads} | {:.1} | {:.1} | {broker_cpu} | {:.0} |",
            row.name,
            row.records,
            run.seconds,
            row.records as f64 / run.seconds,
            run.cpu_seconds,
            per_record(run.cpu_seconds),
            run.peak_rss_mb
        );
    }
    Ok(())
}

/// One measured process of the table.
struct Row {
    name: &'static str,
    run: Run,
    /// The row of the reference it is compared with.
    base: Option<usize>,
    /// Records read (the reference's count).
    records: u64,
    /// Leads a backtest reported.
    leads: Option<u64>,
}

impl Row {
    fn new(name: &'static str, run: Run, base: Option<usize>, records: u64) -> Self {
        Row {
            name,
            run,
            base,
            records,
            leads: None,
        }
    }
}

/// The candidate model: the embedded one with its activity weights halved (any valid model does).
fn candidate_json() -> anyhow::Result<String> {
    let mut p = leadflow_score::Model::embedded("lead-priority")?
        .params()
        .clone();
    p.version = "bench-candidate".into();
    for (code, w) in p.weights.iter_mut() {
        if code.starts_with("activity.") {
            *w /= 2.0;
        }
    }
    Ok(serde_json::to_string(
        &leadflow_events::json::event_to_json(&p)?,
    )?)
}

fn self_command(exe: &std::path::Path, flag: &str, spec: &str, settings: &[String]) -> Command {
    let mut cmd = Command::new(exe);
    cmd.args([flag, spec]);
    for s in settings {
        cmd.args(["--plain-setting", s]);
    }
    cmd
}

/// `leadflow` on `bs` with the benchmark's topics (and nothing else of the caller's environment).
fn leadflow_command(
    bin: &std::path::Path,
    bs: &str,
    scored: &str,
    outcomes: &str,
    side: &[(&str, String)],
) -> Command {
    let mut cmd = Command::new(bin);
    for (key, _) in std::env::vars() {
        if key.starts_with("LEADFLOW_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("LEADFLOW_BOOTSTRAP_SERVERS", bs)
        .env("LEADFLOW_TOPICS__SCORED", scored)
        .env("LEADFLOW_TOPICS__OUTCOMES", outcomes);
    for (role, topic) in side {
        cmd.env(
            format!("LEADFLOW_TOPICS__{}", role.to_ascii_uppercase()),
            topic,
        );
    }
    cmd
}

fn run_logged(what: &str, cmd: Command, broker: Option<u32>) -> anyhow::Result<Run> {
    eprintln!("{what} ...");
    let run = proc_watch::run(cmd, broker).with_context(|| what.to_owned())?;
    eprintln!(
        "{what}: {:.1} s, CPU {:.1} s, peak RSS {:.0} MB",
        run.seconds, run.cpu_seconds, run.peak_rss_mb
    );
    Ok(run)
}

/// `name=N` in a plain process's output.
fn field(out: &str, name: &str) -> anyhow::Result<u64> {
    out.split_whitespace()
        .find_map(|w| w.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
        .with_context(|| format!("no {name}= in {out:?}"))?
        .parse()
        .context("a count")
}

/// The lead count of the backtest's summary line `backtest: N leads (...)`.
fn backtest_leads(out: &str) -> anyhow::Result<u64> {
    out.lines()
        .find_map(|l| l.strip_prefix("backtest: "))
        .and_then(|l| l.split_whitespace().next())
        .with_context(|| format!("no summary in the backtest's output {out:?}"))?
        .parse()
        .context("the lead count")
}

/// Records on every partition of `topic` (high minus low watermarks).
fn topic_records(bs: &str, topic: &str) -> anyhow::Result<i64> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let timeout = std::time::Duration::from_secs(10);
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bs)
        .create()?;
    let meta = consumer.fetch_metadata(Some(topic), timeout)?;
    let mut total = 0;
    for t in meta.topics() {
        for p in t.partitions() {
            let (low, high) = consumer.fetch_watermarks(topic, p.id(), timeout)?;
            total += high - low;
        }
    }
    Ok(total)
}
