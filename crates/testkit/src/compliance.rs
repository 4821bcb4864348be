//! The stage compliance check: the same proof for every stage that runs on `leadflow-runtime`.
//!
//! One call from a stage crate's integration test:
//!
//! ```text
//! #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
//! async fn tier_complies_with_the_stage_contract() {
//!     StageCompliance {
//!         build: Box::new(|registry| TierStage::new(&TierSettings::default(), registry).unwrap()),
//!         inputs: (0..30).map(scored_lead).collect(),   // valid inputs, each yields outputs
//!         poison: vec![out_of_range_score()],          // decodes, but the stage rejects it
//!         binary: Some(env!("CARGO_BIN_EXE_leadflow-tier").into()),
//!         binary_env: Vec::new(),
//!     }
//!     .run()
//!     .await;
//! }
//! ```
//!
//! What it proves, against the test broker (`LEADFLOW_TEST_BOOTSTRAP`), on fresh topics:
//! 1. **poison → exceptions with a reason**: an undecodable record and every `poison` input land on
//!    the exceptions topic with the stage's name, the source topic, the original bytes and a
//!    non-empty reason, while the good inputs flow on;
//! 2. **retryable → retried in order**: the stage (wrapped) fails two calls with a retryable error;
//!    every output still arrives, in the order a direct run of the stage produces them, and
//!    `leadflow_<stage>_retries_total` counts the two retries;
//! 3. **fatal → the run stops with an error** (`service_main` turns it into a non-zero exit);
//! 4. with `binary` (the stage's service executable, `env!("CARGO_BIN_EXE_leadflow-<stage>")`), on
//!    a 3-partition input topic: **a real SIGKILL loses nothing** (the process is killed mid-stream,
//!    a new one resumes from the committed offsets), **a rebalance under load loses nothing** (a
//!    second process joins mid-stream) and **SIGTERM drains and exits 0**.
//!
//! The local broker (tansu 0.6) leaves a replacement member with no partitions when it joins before
//! the killed member's session timed out (Apache Kafka rebalances on expiry); the check therefore
//! runs its processes with `session.timeout.ms` = 6 s and starts the replacement after it. See
//! `../shared/conventions.md` and `benches/README.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use leadflow_events::AnyEvent;
use leadflow_events::{Codec, ErrorKind, ExceptionRecord, TopicNames, TopicRole};
use leadflow_runtime::{
    Context, NoSettings, Output, RunOptions, ServiceConfig, SideInput, Stage, StageError,
    StageRegistry, run_stage,
};
use tokio_util::sync::CancellationToken;

use crate::process::StageProcess;
use crate::{bootstrap, consume_all, create_topic, produce_raw_all, unique_name};

/// How long the check waits for outputs.
const WAIT: Duration = Duration::from_secs(60);
/// The session timeout the process check runs its stage processes with.
const SESSION_TIMEOUT_MS: u64 = 6_000;

/// What the compliance check needs from a stage. See the module documentation.
pub struct StageCompliance<S: Stage> {
    /// Builds a fresh stage registering its metrics in the given registry (called once per run).
    pub build: Box<dyn Fn(&StageRegistry) -> S + Send + Sync>,
    /// Valid inputs, each producing at least one output; distinct lead ids. 20–50 is plenty.
    pub inputs: Vec<S::Input>,
    /// Inputs that decode but that the stage rejects as poison (may be empty).
    pub poison: Vec<S::Input>,
    /// The stage's service binary, for the SIGKILL / rebalance / SIGTERM checks (`None` skips
    /// only those, and says so on stderr).
    pub binary: Option<PathBuf>,
    /// Extra environment for the binary (stage settings, e.g. `LEADFLOW_STAGE__PROVIDER__KIND`).
    pub binary_env: Vec<(String, String)>,
}

impl<S: Stage> StageCompliance<S> {
    /// Runs every check; panics with what failed.
    pub async fn run(self) {
        self.run_with_side_inputs(Vec::new()).await;
    }

