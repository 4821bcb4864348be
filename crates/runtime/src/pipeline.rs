//! The consume → decode → transform → encode → produce loop.
//!
//! Guarantees:
//! - at-least-once: an input's offset is stored only after every output it produced (or its exception
//!   record) is acknowledged by the broker, and the outputs of every earlier input of its partition
//!   too, so a crash never skips an unacknowledged input (Vector's ordered finalizer, rust-rdkafka's
//!   at_least_once);
//! - partitions are processed concurrently, one task per assigned partition ([`crate::partition_task`]);
//!   within a partition outputs are produced and offsets stored in input order, with at most
//!   [`Stage::partition_concurrency`] inputs transformed at once;
//! - a poison input (undecodable, invalid) becomes an exception record and the stage moves on;
//! - retryable errors are retried with backoff while the partition waits: its task holds the input,
//!   the consume loop pauses that partition once its task made no progress for a while with inputs
//!   waiting, and keeps polling, so the member stays in its group and the other partitions flow on;
//!   after `retry.max_attempts` the stage stops (fatal, non-zero exit);
//! - a backlog is paced without pausing: the consume loop stops polling while enough inputs wait for
//!   tasks that are busy (`task_registry.rs`), and outputs reach librdkafka through the send gate
//!   (`send_gate.rs`), so neither the consumer's prefetch nor the producer's broker thread works
//!   for nothing;
//! - on revoke: the revoked partitions' tasks finish what they handled, wait (bounded) for its
//!   acknowledgements and store its offsets, then the offsets are committed;
//! - on shutdown: stop fetching, let every partition task drain the same way, flush, commit, return.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use leadflow_events::AnyEvent;
use leadflow_events::{Codec, TopicRole};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Message, Timestamp as KafkaTimestamp};
use rdkafka::producer::{FutureProducer, Producer};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::clock::{Clock, SystemClock};
use crate::config::{ServiceConfig, StageSettings};
use crate::consumer_context::StageConsumerContext;
use crate::error::RuntimeError;
use crate::group_watch::{WatchTarget, spawn_group_watch};
use crate::http::{self, Health};
use crate::input::{HandleConfig, Input};
use crate::journal::Journal;
use crate::kafka::{consumer_config, producer_config};
use crate::metrics::StageMetrics;
use crate::partition_task::{Shared, spawn_partition};
use crate::preflight::require_topics;
use crate::registry::StageRegistry;
use crate::send_gate::{Routing, SendGate};
use crate::side_input::{SideMessage, spawn_side_inputs};
use crate::stage::Stage;
use crate::summary::{RunSummary, SummaryCounters};
pub use crate::task_registry::FlowLimits;
use crate::task_registry::Partitions;
use crate::timer::{Ownership, Positions};
use crate::timer_task::{TimerWiring, spawn_timers};

/// How long a revoke waits at most for the revoked partitions' in-flight acknowledgements (capped by
/// `shutdown_grace_ms`): long enough for a broker ack, short enough for the group's rebalance.
const REVOKE_DRAIN: Duration = Duration::from_secs(5);
/// Share of `shutdown_grace_ms` the drain, flush and commit may use: the rest is the margin before
/// `service_main`'s hard deadline ends the process.
const GRACE_USED: f64 = 0.9;
/// Share of that time kept for the final commit and the consumer's close.
const COMMIT_RESERVE: f64 = 0.2;
/// How often the consume loop wakes when idle: refills paused partitions' queues, proves liveness.
const TICK: Duration = Duration::from_millis(20);

/// How a run is wired to the outside: time, shutdown, and where to report the HTTP address.
pub struct RunOptions {
    pub clock: Arc<dyn Clock>,
    pub shutdown: CancellationToken,
    /// Receives the bound address of the `/metrics` endpoint once it listens.
    pub http_addr: Option<oneshot::Sender<SocketAddr>>,
    /// The registry the stage registered its metrics in (the harness adds its own); a fresh one for
    /// `S::NAME` when `None`.
    pub metrics: Option<StageRegistry>,
    /// The consume loop's flow-control limits (the defaults suit every stage).
    pub flow: FlowLimits,
    /// How often the send gate re-reads the output topics' partition counts, so that outputs
    /// reach partitions added while the stage runs (librdkafka's own refresh is 5 minutes).
    pub partition_refresh: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            shutdown: CancellationToken::new(),
            http_addr: None,
            metrics: None,
            flow: FlowLimits::default(),
            partition_refresh: Duration::from_secs(60),
        }
    }
}

