//! The stage compliance check: the same proof for every stage that runs on `leadflow-runtime`.
//!
//! One call from a stage crate's integration test. A stage whose outputs follow each input:
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
//! A stage whose outputs come later, from its own timers ([`DeferredCompliance`]: the sla-watchdog
//! escalates when a deadline's timer fires, recalibrate publishes a model version when enough labels
//! arrived) declares instead what the inputs must cause (`expected`, in order, told apart by
//! `identify`) and what makes it appear (`trigger`: the stage's clock moving, or just the inputs
//! arriving). Its `build` gets a [`Wiring`]: the run's configuration (topics, group, broker), the
//! check's [`ManualClock`] and the metrics registry, so the stage's timers run on the same topics
//! and time as the check.
//!
//! What it proves, against the test broker (`LEADFLOW_TEST_BOOTSTRAP`), on fresh topics:
//! 1. **poison → exceptions with a reason**: an undecodable record and every `poison` input land on
//!    the exceptions topic with the stage's name, the source topic, the original bytes and a
//!    non-empty reason, while the good inputs flow on;
//! 2. **retryable → retried in order**: the stage (wrapped) fails two calls with a retryable error;
//!    the real stage still sees every good input exactly once (in input order when it takes one
//!    input of a partition at a time), the failed ones included; every output still arrives, in the
//!    order a direct run of the stage produces them (or, for a deferred stage, the declared order,
//!    and only once the trigger happened: nothing appears before the clock moves), and
//!    `leadflow_<stage>_retries_total` counts the two retries;
//! 3. **fatal → the run stops with an error** (`service_main` turns it into a non-zero exit);
//! 4. with `binary` (the stage's service executable, `env!("CARGO_BIN_EXE_leadflow-<stage>")`), on
//!    a 3-partition input topic: **a real SIGKILL loses nothing** (the process is killed mid-stream
//!    — after some outputs, or for a deferred stage after some committed inputs —, a new one resumes
//!    from the committed offsets and whatever state the stage rebuilds), **a rebalance under load
//!    loses nothing** (a second process joins mid-stream) and **SIGTERM drains and exits 0**; a
//!    deferred stage's outputs are there exactly once (they come from its state, not from
//!    redelivered inputs). The processes run on the wall clock: a stage whose timers run on its
//!    clock gives `process_inputs`, inputs whose timers are due a given time from now, and gets the
//!    timer process check (`compliance/timers.rs`): the SIGKILL happens with timers open and the
//!    replacement fires them exactly once, never re-firing what the killed process had
//!    acknowledged; a process joins with timers open, fires some of them (ownership moved) and
//!    nothing fires twice.
//!
//! The local broker (tansu 0.6) leaves a replacement member with no partitions when it joins before
//! the killed member's session timed out (Apache Kafka rebalances on expiry); the check therefore
//! runs its processes with `session.timeout.ms` = 6 s and starts the replacement after it. See
//! `../shared/conventions.md` and `benches/README.md`.

mod checks;
mod inject;
mod timers;
mod topics;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use leadflow_events::{AnyEvent, Timestamp, TopicRole};
use leadflow_runtime::{
    Clock, Context, NoSettings, ServiceConfig, Stage, StageRegistry, StageSettings,
};

use crate::clock::ManualClock;
use checks::{Plan, Progress};
use topics::lead_or_key;

/// What the compliance check needs from a stage whose outputs follow each input. See the module
/// documentation.
pub struct StageCompliance<S: Stage> {
    /// Builds a fresh stage registering its metrics in the given registry (called once per run).
    pub build: Box<dyn Fn(&StageRegistry) -> S + Send + Sync>,
    /// Valid inputs, each producing at least one output; distinct keys (lead ids). 20–50 is
    /// plenty.
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
        let others = (self.build)(&StageRegistry::new(S::NAME))
            .side_inputs()
            .into_iter()
            .map(|s| s.role)
            .collect();
        let build = self.build;
        Plan {
            build: Arc::new(move |w: &Wiring| build(w.registry())),
            inputs: self.inputs,
            process_inputs: None,
            poison: self.poison,
            side,
            others,
            expected,
            identify: lead_or_key,
            trigger: Trigger::Inputs,
            clock_start: Timestamp(0),
            progress: Progress::Outputs,
            binary: self.binary,
            binary_env: self.binary_env,
        }
        .run()
        .await;
    }

    /// The outputs (role, lead id) of a direct, in-process run of a fresh stage, in order.
    async fn direct_outputs(&self, side: &[(TopicRole, AnyEvent)]) -> Vec<(TopicRole, String)> {
        let stage = (self.build)(&StageRegistry::new(S::NAME));
        for (_, event) in side {
            stage
                .on_side_input(event.clone())
                .unwrap_or_else(|e| panic!("a side-input event was rejected: {e}"));
        }
        let ctx = Context::for_test(Timestamp(0));
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
                for entry in o.event.into_entries() {
                    out.push((o.role, lead_or_key(&entry)));
                }
            }
        }
        out
    }
}