    /// Runs every check with `side` already on the stage's side-input topics (e.g. the rep roster
    /// route needs to route anything): each event is produced to the topic of its role before the
    /// stage starts, and applied to the direct run's stage first.
    pub async fn run_with_side_inputs(self, side: Vec<(TopicRole, AnyEvent)>) {
        assert!(
            self.inputs.len() >= 3,
            "the compliance check needs at least 3 good inputs"
        );
        let expected = self.direct_outputs(&side).await;
        self.check_poison_and_retries(&expected, &side).await;
        self.check_fatal(&side).await;
        match &self.binary {
            Some(binary) => self.check_process(binary, &expected, &side).await,
            None => eprintln!(
                "compliance: {}: no binary given; SIGKILL/SIGTERM process checks not run",
                S::NAME
            ),
        }
    }

    /// The outputs (role, lead id) of a direct, in-process run of a fresh stage, in order.
    async fn direct_outputs(&self, side: &[(TopicRole, AnyEvent)]) -> Vec<(TopicRole, String)> {
        let stage = (self.build)(&StageRegistry::new(S::NAME));
        for (_, event) in side {
            stage
                .on_side_input(event.clone())
                .unwrap_or_else(|e| panic!("a side-input event was rejected: {e}"));
        }
        let ctx = Context::for_test(leadflow_events::Timestamp(0));
        let mut out = Vec::new();
        for input in &self.inputs {
            let outputs = stage
                .process(input.clone(), &ctx)
                .await
                .unwrap_or_else(|e| panic!("a good input was rejected by a direct run: {e}"));
            assert!(
                !outputs.is_empty(),
                "every good input must produce an output"
            );
            for o in outputs {
                let lead = o.event.lead_id().unwrap_or(o.record_key()).to_owned();
                out.push((o.role, lead));
            }
        }
        out
    }

    async fn check_poison_and_retries(
        &self,
        expected: &[(TopicRole, String)],
        side: &[(TopicRole, AnyEvent)],
    ) {
        let t = Topics::<S>::create(&self.build, expected, 1, side).await;
        let codec = Codec::single_object().expect("codec");
        // good inputs with an undecodable record and the poison inputs in the middle
        let mut records = encode(&codec, &self.inputs).await;
        let junk = b"not an event at all".to_vec();
        let middle = records.len() / 2;
        records.insert(middle, (Some(b"compliance-junk".to_vec()), junk.clone()));
        for (i, p) in encode(&codec, &self.poison).await.into_iter().enumerate() {
            records.insert(middle + 1 + i, p);
        }
        produce_raw_all(&t.bootstrap, t.input(), records).await;

        let registry = StageRegistry::new(S::NAME);
        let stage = Injected::new((self.build)(&registry), Fault::Retryable { calls: [1, 2] });
        let stop = CancellationToken::new();
        let mut cfg = t.cfg.clone();
        cfg.retry.initial_backoff_ms = 10;
        cfg.retry.max_backoff_ms = 20;
        cfg.retry.max_attempts = 5;
        let options = RunOptions {
            shutdown: stop.clone(),
            metrics: Some(registry.clone()),
            ..RunOptions::default()
        };
        let run = tokio::spawn(async move { run_stage(&cfg, stage, options).await });

        let observed = t.outputs(&codec, expected.len()).await;
        let exceptions = consume_all(
            &t.bootstrap,
            &t.cfg.topics.exceptions,
            1 + self.poison.len(),
            WAIT,
        )
        .await;
        stop.cancel();
        let summary = run
            .await
            .expect("run task")
            .unwrap_or_else(|e| panic!("{}: the run failed: {e}", S::NAME));

        for role in roles(expected) {
            let want: Vec<&String> = expected
                .iter()
                .filter(|(r, _)| *r == role)
                .map(|(_, l)| l)
                .collect();
            let got: Vec<&String> = observed
                .iter()
                .filter(|(r, _)| *r == role)
                .map(|(_, l)| l)
                .collect();
            assert_eq!(
                got,
                want,
                "{}: outputs on {role:?} in input order despite the retries",
                S::NAME
            );
        }
        assert_eq!(
            exceptions.len(),
            1 + self.poison.len(),
            "{}: one exception record per poison input",
            S::NAME
        );
        let mut kinds = Vec::new();
        for r in &exceptions {
            let e: ExceptionRecord = codec.decode(&r.payload).await.expect("exception decodes");
            assert_eq!(e.stage, S::NAME);
            assert_eq!(e.source_topic, t.input());
            assert!(!e.reason.trim().is_empty(), "an exception has a reason");
            if e.error_kind == ErrorKind::Decode {
                assert_eq!(e.original, junk, "the original bytes are kept for replay");
            }
            kinds.push(e.error_kind);
        }
        assert_eq!(
            kinds.iter().filter(|k| **k == ErrorKind::Decode).count(),
            1,
            "{}: the undecodable record is a decode exception: {kinds:?}",
            S::NAME
        );
        let metrics = registry.render();
        let retries = format!("leadflow_{}_retries_total 2", S::NAME.replace('-', "_"));
        assert!(
            metrics.contains(&retries),
            "{}: two retries counted ({retries}) in:\n{metrics}",
            S::NAME
        );
        assert_eq!(summary.exceptions, 1 + self.poison.len() as u64);
    }