/// Runs `stage` until `options.shutdown` is cancelled (clean stop, `Ok`) or a fatal error (`Err`).
pub async fn run_stage<C: StageSettings, S: Stage>(
    cfg: &ServiceConfig<C>,
    stage: S,
    options: RunOptions,
) -> Result<RunSummary, RuntimeError> {
    let RunOptions {
        clock,
        shutdown,
        http_addr,
        metrics: registry,
        flow,
        partition_refresh,
    } = options;
    let codec = Arc::new(
        Codec::from_config(cfg.registry.as_ref()).map_err(|e| RuntimeError::Codec(Box::new(e)))?,
    );
    let registry = registry.unwrap_or_else(|| StageRegistry::new(S::NAME));
    let metrics = StageMetrics::new(&registry).map_err(|e| RuntimeError::Metrics(Box::new(e)))?;
    let health = Arc::new(Health::default());
    let http_stop = CancellationToken::new();
    serve_http::<C, S>(cfg, &metrics, &health, &http_stop, http_addr).await?;
    let _http_guard = http_stop.drop_guard();

    let group = cfg.group_for(S::NAME);
    let input_topic = cfg.topics.name(S::INPUT).to_owned();
    let producer: FutureProducer = producer_config(cfg)
        .create()
        .map_err(|e| RuntimeError::Kafka(Box::new(e)))?;
    let side = stage.side_inputs();
    check_topics::<C, S>(cfg, &side).await?;
    let (input_partitions, routing) = connect_producer(cfg, &producer, &input_topic).await;

    // Side inputs: replay state before the first input.
    let (side_tx, mut side_rx) = mpsc::channel::<SideMessage>(1_024);
    spawn_side_inputs(
        cfg,
        &group,
        &side,
        codec.clone(),
        clock.clone(),
        side_tx.clone(),
        shutdown.clone(),
    )
    .await?;
    let positions = Arc::new(Positions::default());
    let replay = SideReplay {
        cfg,
        metrics: &metrics,
        positions: &positions,
    };
    if !replay
        .catch_up(&stage, &side, &mut side_rx, &shutdown)
        .await?
    {
        return Ok(RunSummary::default());
    }

    let ownership = Arc::new(Ownership::default());
    let partitions = Arc::new(Partitions::new(flow));
    let consumer = subscribe(cfg, &group, &input_topic, &metrics, &partitions, &ownership)?;
    health.set_ready(true);
    tracing::info!(stage = S::NAME, topic = %input_topic, %group, "consuming");

    let summary = Arc::new(SummaryCounters::default());
    let (failures_tx, failures) = mpsc::unbounded_channel();
    // stops every partition task: on shutdown, and when one of them failed
    let run_stop = shutdown.child_token();
    // if this future is dropped (its task aborted), the partition tasks stop too
    let _stop_tasks_on_drop = run_stop.clone().drop_guard();
    let _probe = crate::broker_probe::spawn_broker_probe(
        producer.clone(),
        input_topic.clone(),
        health.clone(),
        Duration::from_millis(cfg.http.unready_after_ms),
        run_stop.clone(),
    );
    let gate = SendGate::start(
        producer.clone(),
        routing,
        partition_refresh,
        cfg.retry.clone(),
    );
    let timer_interval = stage.timer_interval();
    stage.attach_journal(Journal::new(
        gate.clone(),
        codec.clone(),
        cfg.topics.clone(),
    ));
    let shared = Arc::new(Shared {
        cfg: HandleConfig::from_service(cfg),
        stage: Arc::new(stage),
        codec,
        clock,
        metrics: metrics.clone(),
        gate,
        consumer: consumer.clone(),
        summary: summary.clone(),
        failures: failures_tx,
    });
    let timers = timer_interval.map(|interval| {
        let wiring = TimerWiring {
            interval,
            ownership,
            positions: positions.clone(),
            side_topics: side
                .iter()
                .map(|s| cfg.topics.name(s.role).to_owned())
                .collect(),
            topics: cfg.topics.clone(),
            partitioner: crate::partitioner::Partitioner::from_setting(
                cfg.kafka.get("partitioner").map(String::as_str),
            )
            .unwrap_or(crate::partitioner::Partitioner::Crc32),
            input_partitions,
        };
        spawn_timers(shared.clone(), wiring, run_stop.clone())
    });
    let group_watch = watch_group(cfg, &group, &input_topic, &consumer, &metrics, &run_stop)?;
    let mut run = Running {
        shared,
        consumer,
        partitions,
        health,
        metrics: metrics.clone(),
        producer,
        summary,
        failures,
        run_stop,
        timers,
        group_watch,
    };
    let failure = run.consume(&replay, &mut side_rx, &shutdown).await;
    run.drain(cfg, failure).await
}