/// Builds inputs whose timers are due the given time from now (wall clock).
pub type TimedInputs<I> = Box<dyn Fn(Duration) -> Vec<I> + Send + Sync>;

/// What makes a deferred stage's outputs appear once its inputs were processed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// Nothing more: the inputs reaching the stage's state is enough (e.g. recalibrate once the
    /// declared number of labels arrived).
    Inputs,
    /// The stage's clock moving forward this far (timers). The in-process check first proves that
    /// nothing appeared while the clock stood still, then moves it.
    Clock(Duration),
}

/// What the compliance check needs from a stage whose outputs come from its own timers rather
/// than from each input. See the module documentation.
pub struct DeferredCompliance<S: Stage> {
    /// Builds a fresh stage, with its timers on the run's topics and clock (called once per run,
    /// inside the tokio runtime).
    pub build: Box<dyn Fn(&Wiring) -> S + Send + Sync>,
    /// Valid inputs; distinct keys (lead ids).
    pub inputs: Vec<S::Input>,
    /// Builds the inputs of the process check, with the same keys as `inputs`, their timers due
    /// the given time from now (`None`: `inputs`, and the general process check). The processes
    /// run on the wall clock: with this, a timer stage's inputs are due at instants the check
    /// chooses, so a process is SIGKILLed and another joins while their timers are open (see
    /// `compliance/timers.rs`). Needs one `expected` output per input, in input order.
    pub process_inputs: Option<TimedInputs<S::Input>>,
    /// Inputs that decode but that the stage rejects as poison (may be empty).
    pub poison: Vec<S::Input>,
    /// Events produced on other topics before the stage starts (state its timers read, e.g. the
    /// scored leads recalibrate joins outcomes with).
    pub side: Vec<(TopicRole, AnyEvent)>,
    /// Every other topic the stage reads or writes besides its input, the exceptions topic and
    /// the topics of `expected` (its timers' state topics).
    pub state_topics: Vec<TopicRole>,
    /// What the good inputs must cause once `trigger` happened, in order per topic:
    /// (role, `identify(event)`). Nothing else is required; extra outputs on other topics are not
    /// read.
    pub expected: Vec<(TopicRole, String)>,
    /// How an output is told apart (e.g. its lead id; a model version's label count).
    pub identify: fn(&AnyEvent) -> String,
    pub trigger: Trigger,
    /// What the check's clock shows when a run starts (in-process runs; the processes run on the
    /// wall clock).
    pub clock_start: Timestamp,
    /// The stage's service binary (see [`StageCompliance::binary`]).
    pub binary: Option<PathBuf>,
    /// Extra environment for the binary (stage settings such as a short tick).
    pub binary_env: Vec<(String, String)>,
}

impl<S: Stage> DeferredCompliance<S> {
    /// Runs every check; panics with what failed.
    pub async fn run(self) {
        let build = self.build;
        Plan {
            build: Arc::from(build),
            inputs: self.inputs,
            process_inputs: self.process_inputs,
            poison: self.poison,
            side: self.side,
            others: self.state_topics,
            expected: self.expected,
            identify: self.identify,
            trigger: self.trigger,
            clock_start: self.clock_start,
            progress: Progress::Committed,
            binary: self.binary,
            binary_env: self.binary_env,
        }
        .run()
        .await;
    }
}

/// What a deferred stage is built with in a check run.
pub struct Wiring {
    registry: StageRegistry,
    clock: Arc<ManualClock>,
    cfg: ServiceConfig<NoSettings>,
}

impl Wiring {
    pub(crate) fn new(
        registry: StageRegistry,
        clock: Arc<ManualClock>,
        cfg: ServiceConfig<NoSettings>,
    ) -> Self {
        Self {
            registry,
            clock,
            cfg,
        }
    }

    /// The registry the run's metrics are read from.
    pub fn registry(&self) -> &StageRegistry {
        &self.registry
    }

    /// The run's clock (the check moves it).
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// The run's configuration (broker, topics, consumer group, retries) with `stage` as the
    /// `[stage]` table.
    pub fn config<T: StageSettings>(&self, stage: T) -> ServiceConfig<T> {
        let c = self.cfg.clone();
        ServiceConfig {
            bootstrap_servers: c.bootstrap_servers,
            group_id: c.group_id,
            topics: c.topics,
            registry: c.registry,
            security: c.security,
            kafka: c.kafka,
            http: c.http,
            exceptions: c.exceptions,
            retry: c.retry,
            group: c.group,
            log: c.log,
            shutdown_grace_ms: c.shutdown_grace_ms,
            stage,
        }
    }
}