    async fn check_fatal(&self, side: &[(TopicRole, AnyEvent)]) {
        let t = Topics::<S>::create(&self.build, &[], 1, side).await;
        let codec = Codec::single_object().expect("codec");
        produce_raw_all(
            &t.bootstrap,
            t.input(),
            encode(&codec, &self.inputs[..1]).await,
        )
        .await;
        let registry = StageRegistry::new(S::NAME);
        let stage = Injected::new((self.build)(&registry), Fault::Fatal);
        let options = RunOptions {
            metrics: Some(registry),
            ..RunOptions::default()
        };
        let result = tokio::time::timeout(WAIT, run_stage(&t.cfg, stage, options))
            .await
            .unwrap_or_else(|_| panic!("{}: a fatal error did not stop the run", S::NAME));
        let err = result.expect_err("a fatal error stops the run with an error");
        assert!(
            err.to_string().contains("injected fatal error"),
            "{}: {err}",
            S::NAME
        );
    }

    async fn check_process(
        &self,
        binary: &std::path::Path,
        expected: &[(TopicRole, String)],
        side: &[(TopicRole, AnyEvent)],
    ) {
        let t = Topics::<S>::create(&self.build, expected, 3, side).await;
        let codec = Codec::single_object().expect("codec");
        let mut records = encode(&codec, &self.inputs).await;
        let third_len = records.len().div_ceil(3);
        let batch_c = records.split_off((2 * third_len).min(records.len()));
        let batch_b = records.split_off(third_len.min(records.len()));
        let batch_a = records;
        let want: BTreeSet<String> = expected.iter().map(|(_, l)| l.clone()).collect();
        let mut env = t.process_env();
        env.extend(self.binary_env.iter().cloned());
        let log_dir = tempfile::tempdir().expect("log dir");

        // a first process, SIGKILLed mid-stream (inputs still arriving)
        let mut first = StageProcess::start(binary, &env, log_dir.path(), "first");
        let feeding = t.produce_paced(batch_a);
        let _ = t.outputs(&codec, (third_len / 2).max(1)).await;
        first.kill();
        feeding.await.expect("producer task");
        // tansu: the replacement must join after the killed member's session expired
        tokio::time::sleep(Duration::from_millis(SESSION_TIMEOUT_MS + 1_500)).await;

        // a replacement under load, then a second member joining under load (a rebalance with
        // in-flight work on the partitions it takes over)
        let second = StageProcess::start(binary, &env, log_dir.path(), "second");
        t.produce_paced(batch_b).await.expect("producer task");
        let _ = t.outputs(&codec, third_len + third_len / 2).await;
        let feeding = t.produce_paced(batch_c);
        let third = StageProcess::start(binary, &env, log_dir.path(), "third");
        feeding.await.expect("producer task");
        let deadline = Instant::now() + Duration::from_secs(90);
        let got = loop {
            let got: BTreeSet<String> = t
                .outputs(&codec, usize::MAX)
                .await
                .into_iter()
                .map(|(_, l)| l)
                .collect();
            if got.is_superset(&want) || Instant::now() > deadline {
                break got;
            }
        };
        let missing: Vec<_> = want.difference(&got).collect();
        assert!(
            missing.is_empty(),
            "{}: lost across SIGKILL and rebalance: {missing:?}\nsecond log:\n{}\nthird log:\n{}",
            S::NAME,
            second.log(),
            third.log()
        );
        for p in [second, third] {
            let status = p.terminate(Duration::from_secs(30));
            assert_eq!(
                status.code(),
                Some(0),
                "{}: SIGTERM drains and exits 0",
                S::NAME
            );
        }
    }
}