/// A stage consuming: what the consume loop and the drain after it work with.
struct Running<S: Stage> {
    shared: Arc<Shared<S>>,
    consumer: Arc<StreamConsumer<StageConsumerContext>>,
    partitions: Arc<Partitions>,
    health: Arc<Health>,
    metrics: StageMetrics,
    producer: FutureProducer,
    summary: Arc<SummaryCounters>,
    failures: mpsc::UnboundedReceiver<RuntimeError>,
    run_stop: CancellationToken,
    timers: Option<tokio::task::JoinHandle<()>>,
    group_watch: Option<tokio::task::JoinHandle<()>>,
}

impl<S: Stage> Running<S> {
    /// Polls and dispatches each input to its partition's task until shutdown (`None`) or a task's
    /// fatal error (`Some`); side inputs keep being applied, and every tick proves liveness and
    /// refills paused partitions.
    async fn consume<C: StageSettings>(
        &mut self,
        replay: &SideReplay<'_, C>,
        side_rx: &mut mpsc::Receiver<SideMessage>,
        shutdown: &CancellationToken,
    ) -> Option<RuntimeError> {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let pauses = &self.metrics.partition_pauses;
        loop {
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => return None,
                Some(e) = self.failures.recv() => return Some(e),
                Some(msg) = side_rx.recv() => replay.apply(self.shared.stage.as_ref(), msg),
                _ = tick.tick() => {
                    self.health.beat();
                    self.partitions.refill(&self.consumer, pauses);
                }
                _ = self.partitions.refill_wanted() => self.partitions.refill(&self.consumer, pauses),
                received = self.consumer.recv(), if self.partitions.accepting() => {
                    self.health.beat();
                    match received {
                        Ok(m) => {
                            let shared = &self.shared;
                            self.partitions.dispatch(input_of(&m), &self.run_stop, |ends| {
                                spawn_partition(shared.clone(), ends);
                            });
                        }
                        Err(e) => tracing::warn!(error = %e, "consumer error"),
                    }
                }
            }
        }
    }

    /// Drain: every partition task finishes what it handled and stores its offsets; flush; commit.
    /// Every step is bounded by `shutdown_grace_ms` whatever the broker does (a stopped broker never
    /// acknowledges, never answers the commit and never lets the consumer leave its group); the
    /// part of the grace kept for the commit is `COMMIT_RESERVE` of it.
    async fn drain<C: StageSettings>(
        mut self,
        cfg: &ServiceConfig<C>,
        mut failure: Option<RuntimeError>,
    ) -> Result<RunSummary, RuntimeError> {
        self.health.set_ready(false);
        self.run_stop.cancel();
        if let Some(mut watch) = self.group_watch.take() {
            // it holds a reference to the consumer, which the close below should own alone; a look
            // in flight is not waited for long (the close unsubscribes explicitly either way)
            if tokio::time::timeout(Duration::from_secs(1), &mut watch)
                .await
                .is_err()
            {
                watch.abort();
            }
        }
        let grace = Duration::from_millis(cfg.shutdown_grace_ms);
        let deadline = Instant::now() + grace.mul_f64(GRACE_USED);
        let drain_until = deadline - grace.mul_f64(GRACE_USED * COMMIT_RESERVE);
        if let Some(timers) = self.timers.take() {
            // the round in flight finishes (its outputs acknowledged) before the flush
            let left = drain_until.saturating_duration_since(Instant::now());
            if tokio::time::timeout(left, timers).await.is_err() {
                tracing::warn!("the timer round did not finish before the shutdown deadline");
            }
        }
        let stopping = self.partitions.stop(None);
        let drain_for = drain_until.saturating_duration_since(Instant::now());
        let drained = tokio::task::spawn_blocking(move || stopping.wait(drain_for))
            .await
            .unwrap_or_default();
        // a failure reported while draining is still a failure
        if failure.is_none() {
            failure = self.failures.try_recv().ok();
        }
        self.metrics.in_flight.set(0);
        let flushed = self
            .producer
            .flush(drain_until.saturating_duration_since(Instant::now()));
        drop(self.shared);
        let closed = close_consumer(self.consumer, deadline).await;
        self.health.set_live(false);
        if let Some(e) = failure {
            return Err(e);
        }
        if drained.late > 0 || !closed {
            tracing::error!(
                late_partitions = drained.late,
                committed = closed,
                grace_ms = cfg.shutdown_grace_ms,
                "shutdown incomplete within the grace period (broker unreachable?): inputs whose \
                 offsets were not committed are redelivered to the next owner of their partitions"
            );
            return Err(RuntimeError::GraceExceeded(cfg.shutdown_grace_ms));
        }
        if let Err(e) = flushed {
            tracing::warn!(error = %e, "producer flush incomplete");
        }
        let summary = self.summary.snapshot();
        tracing::info!(
            stage = S::NAME,
            consumed = summary.consumed,
            produced = summary.produced,
            exceptions = summary.exceptions,
            "stopped cleanly"
        );
        Ok(summary)
    }
}

