//! `leadflow-chaos`: the whole pipeline (enrich → score → tier → route → notify, with route-reassign
//! and sla-watchdog) as real processes on a private tansu broker, fed N generated leads at a fixed
//! rate while it SIGKILLs a random stage process every few seconds (restarting it, sometimes as two
//! instances), restarts the broker once (its storage survives), and has the Slack and CRM
//! stand-ins fail for a while. At the end it reads every topic from the beginning and accounts for
//! every lead: forwarded, ended on purpose, or an exception with a reason — anything else is lost.
//! It prints duplicates per topic and duplicate external effects, and exits non-zero when a lead is
//! lost.
//!
//! ```sh
//! cargo build --workspace
//! target/debug/leadflow-chaos                                 # the default run in scripts/test.sh
//! cargo build --release --workspace --bins                    # the full run (benches/README.md)
//! target/release/leadflow-chaos --bin-dir target/release --leads 100000 --rate 100 --kills 20
//! ```
//!
//! A killed stage is restarted at once (`--restart-delay 0`), as an orchestrator restarts a crashed
//! pod; the runtime's group watch recovers partitions a broker leaves without an owner
//! (`crates/runtime/RULES.md` rule 1).
//! With `--broker-engine postgres` (tansu's PostgreSQL engine, `scripts/broker.sh install --engine
//! postgres`) the stages keep the product's idempotent producers through the broker restart. On
//! SQLite (the default, what CI installs) a broker restart under idempotent producers kills tansu's
//! storage task (docs/BROKER.md 3), so there the harness turns idempotence off unless
//! `--idempotent-producers on` is given, and says so in its first lines.

mod audit;
mod delay_proxy;
mod effects;
mod feeder;
mod fleet;
mod groups;
mod ledger;
mod netlab;
mod network;
mod report;
mod settle;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use leadflow_events::{TopicNames, TopicRole};
use leadflow_testkit::{BrokerEngine, PrivateBroker, free_port};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::effects::Sandbox;
use crate::fleet::{Fleet, Spec};

