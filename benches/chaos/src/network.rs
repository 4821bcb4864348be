//! `leadflow-chaos --network`: the pipeline with every process in a network namespace of its own
//! (`netlab.rs`), fed at a steady rate while four network faults are made one after the other:
//!
//! 1. a stage (tier) partitioned from the broker for `--fault-secs` (longer than its 10 s session);
//! 2. the broker partitioned from everything (stages, stand-in, the harness) for `--fault-secs`;
//! 3. a slow, lossy link: enrich's broker traffic delayed 200 ms ± 50 ms and 5 % of its packets
//!    dropped in each direction, for `--fault-secs`;
//! 4. notify cut off from the Slack/CRM stand-in for `--fault-secs`.
//!
//! For each it measures when the stages concerned reported not-ready (`/readyz`, the runtime's
//! RULES.md rule 5), when they were ready again, and when the pipeline had caught up (every
//! stage ready and the consumer lag of every group back to ~2 s of input). At the end it accounts
//! for every lead and every Slack post and CRM task, like the process-fault run.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use leadflow_events::{TopicNames, TopicRole};
use leadflow_testkit::{find_tansu, kafka_answers};

use crate::delay_proxy::{self, Delay};
use crate::effects::Sandbox;
use crate::fleet::Fleet;
use crate::groups::{GroupReader, STAGES};
use crate::netlab::NetLab;
use crate::settle::{settle, supervise_for};
use crate::{KillOnDrop, audit, feeder, report, say, stopped};

const BROKER_PORT: u16 = 9092;
const STAGE_HTTP_PORT: u16 = 9100;
const SANDBOX_HTTP_PORT: u16 = 8025;
const SANDBOX_SMTP_PORT: u16 = 2525;
/// Longest wait for the pipeline to catch up after a fault is healed.
const RECOVERY_LIMIT: Duration = Duration::from_secs(120);
/// Seconds between a fault's recovery and the next fault.
const GAP: Duration = Duration::from_secs(5);

pub struct NetArgs {
    pub rate: f64,
    /// How long the slow link and the Slack/CRM cut last.
    pub fault: Duration,
    /// How long the partitions (a stage from the broker, the broker from everything) last.
    pub partition: Duration,
    pub seed: u64,
    pub idempotent: bool,
    pub bin_dir: PathBuf,
    pub root: PathBuf,
    pub logs: PathBuf,
    pub roster: PathBuf,
    pub settle: u64,
    pub max_settle: u64,
    pub stage_env: Vec<String>,
    /// `stage`, `broker`, `slow`, `saas`, in the order to make them.
    pub faults: Vec<String>,
    /// The stages' `http.unready_after_ms`.
    pub unready_after: Duration,
}

impl NetArgs {
    /// The runtime's documented bound for turning not-ready (RULES.md rule 5): the setting plus
    /// two probe periods of a quarter of it.
    fn unready_bound(&self) -> Duration {
        self.unready_after + self.unready_after / 2
    }
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    StagePartition,
    BrokerPartition,
    SlowLink,
    NotifyCutFromSaas,
}

impl Fault {
    fn lasts(self, args: &NetArgs) -> Duration {
        match self {
            Fault::StagePartition | Fault::BrokerPartition => args.partition,
            Fault::SlowLink | Fault::NotifyCutFromSaas => args.fault,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Fault::StagePartition => "tier partitioned from the broker",
            Fault::BrokerPartition => "broker partitioned from everything",
            Fault::SlowLink => "enrich's link: 200 ms ± 50 ms, 5 % loss",
            Fault::NotifyCutFromSaas => "notify cut off from Slack/CRM",
        }
    }
    /// The stages whose readiness must drop during the fault.
    fn loses_broker(self) -> Vec<&'static str> {
        match self {
            Fault::StagePartition => vec!["tier"],
            Fault::BrokerPartition => STAGES.iter().map(|(s, _, _)| *s).collect(),
            Fault::SlowLink | Fault::NotifyCutFromSaas => Vec::new(),
        }
    }
}

/// One look at the pipeline.
#[derive(Clone, Debug, Default)]
struct Sample {
    at: Duration,
    /// stage → `/readyz` answered 200
    ready: BTreeMap<&'static str, bool>,
    /// Consumer lag summed over every group; `None` when the broker did not answer.
    lag: Option<i64>,
}