/// An input as the partition tasks take it, copied out of the consumer's message.
fn input_of<M: Message>(m: &M) -> Input {
    Input {
        topic: m.topic().to_owned(),
        partition: m.partition(),
        offset: m.offset(),
        key: m.key().map(<[u8]>::to_vec),
        payload: m.payload().map(<[u8]>::to_vec).unwrap_or_default(),
        record_time: match m.timestamp() {
            KafkaTimestamp::CreateTime(t) | KafkaTimestamp::LogAppendTime(t) => {
                Some(leadflow_events::Timestamp(t))
            }
            KafkaTimestamp::NotAvailable => None,
        },
    }
}

/// Serves `/metrics`, `/healthz` and `/readyz` (live from now on) and reports the bound address.
async fn serve_http<C: StageSettings, S: Stage>(
    cfg: &ServiceConfig<C>,
    metrics: &StageMetrics,
    health: &Arc<Health>,
    stop: &CancellationToken,
    report: Option<oneshot::Sender<SocketAddr>>,
) -> Result<(), RuntimeError> {
    let addr = http::serve(
        &cfg.http.listen,
        metrics.clone(),
        health.clone(),
        stop.clone(),
    )
    .await
    .map_err(RuntimeError::Http)?;
    tracing::info!(stage = S::NAME, %addr, "serving /metrics, /healthz, /readyz");
    if let Some(tx) = report {
        let _ = tx.send(addr);
    }
    health.set_live(true);
    Ok(())
}

/// The topics this stage reads and its exceptions topic must exist.
async fn check_topics<C: StageSettings, S: Stage>(
    cfg: &ServiceConfig<C>,
    side: &[crate::stage::SideInput],
) -> Result<(), RuntimeError> {
    let needed: Vec<(&'static str, String)> = [S::INPUT, TopicRole::Exceptions]
        .into_iter()
        .chain(side.iter().map(|s| s.role))
        .map(|role| (role.config_key(), cfg.topics.name(role).to_owned()))
        .collect();
    let client = crate::kafka::base_config(cfg);
    let bootstrap = cfg.bootstrap_servers.clone();
    tokio::task::spawn_blocking(move || require_topics(&client, &bootstrap, &needed))
        .await
        .map_err(|e| RuntimeError::Stage {
            stage: S::NAME,
            source: Box::new(e),
        })?
}

/// Connects the producer before its first output (see `warm_up_producer`): the input topic's
/// partition count and the routing of outputs to partitions.
async fn connect_producer<C: StageSettings>(
    cfg: &ServiceConfig<C>,
    producer: &FutureProducer,
    input_topic: &str,
) -> (i32, Routing) {
    let warm = producer.clone();
    let partition_counts =
        tokio::task::spawn_blocking(move || crate::kafka::warm_up_producer(&warm))
            .await
            .unwrap_or_default();
    let input_partitions = partition_counts.get(input_topic).copied().unwrap_or(1);
    let routing = Routing::new(
        cfg.kafka.get("partitioner").map(String::as_str),
        partition_counts,
    );
    (input_partitions, routing)
}

/// Creates the stage's consumer (its rebalance callback owns the partition tasks and the timers'
/// ownership) and subscribes it to the input topic.
fn subscribe<C: StageSettings>(
    cfg: &ServiceConfig<C>,
    group: &str,
    input_topic: &str,
    metrics: &StageMetrics,
    partitions: &Arc<Partitions>,
    ownership: &Arc<Ownership>,
) -> Result<Arc<StreamConsumer<StageConsumerContext>>, RuntimeError> {
    let consumer: Arc<StreamConsumer<StageConsumerContext>> = Arc::new(
        consumer_config(cfg, group)
            .create_with_context(StageConsumerContext {
                metrics: metrics.clone(),
                partitions: partitions.clone(),
                drain_timeout: Duration::from_millis(cfg.shutdown_grace_ms).min(REVOKE_DRAIN),
                timers: ownership.clone(),
                input_topic: input_topic.to_owned(),
            })
            .map_err(|e| RuntimeError::Kafka(Box::new(e)))?,
    );
    consumer
        .subscribe(&[input_topic])
        .map_err(|e| RuntimeError::Kafka(Box::new(e)))?;
    Ok(consumer)
}

/// Starts the group watch (`crates/runtime/RULES.md` rule 1) with an observer consumer of its own.
fn watch_group<C: StageSettings>(
    cfg: &ServiceConfig<C>,
    group: &str,
    input_topic: &str,
    consumer: &Arc<StreamConsumer<StageConsumerContext>>,
    metrics: &StageMetrics,
    stop: &CancellationToken,
) -> Result<Option<tokio::task::JoinHandle<()>>, RuntimeError> {
    // never polled: nothing may queue events for it (statistics would pile up in memory)
    let observer = consumer_config(cfg, group)
        .set("enable.auto.commit", "false")
        .set("statistics.interval.ms", "0")
        .create()
        .map_err(|e| RuntimeError::Kafka(Box::new(e)))?;
    Ok(spawn_group_watch(
        WatchTarget {
            consumer: consumer.clone(),
            observer,
            group: group.to_owned(),
            topic: input_topic.to_owned(),
            rejoins: metrics.group_rejoins.clone(),
        },
        Duration::from_millis(cfg.group.rejoin_after_ms),
        stop.clone(),
    ))
}

/// What side-input messages update: the stage's state and the positions timers wait for.
struct SideReplay<'a, C: StageSettings> {
    cfg: &'a ServiceConfig<C>,
    metrics: &'a StageMetrics,
    positions: &'a Arc<Positions>,
}