#[derive(Parser, Debug, Clone)]
#[command(name = "leadflow-chaos", version, about)]
struct Args {
    /// Leads to generate.
    #[arg(long, default_value_t = 5000)]
    leads: u64,
    /// Leads per second.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// SIGKILLs of a random stage process, spread over the generation.
    #[arg(long, default_value_t = 10)]
    kills: usize,
    /// Seconds between a SIGKILL and the restart of its stage (0: at once, as an orchestrator does).
    #[arg(long, default_value_t = 0.0)]
    restart_delay: f64,
    /// Share of restarts that bring a stage to two instances.
    #[arg(long, default_value_t = 0.3)]
    second_instance_share: f64,
    /// Seed of the generated leads and of the chaos (which process, when).
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// The stages' and the feeder's idempotent producer (`on`, `off`); by default on with the
    /// PostgreSQL engine and off with SQLite, whose storage task does not survive a broker restart
    /// under idempotent producers (docs/BROKER.md 3).
    #[arg(long, value_name = "on|off")]
    idempotent_producers: Option<OnOff>,
    /// tansu's storage engine: `sqlite` (default) or `postgres` (docs/BROKER.md 6).
    #[arg(long, default_value_t = BrokerEngine::Sqlite)]
    broker_engine: BrokerEngine,
    /// Skip the broker restart.
    #[arg(long)]
    no_broker_restart: bool,
    /// Skip the Slack/CRM outages.
    #[arg(long)]
    no_sandbox_faults: bool,
    /// Seconds without a new record on any topic, and with every stage's input committed, after
    /// which the pipeline counts as settled.
    #[arg(long, default_value_t = 15)]
    settle: u64,
    /// Give up waiting for the pipeline to settle after this many seconds.
    #[arg(long, default_value_t = 300)]
    max_settle: u64,
    /// Network faults instead of process faults: every process in a network namespace of its own,
    /// then a stage partitioned from the broker, the broker partitioned from everything, a slow
    /// lossy link and notify cut off from Slack/CRM, one after the other (needs root and `nft`;
    /// skipped with the reason printed otherwise). Feeds at `--rate` for as long as the faults take.
    #[arg(long)]
    network: bool,
    /// Which network faults, in order (comma-separated): stage, broker, slow, saas.
    #[arg(long, value_delimiter = ',', default_value = "stage,broker,slow,saas")]
    network_faults: Vec<String>,
    /// The stages' `http.unready_after_ms` in the network run (the product default is 15000).
    #[arg(long, default_value_t = 15_000)]
    unready_after_ms: u64,
    /// Seconds each partition (stage, broker) lasts; default `--fault-secs`. Beyond the stages'
    /// 10 s session tansu 0.6 can leave a group without a leader for good (docs/BROKER.md 7).
    #[arg(long)]
    partition_secs: Option<u64>,
    /// Seconds each network fault lasts.
    #[arg(long, default_value_t = 30)]
    fault_secs: u64,
    /// Extra environment for one stage, `STAGE:KEY=VALUE` (repeatable), e.g.
    /// `tier:LEADFLOW_KAFKA_OVERRIDES=debug=cgrp` to see librdkafka's group protocol.
    #[arg(long, value_name = "STAGE:KEY=VALUE")]
    stage_env: Vec<String>,
    /// Directory of the leadflow binaries (default: this executable's).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Rep roster imported before the run.
    #[arg(long)]
    roster: Option<PathBuf>,
    /// Keep the processes' logs here (default: a temporary directory, deleted).
    #[arg(long)]
    logs: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum OnOff {
    On,
    Off,
}

/// Whether the producers are idempotent, and why when the harness chose.
fn idempotence(args: &Args) -> (bool, &'static str) {
    match (args.idempotent_producers, args.broker_engine) {
        (Some(OnOff::On), _) => (true, "as asked"),
        (Some(OnOff::Off), _) => (false, "as asked"),
        (None, BrokerEngine::Postgres) => (true, "the product default"),
        (None, BrokerEngine::Sqlite) => (
            false,
            "OFF because tansu's SQLite engine loses its storage task in a broker restart under \
             idempotent producers (docs/BROKER.md 3); --broker-engine postgres keeps them on",
        ),
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn say(start: Instant, msg: impl AsRef<str>) {
    println!("[{:>6.1}s] {}", start.elapsed().as_secs_f64(), msg.as_ref());
}

/// Runs a `leadflow` CLI command to completion.
fn cli(bin_dir: &Path, bootstrap: &str, args: &[&str]) -> Result<()> {
    let out = Command::new(bin_dir.join("leadflow"))
        .args(args)
        .env("LEADFLOW_BOOTSTRAP_SERVERS", bootstrap)
        .output()
        .with_context(|| format!("running leadflow {args:?}"))?;
    if !out.status.success() {
        bail!(
            "leadflow {args:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Applies `--stage-env` entries to the specs.
fn apply_stage_env(specs: &mut [Spec], entries: &[String]) -> Result<()> {
    for e in entries {
        let (stage, kv) = e
            .split_once(':')
            .with_context(|| format!("--stage-env {e:?} is not STAGE:KEY=VALUE"))?;
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--stage-env {e:?} is not STAGE:KEY=VALUE"))?;
        let spec = specs
            .iter_mut()
            .find(|s| s.name == stage)
            .with_context(|| format!("--stage-env: no stage {stage}"))?;
        spec.env.insert(k.to_owned(), v.to_owned());
    }
    Ok(())
}

fn stage_specs(
    idempotent: bool,
    bootstrap: &str,
    sandbox_http: &str,
    sandbox_smtp: &str,
    root: &Path,
) -> Vec<Spec> {
    let base = |extra: &[(&str, String)]| {
        let mut env = BTreeMap::from([
            (
                "LEADFLOW_BOOTSTRAP_SERVERS".to_owned(),
                bootstrap.to_owned(),
            ),
            ("LEADFLOW_HTTP__LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
            ("LEADFLOW_LOG__LEVEL".to_owned(), "info".to_owned()),
            ("NO_COLOR".to_owned(), "1".to_owned()),
        ]);
        if !idempotent {
            env.insert(
                "LEADFLOW_KAFKA_OVERRIDES".to_owned(),
                "enable.idempotence=false".to_owned(),
            );
        }
        for (k, v) in extra {
            env.insert((*k).to_owned(), v.clone());
        }
        env
    };
    // host:port of the stand-in's SMTP listener, as notify reaches it (its own namespace in the
    // network run: loopback there is not the stand-in's)
    let (smtp_host, smtp_port) = sandbox_smtp
        .rsplit_once(':')
        .unwrap_or((sandbox_smtp, "25"));
    let demo = |name: &str| {
        let p = root.join("deploy/demo").join(format!("{name}.toml"));
        if p.is_file() {
            vec![("LEADFLOW_CONFIG", p.display().to_string())]
        } else {
            Vec::new()
        }
    };
    let notify_env = [
        (
            "LEADFLOW_STAGE__SLACK__API_URL",
            format!("http://{sandbox_http}/slack/api"),
        ),
        (
            "LEADFLOW_STAGE__SLACK__BOT_TOKEN",
            "xoxb-sandbox-token".to_owned(),
        ),
        (
            "LEADFLOW_STAGE__HUBSPOT__API_URL",
            format!("http://{sandbox_http}/hubspot"),
        ),
        (
            "LEADFLOW_STAGE__HUBSPOT__TOKEN",
            "pat-sandbox-token".to_owned(),
        ),
        (
            "LEADFLOW_STAGE__HUBSPOT__RECORD_URL",
            format!("http://{sandbox_http}/#contact-{{contact_id}}"),
        ),
        ("LEADFLOW_STAGE__EMAIL__SMTP_HOST", smtp_host.to_owned()),
        ("LEADFLOW_STAGE__EMAIL__SMTP_PORT", smtp_port.to_owned()),
        ("LEADFLOW_STAGE__EMAIL__TLS", "none".to_owned()),
    ];
    groups::STAGES
        .iter()
        .map(|(name, _, _)| *name)
        .map(|name| {
            let mut extra = demo(name);
            match name {
                "enrich" => extra.push(("LEADFLOW_STAGE__PROVIDER__KIND", "demo".to_owned())),
                "notify" => extra.extend(notify_env.iter().cloned()),
                _ => {}
            }
            Spec {
                name,
                env: base(&extra),
            }
        })
        .collect()
}

/// The moments (seconds after the generation starts) of the kills, spread evenly over the
/// generation, none within `quiet` of the broker restart.
fn kill_times(kills: usize, gen_secs: f64, broker_at: Option<f64>, quiet: f64) -> Vec<f64> {
    let span = gen_secs.max(1.0);
    (0..kills)
        .map(|k| span * (k as f64 + 1.0) / (kills as f64 + 1.0))
        .map(|t| match broker_at {
            Some(b) if t > b - 3.0 && t < b + quiet => b + quiet + (t - b + 3.0),
            _ => t,
        })
        .collect()
}

/// How long the harness follows a kill's recovery.
const KILL_RECOVERY_LIMIT: Duration = Duration::from_secs(180);
/// The goal for a kill's recovery (from the SIGKILL until every partition of the stage is
/// consumed again), printed beside the figures.
const KILL_RECOVERY_GOAL: Duration = Duration::from_secs(30);

/// A child process killed when dropped (also when the harness stops early on an error or a signal).
struct KillOnDrop(Child);

impl KillOnDrop {
    fn stop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Set on SIGINT/SIGTERM: the harness stops its loops and cleans up (stages, stand-ins, broker).
static STOP: AtomicBool = AtomicBool::new(false);

fn watch_signals() {
    tokio::spawn(async {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        eprintln!("chaos: signal received; stopping everything");
        STOP.store(true, Ordering::SeqCst);
    });
}

fn stopped() -> Result<()> {
    if STOP.load(Ordering::SeqCst) {
        bail!("stopped by a signal");
    }
    Ok(())
}

fn wait_http(addr: &str, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("nothing listens on {addr} after {timeout:?}")
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    watch_signals();
    let start = Instant::now();
    let bin_dir = match &args.bin_dir {
        Some(d) => d.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("executable directory")?
            .to_path_buf(),
    };
    let root = repo_root();
    let tmp_logs = tempfile::Builder::new()
        .prefix("leadflow-chaos-")
        .tempdir()?;
    let logs = args
        .logs
        .clone()
        .unwrap_or_else(|| tmp_logs.path().to_path_buf());
    std::fs::create_dir_all(&logs)?;
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let roster = args
        .roster
        .clone()
        .unwrap_or_else(|| root.join("deploy/roster.csv"));

    if args.network {
        let failed = network::run(network::NetArgs {
            rate: args.rate,
            fault: Duration::from_secs(args.fault_secs),
            partition: Duration::from_secs(args.partition_secs.unwrap_or(args.fault_secs)),
            seed: args.seed,
            idempotent: idempotence(&args).0,
            bin_dir,
            root,
            logs: logs.clone(),
            roster,
            settle: args.settle,
            max_settle: args.max_settle,
            stage_env: args.stage_env.clone(),
            faults: args.network_faults.clone(),
            unready_after: Duration::from_millis(args.unready_after_ms),
        })
        .await?;
        if args.logs.is_some() {
            println!("logs: {}", logs.display());
        }
        drop(tmp_logs);
        if failed {
            std::process::exit(1);
        }
        return Ok(());
    }

    let (idempotent, why) = idempotence(&args);
    say(
        start,
        format!(
            "starting a private tansu broker on {} (idempotent producers {}: {why})",
            args.broker_engine,
            if idempotent { "on" } else { "off" }
        ),
    );
    let mut broker = PrivateBroker::start_with(args.broker_engine);
    let bs = broker.bootstrap();
    cli(&bin_dir, &bs, &["topics", "create"])?;
    cli(
        &bin_dir,
        &bs,
        &["reps", "import", &roster.display().to_string()],
    )?;

    let http_port = free_port();
    let smtp_port = free_port();
    let sandbox_http = format!("127.0.0.1:{http_port}");
    let mut sandbox_proc = KillOnDrop(
        Command::new(bin_dir.join("leadflow-sandbox"))
            .args([
                "--http",
                &sandbox_http,
                "--smtp",
                &format!("127.0.0.1:{smtp_port}"),
            ])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(logs.join("sandbox.log"))?)
            .stderr(std::fs::File::create(logs.join("sandbox.err.log"))?)
            .spawn()
            .context("starting leadflow-sandbox")?,
    );
    wait_http(&sandbox_http, Duration::from_secs(20))?;
    let sandbox = Sandbox::new(format!("http://{sandbox_http}"));

    let smtp = format!("127.0.0.1:{smtp_port}");
    let mut specs = stage_specs(idempotent, &bs, &sandbox_http, &smtp, &root);
    apply_stage_env(&mut specs, &args.stage_env)?;
    let mut fleet = Fleet::new(&bin_dir, &logs, specs);
    fleet.start_all();
    if let Err(e) = fleet.wait_assigned(Duration::from_secs(120)) {
        bail!(
            "the pipeline did not start: {e} (logs in {})",
            logs.display()
        );
    }
    say(start, format!("pipeline up: {}", fleet.shape()));

    let gen_secs = args.leads as f64 / args.rate;
    let broker_at = (!args.no_broker_restart).then_some(gen_secs * 0.5);
    let quiet = args.restart_delay + 5.0;
    let mut kills = kill_times(args.kills, gen_secs, broker_at, quiet);
    let mut faults: Vec<(f64, &str, &str)> = if args.no_sandbox_faults {
        Vec::new()
    } else {
        vec![
            (gen_secs * 0.3, "slack", "down"),
            (gen_secs * 0.6, "hubspot", "error"),
        ]
    };
    let fault_ms = 15_000u64;

    say(
        start,
        format!(
            "generating {} leads at {}/s (~{gen_secs:.0} s), {} kills, broker restart {}",
            args.leads,
            args.rate,
            args.kills,
            broker_at.map_or("none".to_owned(), |b| format!("at +{b:.0} s"))
        ),
    );
    let feeder = {
        let bs = bs.clone();
        let (leads, rate, seed) = (args.leads, args.rate, args.seed);
        tokio::spawn(async move {
            let raw = TopicNames::default();
            feeder::feed(&bs, raw.name(TopicRole::Raw), leads, rate, seed, idempotent).await
        })
    };
    let mut feeder = Some(feeder);
    let mut fed: Option<feeder::Fed> = None;
    let gen_start = Instant::now();
    let mut broker_restarted = false;
    let mut broker_down_s = 0.0;
    let recoveries = groups::KillRecoveries::default();
    let delay = Duration::from_secs_f64(args.restart_delay);

    // the chaos loop: until the generator is done and every killed stage is back
    loop {
        stopped()?;
        let t = gen_start.elapsed().as_secs_f64();
        if feeder.as_ref().is_some_and(|f| f.is_finished())
            && let Some(f) = feeder.take()
        {
            let result = f.await.context("feeder task")??;
            say(
                start,
                format!(
                    "fed {} leads ({} sends repeated after a failed delivery, {} undelivered)",
                    result.leads, result.resends, result.undelivered
                ),
            );
            fed = Some(result);
        }
        while kills.first().is_some_and(|k| *k <= t) {
            kills.remove(0);
            if let Some((label, pid)) = fleet.kill_random(&mut rng) {
                say(start, format!("kill -9 {label} (pid {pid})"));
                recoveries.watch(&bs, &label, KILL_RECOVERY_LIMIT);
            }
        }
        if let Some(b) = broker_at
            && !broker_restarted
            && t >= b
        {
            say(start, "restarting the broker (SIGTERM, same storage)");
            let t0 = Instant::now();
            broker.restart();
            broker_down_s = t0.elapsed().as_secs_f64();
            broker_restarted = true;
            say(start, format!("broker back after {broker_down_s:.1} s"));
        }
        while faults.first().is_some_and(|f| f.0 <= t) {
            let (_, service, mode) = faults.remove(0);
            sandbox.fault(service, mode, fault_ms).await?;
            say(
                start,
                format!(
                    "{service} stand-in answers {mode} for {} s",
                    fault_ms / 1000
                ),
            );
        }
        for label in fleet.reap() {
            say(start, format!("{label} exited on its own; restarting it"));
        }
        for label in fleet.restart_due(delay, args.second_instance_share, &mut rng) {
            say(start, format!("started {label} ({})", fleet.shape()));
        }
        if fed.is_some() && kills.is_empty() && fleet.owed() == 0 && faults.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let settle_start = Instant::now();
    let settled =
        settle::settle(&bs, &mut fleet, args.settle, args.max_settle, delay, start).await?;
    say(
        start,
        format!(
            "pipeline {} after {:.0} s; stopping the stages (SIGTERM)",
            if settled { "settled" } else { "NOT settled" },
            settle_start.elapsed().as_secs_f64()
        ),
    );
    let bad_exits = fleet.stop_all(Duration::from_secs(20));

    say(start, "reading every topic from the beginning");
    let audit = audit::run(&bs, &TopicNames::default()).await?;
    let effects = sandbox.effects(&logs.join("sandbox-state.json")).await?;
    sandbox_proc.stop();
    broker.stop();
    if args.logs.is_some() {
        // the broker's log lives in its temporary directory, deleted with it: keep a copy
        let _ = std::fs::copy(broker.log_file(), logs.join("tansu.log"));
    }

    let run = report::Run {
        leads: args.leads,
        rate: args.rate,
        kills: fleet.log.kills.len(),
        restarts: fleet.log.restarts,
        second_instances: fleet.log.second_instances,
        unexpected_exits: fleet.log.unexpected_exits.clone(),
        broker_restarts: usize::from(broker_restarted),
        broker_down_s,
        sandbox_faults: if args.no_sandbox_faults { 0 } else { 2 },
        undelivered: fed.as_ref().map_or(0, |f| f.undelivered),
        resends: fed.as_ref().map_or(0, |f| f.resends),
        settled,
        bad_exits,
        elapsed_s: start.elapsed().as_secs_f64(),
    };
    let failed = report::print(&run, &audit, &effects);
    report::print_kill_recoveries(&recoveries.results(), KILL_RECOVERY_GOAL);
    if args.logs.is_some() {
        println!("logs: {}", logs.display());
    }
    drop(tmp_logs);
    if failed {
        std::process::exit(1);
    }
    Ok(())
}