/// What one fault did.
struct Outcome {
    fault: Fault,
    /// Time from the cut to the first not-ready look, per stage that lost the broker (the slowest).
    unready_after: Option<Duration>,
    /// Stages that should have turned not-ready and did not.
    stayed_ready: Vec<&'static str>,
    max_lag: i64,
    /// From the heal to every stage ready again.
    ready_after_heal: Option<Duration>,
    /// From the heal to every stage ready and the lag back to ~2 s of input.
    recovered_after_heal: Option<Duration>,
}

struct Monitor {
    samples: Arc<Mutex<Vec<Sample>>>,
    started: Instant,
}

impl Monitor {
    fn start(bootstrap: String, stage_urls: Vec<(&'static str, String)>) -> Result<Self> {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let started = Instant::now();
        let out = samples.clone();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(800))
            .build()?;
        tokio::spawn(async move {
            let lags = Arc::new(GroupReader::new(&bootstrap));
            loop {
                let mut s = Sample {
                    at: started.elapsed(),
                    ..Sample::default()
                };
                for (stage, url) in &stage_urls {
                    let ok = http
                        .get(url)
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success());
                    s.ready.insert(stage, ok);
                }
                let l = lags.clone();
                s.lag = tokio::task::spawn_blocking(move || l.total_lag())
                    .await
                    .ok()
                    .flatten();
                if let Ok(mut v) = out.lock() {
                    v.push(s);
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
        Ok(Self { samples, started })
    }

    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    fn since(&self, from: Duration) -> Vec<Sample> {
        self.samples
            .lock()
            .map(|v| v.iter().filter(|s| s.at >= from).cloned().collect())
            .unwrap_or_default()
    }

    fn latest(&self) -> Option<Sample> {
        self.samples.lock().ok().and_then(|v| v.last().cloned())
    }
}

/// tansu in the broker's namespace, listening on its lab address; stopped when dropped.
struct NetBroker {
    _dir: tempfile::TempDir,
    process: KillOnDrop,
}

impl NetBroker {
    fn start(lab: &NetLab, logs: &Path) -> Result<(Self, String)> {
        let tansu = find_tansu().context("tansu is not installed (scripts/broker.sh install)")?;
        let dir = tempfile::Builder::new()
            .prefix("leadflow-netchaos-broker-")
            .tempdir()?;
        let host = lab.host("broker")?;
        let addr = format!("{}:{BROKER_PORT}", host.ip);
        let url = format!("tcp://{addr}");
        let log = std::fs::File::create(logs.join("tansu.log"))?;
        let child = Command::new("ip")
            .args(["netns", "exec", &host.netns])
            .arg(&tansu)
            .args([
                "broker",
                "--cluster-id",
                "leadflow-netchaos",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
                "--storage-engine",
                "sqlite://broker.db",
            ])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting tansu in its namespace")?;
        let broker = Self {
            _dir: dir,
            process: KillOnDrop(child),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while kafka_answers(&addr, Duration::from_secs(1)).is_err() {
            if Instant::now() > deadline {
                bail!("tansu did not answer on {addr} within 30 s");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok((broker, addr))
    }
}

/// Writes a script per stage that runs its binary inside the stage's namespace.
fn wrappers(lab: &NetLab, bin_dir: &Path, dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for (stage, _, _) in STAGES {
        let name = format!("leadflow-{stage}");
        let path = dir.join(&name);
        std::fs::write(&path, lab.wrapper(stage, &bin_dir.join(&name))?)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

/// Runs the network-fault run; returns whether it failed. Prints why and returns `Ok(false)`
/// when namespaces cannot be made here.
pub async fn run(args: NetArgs) -> Result<bool> {
    let start = Instant::now();
    if let Some(why) = crate::netlab::unavailable() {
        println!("network faults: SKIPPED — {why}");
        return Ok(false);
    }
    let mut hosts = vec!["broker", "sandbox"];
    hosts.extend(STAGES.iter().map(|(s, _, _)| *s));
    let lab = NetLab::create(&hosts).context("making the network namespaces")?;
    say(
        start,
        format!(
            "network lab up: {} namespaces on a bridge, harness at {}",
            lab.hosts.len(),
            lab.gateway
        ),
    );
    let (mut broker, bootstrap) = NetBroker::start(&lab, &args.logs)?;
    crate::cli(&args.bin_dir, &bootstrap, &["topics", "create"])?;
    crate::cli(
        &args.bin_dir,
        &bootstrap,
        &["reps", "import", &args.roster.display().to_string()],
    )?;

    let sandbox_host = lab.host("sandbox")?.clone();
    let sandbox_http = format!("{}:{SANDBOX_HTTP_PORT}", sandbox_host.ip);
    let sandbox_smtp = format!("{}:{SANDBOX_SMTP_PORT}", sandbox_host.ip);
    let mut sandbox_proc = KillOnDrop(
        Command::new("ip")
            .args(["netns", "exec", &sandbox_host.netns])
            .arg(args.bin_dir.join("leadflow-sandbox"))
            .args([
                "--http",
                &sandbox_http,
                "--smtp",
                &sandbox_smtp,
                "--public-url",
                &format!("http://{sandbox_http}"),
            ])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(args.logs.join("sandbox.log"))?)
            .stderr(std::fs::File::create(args.logs.join("sandbox.err.log"))?)
            .spawn()
            .context("starting leadflow-sandbox")?,
    );
    crate::wait_http(&sandbox_http, Duration::from_secs(20))?;
    let sandbox = Sandbox::new(format!("http://{sandbox_http}"));

    // enrich reaches the broker through the delay proxy from the start (delay 0 until the fault)
    let delay = Delay::default();
    let broker_addr = SocketAddr::from((lab.host("broker")?.ip, BROKER_PORT));
    let proxy = delay_proxy::start(
        SocketAddr::from((lab.gateway, 0)),
        broker_addr,
        delay.clone(),
    )
    .await?;
    let via = (lab.gateway, proxy.port());
    lab.redirect("enrich", (lab.host("broker")?.ip, BROKER_PORT), via)?;

    let wrapper_dir = tempfile::Builder::new()
        .prefix("leadflow-netchaos-bin-")
        .tempdir()?;
    wrappers(&lab, &args.bin_dir, wrapper_dir.path())?;
    let mut specs = crate::stage_specs(
        args.idempotent,
        &bootstrap,
        &sandbox_http,
        &sandbox_smtp,
        &args.root,
    );
    let mut stage_urls = Vec::new();
    for spec in &mut specs {
        let ip = lab.host(spec.name)?.ip;
        let name = STAGES
            .iter()
            .map(|(s, _, _)| *s)
            .find(|s| *s == spec.name)
            .context("stage")?;
        spec.env.insert(
            "LEADFLOW_HTTP__LISTEN".into(),
            format!("{ip}:{STAGE_HTTP_PORT}"),
        );
        spec.env.insert(
            "LEADFLOW_HTTP__UNREADY_AFTER_MS".into(),
            args.unready_after.as_millis().to_string(),
        );
        stage_urls.push((name, format!("http://{ip}:{STAGE_HTTP_PORT}/readyz")));
    }
    crate::apply_stage_env(&mut specs, &args.stage_env)?;
    let mut fleet = Fleet::new(wrapper_dir.path(), &args.logs, specs);
    fleet.start_all();
    if let Err(e) = fleet.wait_assigned(Duration::from_secs(120)) {
        bail!(
            "the pipeline did not start: {e} (logs in {})",
            args.logs.display()
        );
    }
    say(start, format!("pipeline up: {}", fleet.shape()));
    let monitor = Monitor::start(bootstrap.clone(), stage_urls)?;

    let faults = args
        .faults
        .iter()
        .map(|f| match f.as_str() {
            "stage" => Ok(Fault::StagePartition),
            "broker" => Ok(Fault::BrokerPartition),
            "slow" => Ok(Fault::SlowLink),
            "saas" => Ok(Fault::NotifyCutFromSaas),
            other => bail!("unknown network fault {other:?} (stage, broker, slow, saas)"),
        })
        .collect::<Result<Vec<_>>>()?;
    // enough input for every fault, its recovery and the gaps; the feeder stops when told
    let planned = Duration::from_secs(10)
        + faults
            .iter()
            .map(|f| f.lasts(&args) + Duration::from_secs(15) + GAP)
            .sum::<Duration>();
    let leads = (args.rate * planned.as_secs_f64()).ceil() as u64;
    say(
        start,
        format!(
            "feeding {leads} leads at {}/s (~{:.0} s); partitions of {} s, other faults of {} s",
            args.rate,
            planned.as_secs_f64(),
            args.partition.as_secs(),
            args.fault.as_secs()
        ),
    );
    let feeder = {
        let bs = bootstrap.clone();
        let (rate, seed, idem) = (args.rate, args.seed, args.idempotent);
        tokio::spawn(async move {
            let raw = TopicNames::default();
            feeder::feed(&bs, raw.name(TopicRole::Raw), leads, rate, seed, idem).await
        })
    };
    tokio::time::sleep(Duration::from_secs(10)).await;

    let threshold = (args.rate * 2.0).ceil() as i64 + 10;
    let mut outcomes = Vec::new();
    for fault in faults {
        stopped()?;
        say(
            start,
            format!(
                "fault: {} for {} s",
                fault.describe(),
                fault.lasts(&args).as_secs()
            ),
        );
        let cut_at = monitor.now();
        match fault {
            Fault::StagePartition => lab.cut("tier", lab.host("broker")?.ip)?,
            Fault::BrokerPartition => lab.isolate("broker")?,
            Fault::SlowLink => {
                delay.set(Duration::from_millis(200), Duration::from_millis(50));
                lab.degrade(
                    "enrich",
                    5,
                    Some(((lab.host("broker")?.ip, BROKER_PORT), via)),
                )?;
            }
            Fault::NotifyCutFromSaas => lab.cut("notify", sandbox_host.ip)?,
        }
        supervise_for(&mut fleet, Duration::ZERO, fault.lasts(&args), start).await?;
        match fault {
            Fault::StagePartition => lab.clear("tier"),
            Fault::BrokerPartition => lab.clear("broker"),
            Fault::SlowLink => {
                delay.set(Duration::ZERO, Duration::ZERO);
                lab.redirect("enrich", (lab.host("broker")?.ip, BROKER_PORT), via)?;
            }
            Fault::NotifyCutFromSaas => lab.clear("notify"),
        }
        let heal_at = monitor.now();
        say(start, "healed; waiting for the pipeline to catch up");
        let deadline = Instant::now() + RECOVERY_LIMIT;
        while Instant::now() < deadline {
            stopped()?;
            if monitor.latest().is_some_and(|s| {
                s.at > heal_at
                    && s.ready.values().all(|r| *r)
                    && s.lag.is_some_and(|l| l <= threshold)
            }) {
                break;
            }
            supervise_for(
                &mut fleet,
                Duration::ZERO,
                Duration::from_millis(250),
                start,
            )
            .await?;
        }
        let o = judge(fault, &monitor.since(cut_at), cut_at, heal_at, threshold);
        say(
            start,
            format!(
                "  not-ready after {} (stayed ready: {:?}); max lag {}; ready {} and caught up {} after the heal",
                fmt_dur(o.unready_after),
                o.stayed_ready,
                o.max_lag,
                fmt_dur(o.ready_after_heal),
                fmt_dur(o.recovered_after_heal)
            ),
        );
        outcomes.push(o);
        supervise_for(&mut fleet, Duration::ZERO, GAP, start).await?;
    }

    let fed = feeder.await.context("feeder task")??;
    say(
        start,
        format!(
            "fed {} leads ({} sends repeated, {} undelivered)",
            fed.leads, fed.resends, fed.undelivered
        ),
    );
    let settled = settle(
        &bootstrap,
        &mut fleet,
        args.settle,
        args.max_settle,
        Duration::ZERO,
        start,
    )
    .await?;
    let bad_exits = fleet.stop_all(Duration::from_secs(20));
    say(start, "reading every topic from the beginning");
    let audit = audit::run(&bootstrap, &TopicNames::default()).await?;
    let effects = sandbox
        .effects(&args.logs.join("sandbox-state.json"))
        .await?;
    sandbox_proc.stop();
    broker.process.stop();

    let run = report::Run {
        leads: fed.leads as u64,
        rate: args.rate,
        kills: 0,
        restarts: fleet.log.restarts,
        second_instances: 0,
        unexpected_exits: fleet.log.unexpected_exits.clone(),
        broker_restarts: 0,
        broker_down_s: 0.0,
        sandbox_faults: 0,
        undelivered: fed.undelivered,
        resends: fed.resends,
        settled,
        bad_exits,
        elapsed_s: start.elapsed().as_secs_f64(),
    };
    let mut failed = report::print(&run, &audit, &effects);
    failed |= print_faults(&outcomes, &effects, &run, args.unready_bound());
    Ok(failed)
}

fn judge(
    fault: Fault,
    samples: &[Sample],
    cut_at: Duration,
    heal_at: Duration,
    threshold: i64,
) -> Outcome {
    let during: Vec<&Sample> = samples.iter().filter(|s| s.at < heal_at).collect();
    let mut slowest: Option<Duration> = None;
    let mut stayed_ready = Vec::new();
    for stage in &fault.loses_broker() {
        match during
            .iter()
            .find(|s| s.ready.get(stage) == Some(&false))
            .map(|s| s.at - cut_at)
        {
            Some(d) => slowest = Some(slowest.map_or(d, |x| x.max(d))),
            None => stayed_ready.push(*stage),
        }
    }
    let after: Vec<&Sample> = samples.iter().filter(|s| s.at > heal_at).collect();
    let ready_after_heal = after
        .iter()
        .find(|s| !s.ready.is_empty() && s.ready.values().all(|r| *r))
        .map(|s| s.at - heal_at);
    let recovered_after_heal = after
        .iter()
        .find(|s| s.ready.values().all(|r| *r) && s.lag.is_some_and(|l| l <= threshold))
        .map(|s| s.at - heal_at);
    Outcome {
        fault,
        unready_after: slowest,
        stayed_ready,
        max_lag: samples.iter().filter_map(|s| s.lag).max().unwrap_or(0),
        ready_after_heal,
        recovered_after_heal,
    }
}

fn fmt_dur(d: Option<Duration>) -> String {
    d.map_or("—".to_owned(), |d| format!("{:.1} s", d.as_secs_f64()))
}

/// The fault table; returns whether a fault was not survived.
fn print_faults(
    outcomes: &[Outcome],
    fx: &crate::effects::Effects,
    run: &report::Run,
    unready_bound: Duration,
) -> bool {
    println!(
        "| network fault | not-ready after (bound {:.2} s) | max consumer lag | ready after heal | caught up after heal |",
        unready_bound.as_secs_f64()
    );
    println!("|---|---|---|---|---|");
    let mut problems = Vec::new();
    for o in outcomes {
        println!(
            "| {} | {} | {} | {} | {} |",
            o.fault.describe(),
            if o.fault.loses_broker().is_empty() {
                "(stays ready)".to_owned()
            } else {
                fmt_dur(o.unready_after)
            },
            o.max_lag,
            fmt_dur(o.ready_after_heal),
            fmt_dur(o.recovered_after_heal)
        );
        if !o.stayed_ready.is_empty() {
            problems.push(format!(
                "{}: {:?} never reported not-ready",
                o.fault.describe(),
                o.stayed_ready
            ));
        }
        if o.unready_after
            .is_some_and(|d| d > unready_bound + Duration::from_secs(1))
        {
            problems.push(format!(
                "{}: not-ready only after {}",
                o.fault.describe(),
                fmt_dur(o.unready_after)
            ));
        }
        if o.recovered_after_heal.is_none() {
            problems.push(format!(
                "{}: not caught up within {} s of the heal",
                o.fault.describe(),
                RECOVERY_LIMIT.as_secs()
            ));
        }
    }
    if fx.slack_duplicate_posts > 0 || fx.crm_duplicate_tasks > 0 {
        problems.push(format!(
            "effects twice: {} Slack posts, {} CRM tasks",
            fx.slack_duplicate_posts, fx.crm_duplicate_tasks
        ));
    }
    if !run.unexpected_exits.is_empty() {
        problems.push(format!(
            "{} stage exits on their own",
            run.unexpected_exits.len()
        ));
    }
    println!();
    if problems.is_empty() {
        println!("NETWORK RESULT: ok — every fault survived, nothing done twice");
        false
    } else {
        println!("NETWORK RESULT: FAILED — {}", problems.join("; "));
        true
    }
}