impl<C: StageSettings> SideReplay<'_, C> {
    fn apply<S: Stage>(&self, stage: &S, msg: SideMessage) {
        match msg {
            SideMessage::Event(role, event) => {
                apply_side(stage, self.cfg, self.metrics, role, *event);
            }
            SideMessage::Position {
                role,
                partition,
                next,
            } => self
                .positions
                .set(self.cfg.topics.name(role), partition, next),
            SideMessage::CaughtUp(role) => {
                tracing::info!(
                    side_input = self.cfg.topics.name(role),
                    "side input caught up"
                );
            }
        }
    }

    /// Applies side-input messages until every side input caught up: `Ok(false)` when shutdown
    /// came first.
    async fn catch_up<S: Stage>(
        &self,
        stage: &S,
        side: &[crate::stage::SideInput],
        side_rx: &mut mpsc::Receiver<SideMessage>,
        shutdown: &CancellationToken,
    ) -> Result<bool, RuntimeError> {
        let mut waiting: Vec<TopicRole> = side.iter().map(|s| s.role).collect();
        while !waiting.is_empty() {
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(false),
                msg = side_rx.recv() => match msg {
                    Some(msg) => {
                        if let SideMessage::CaughtUp(role) = &msg {
                            waiting.retain(|r| r != role);
                        }
                        self.apply(stage, msg);
                    }
                    None => return Err(RuntimeError::Stage { stage: S::NAME, source: "side inputs stopped".into() }),
                }
            }
        }
        Ok(true)
    }
}
/// Commits the stored offsets synchronously and closes the consumer (leaves the group), on a thread
/// of its own so that a broker that never answers cannot hold the process past `deadline`: `true`
/// when both finished in time. The thread holds the last reference to the consumer; when the time is
/// up it is left behind (the process exits without it) and what it had not committed is redelivered.
async fn close_consumer(
    consumer: Arc<StreamConsumer<StageConsumerContext>>,
    deadline: Instant,
) -> bool {
    let (done_tx, done) = oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("consumer-close".into())
        .spawn(move || {
            let committed = match consumer.commit_consumer_state(CommitMode::Sync) {
                Ok(()) | Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => true,
                Err(e) => {
                    tracing::warn!(error = %e, "final commit failed");
                    false
                }
            };
            consumer.unsubscribe();
            // the partition tasks are gone: this is the last reference, its drop leaves the group
            drop(consumer);
            let _ = done_tx.send(committed);
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the consumer-close thread");
        return false;
    }
    let left = deadline.saturating_duration_since(Instant::now());
    match tokio::time::timeout(left, done).await {
        Ok(Ok(committed)) => committed,
        _ => {
            tracing::warn!("the consumer did not commit and close before the shutdown deadline");
            false
        }
    }
}

fn apply_side<C: StageSettings, S: Stage>(
    stage: &S,
    cfg: &ServiceConfig<C>,
    metrics: &StageMetrics,
    role: TopicRole,
    event: AnyEvent,
) {
    let topic = cfg.topics.name(role);
    metrics.side_input_events.with_label_values(&[topic]).inc();
    if let Err(e) = stage.on_side_input_from(role, event) {
        tracing::warn!(side_input = topic, error = %e, "side-input event rejected");
    }
}