/// The topics of one check run and the configuration naming them.
struct Topics<S> {
    bootstrap: String,
    cfg: ServiceConfig<NoSettings>,
    outputs: Vec<TopicRole>,
    _stage: std::marker::PhantomData<S>,
}

impl<S: Stage> Topics<S> {
    async fn create(
        build: &(dyn Fn(&StageRegistry) -> S + Send + Sync),
        expected: &[(TopicRole, String)],
        partitions: i32,
        side_events: &[(TopicRole, AnyEvent)],
    ) -> Self {
        let bootstrap = bootstrap();
        let mut names = serde_json::to_value(TopicNames::default()).expect("topic names");
        for role in TopicRole::ALL {
            names[role.config_key()] = serde_json::Value::String(unique_name(&format!(
                "{}-{}",
                S::NAME,
                role.config_key()
            )));
        }
        let mut cfg = ServiceConfig::<NoSettings> {
            topics: serde_json::from_value(names).expect("topic names"),
            bootstrap_servers: bootstrap.clone(),
            group_id: Some(unique_name(&format!("{}-compliance", S::NAME))),
            shutdown_grace_ms: 20_000,
            ..ServiceConfig::default()
        };
        cfg.http.listen = "127.0.0.1:0".into();
        let side: Vec<SideInput> = build(&StageRegistry::new(S::NAME)).side_inputs();
        let outputs = roles(expected);
        let mut create: Vec<(TopicRole, i32)> =
            vec![(S::INPUT, partitions), (TopicRole::Exceptions, 1)];
        create.extend(side.iter().map(|s| (s.role, 1)));
        create.extend(outputs.iter().map(|r| (*r, partitions)));
        let mut done = BTreeSet::new();
        for (role, n) in create {
            if done.insert(role.config_key()) {
                create_topic(&bootstrap, cfg.topics.name(role), n).await;
            }
        }
        let codec = Codec::single_object().expect("codec");
        for (role, event) in side_events {
            let topic = cfg.topics.name(*role);
            let bytes = event
                .encode(&codec, topic)
                .await
                .expect("side event encodes");
            produce_raw_all(
                &bootstrap,
                topic,
                vec![(Some(event.key().as_bytes().to_vec()), bytes)],
            )
            .await;
        }
        Self {
            bootstrap,
            cfg,
            outputs,
            _stage: std::marker::PhantomData,
        }
    }

    fn input(&self) -> &str {
        self.cfg.topics.name(S::INPUT)
    }

    /// (role, lead id) of every output so far, in topic order, once `at_least` arrived or the wait
    /// is over (`usize::MAX`: whatever is there after a short wait).
    async fn outputs(&self, codec: &Codec, at_least: usize) -> Vec<(TopicRole, String)> {
        let wait = if at_least == usize::MAX {
            Duration::from_secs(3)
        } else {
            WAIT
        };
        let mut out = Vec::new();
        for role in &self.outputs {
            let kind = role.event_kind().expect("output roles carry events");
            let want = if at_least == usize::MAX {
                usize::MAX
            } else {
                at_least
            };
            for r in consume_all(&self.bootstrap, self.cfg.topics.name(*role), want, wait).await {
                let event = AnyEvent::decode(codec, kind, &r.payload)
                    .await
                    .unwrap_or_else(|e| panic!("an output on {role:?} does not decode: {e}"));
                let lead = event.lead_id().unwrap_or(event.key()).to_owned();
                out.push((*role, lead));
            }
        }
        out
    }

    /// Produces `records` to the input topic a few at a time (about 100 per second), in a task.
    fn produce_paced(
        &self,
        records: Vec<(Option<Vec<u8>>, Vec<u8>)>,
    ) -> tokio::task::JoinHandle<()> {
        let (bootstrap, topic) = (self.bootstrap.clone(), self.input().to_owned());
        tokio::spawn(async move {
            let mut records = records;
            while !records.is_empty() {
                let rest = records.split_off(records.len().min(5));
                produce_raw_all(&bootstrap, &topic, records).await;
                records = rest;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    }

    /// The environment a stage process reads its configuration from.
    fn process_env(&self) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        env.insert("LEADFLOW_BOOTSTRAP_SERVERS".into(), self.bootstrap.clone());
        if let Some(g) = &self.cfg.group_id {
            env.insert("LEADFLOW_GROUP_ID".into(), g.clone());
        }
        for role in TopicRole::ALL {
            env.insert(
                format!(
                    "LEADFLOW_TOPICS__{}",
                    role.config_key().to_ascii_uppercase()
                ),
                self.cfg.topics.name(role).to_owned(),
            );
        }
        env.insert("LEADFLOW_HTTP__LISTEN".into(), "127.0.0.1:0".into());
        env.insert("LEADFLOW_SHUTDOWN_GRACE_MS".into(), "20000".into());
        env.insert(
            "LEADFLOW_KAFKA_OVERRIDES".into(),
            format!("session.timeout.ms={SESSION_TIMEOUT_MS},heartbeat.interval.ms=500"),
        );
        env
    }
}

fn roles(expected: &[(TopicRole, String)]) -> Vec<TopicRole> {
    let mut roles = Vec::new();
    for (r, _) in expected {
        if !roles.contains(r) {
            roles.push(*r);
        }
    }
    roles
}

async fn encode<E: leadflow_events::Event>(
    codec: &Codec,
    events: &[E],
) -> Vec<(Option<Vec<u8>>, Vec<u8>)> {
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        let bytes = codec.encode("compliance", e).await.expect("input encodes");
        out.push((Some(e.key().as_bytes().to_vec()), bytes));
    }
    out
}

/// Faults the wrapper injects.
enum Fault {
    /// These calls of `process` (0-based, counted across inputs) fail with a retryable error.
    Retryable { calls: [usize; 2] },
    /// The first call fails with a fatal error.
    Fatal,
}

/// A stage that injects faults around the real one.
struct Injected<S> {
    inner: S,
    fault: Fault,
    calls: AtomicUsize,
}

impl<S> Injected<S> {
    fn new(inner: S, fault: Fault) -> Self {
        Self {
            inner,
            fault,
            calls: AtomicUsize::new(0),
        }
    }
}

impl<S: Stage> Stage for Injected<S> {
    type Input = S::Input;
    const NAME: &'static str = S::NAME;
    const INPUT: TopicRole = S::INPUT;

    fn partition_concurrency(&self) -> usize {
        self.inner.partition_concurrency()
    }

    async fn process(&self, input: S::Input, ctx: &Context) -> Result<Vec<Output>, StageError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        match &self.fault {
            Fault::Retryable { calls } if calls.contains(&call) => {
                return Err(StageError::retryable("injected retryable error"));
            }
            Fault::Fatal => return Err(StageError::fatal("injected fatal error")),
            _ => {}
        }
        self.inner.process(input, ctx).await
    }

    fn side_inputs(&self) -> Vec<SideInput> {
        self.inner.side_inputs()
    }

    fn on_side_input(&self, event: AnyEvent) -> Result<(), StageError> {
        self.inner.on_side_input(event)
    }
}
