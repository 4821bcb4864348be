//! The consume → decode → transform → encode → produce loop.
//!
//! Guarantees:
//! - at-least-once: an input's offset is stored only after every output it produced (or its exception
//!   record) is acknowledged by the broker, and offsets are stored in consumption order, so a crash
//!   never skips an unacknowledged input (Vector's ordered finalizer, rust-rdkafka's at_least_once);
//! - per-partition order: one input is transformed at a time; outputs are produced in input order;
//! - a poison input (undecodable, invalid) becomes an exception record and the stage moves on;
//! - retryable errors are retried with backoff (the partition waits); fatal errors stop the stage;
//! - on shutdown: stop fetching, finish in-flight work, flush, commit, return.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::{FuturesOrdered, StreamExt};
use leadflow_events::json::AnyEvent;
use leadflow_events::{Codec, TopicRole};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Message, Timestamp as KafkaTimestamp};
use rdkafka::producer::{FutureProducer, Producer};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::clock::{Clock, SystemClock};
use crate::config::{ServiceConfig, StageSettings};
use crate::consumer_context::StageConsumerContext;
use crate::delivery::{Completion, complete, send_all};
use crate::error::RuntimeError;
use crate::http::{self, Health};
use crate::input::{Handled, Input, handle};
use crate::kafka::{consumer_config, producer_config};
use crate::metrics::StageMetrics;
use crate::preflight::require_topics;
use crate::registry::StageRegistry;
use crate::side_input::{SideMessage, spawn_side_inputs};
use crate::stage::Stage;

/// At most this many inputs await acknowledgement at once.
const MAX_IN_FLIGHT: usize = 1_000;

/// How a run is wired to the outside: time, shutdown, and where to report the HTTP address.
pub struct RunOptions {
    pub clock: Arc<dyn Clock>,
    pub shutdown: CancellationToken,
    /// Receives the bound address of the `/metrics` endpoint once it listens.
    pub http_addr: Option<oneshot::Sender<SocketAddr>>,
    /// The registry the stage registered its metrics in (the harness adds its own); a fresh one for
    /// `S::NAME` when `None`.
    pub metrics: Option<StageRegistry>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            shutdown: CancellationToken::new(),
            http_addr: None,
            metrics: None,
        }
    }
}

/// Counts of one run, returned at a clean stop.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunSummary {
    pub consumed: u64,
    pub produced: u64,
    pub exceptions: u64,
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
    } = options;
    let codec = Arc::new(
        Codec::from_config(cfg.registry.as_ref()).map_err(|e| RuntimeError::Codec(Box::new(e)))?,
    );
    let registry = registry.unwrap_or_else(|| StageRegistry::new(S::NAME));
    let metrics = StageMetrics::new(&registry).map_err(|e| RuntimeError::Metrics(Box::new(e)))?;
    let health = Arc::new(Health::default());
    let http_stop = CancellationToken::new();
    let addr = http::serve(
        &cfg.http.listen,
        metrics.clone(),
        health.clone(),
        http_stop.clone(),
    )
    .await
    .map_err(RuntimeError::Http)?;
    tracing::info!(stage = S::NAME, %addr, "serving /metrics, /healthz, /readyz");
    if let Some(tx) = http_addr {
        let _ = tx.send(addr);
    }
    health.set_live(true);
    let _http_guard = http_stop.drop_guard();

    let group = cfg.group_for(S::NAME);
    let input_topic = cfg.topics.name(S::INPUT).to_owned();
    let producer: FutureProducer = producer_config(cfg)
        .create()
        .map_err(|e| RuntimeError::Kafka(Box::new(e)))?;

    // The topics this stage reads and its exceptions topic must exist.
    let side = stage.side_inputs();
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
            reason: format!("start-up check failed: {e}"),
        })??;

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
    let mut waiting: Vec<TopicRole> = side.iter().map(|s| s.role).collect();
    while !waiting.is_empty() {
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(RunSummary::default()),
            msg = side_rx.recv() => match msg {
                Some(SideMessage::CaughtUp(role)) => {
                    waiting.retain(|r| *r != role);
                    tracing::info!(side_input = cfg.topics.name(role), "side input caught up");
                }
                Some(SideMessage::Event(role, event)) => apply_side(&stage, cfg, &metrics, role, *event),
                None => return Err(RuntimeError::Stage { stage: S::NAME, reason: "side inputs stopped".into() }),
            }
        }
    }

    let consumer: StreamConsumer<StageConsumerContext> = consumer_config(cfg, &group)
        .create_with_context(StageConsumerContext {
            metrics: metrics.clone(),
        })
        .map_err(|e| RuntimeError::Kafka(Box::new(e)))?;
    consumer
        .subscribe(&[&input_topic])
        .map_err(|e| RuntimeError::Kafka(Box::new(e)))?;
    health.set_ready(true);
    tracing::info!(stage = S::NAME, topic = %input_topic, %group, "consuming");

    let mut summary = RunSummary::default();
    let mut in_flight: FuturesOrdered<Completion> = FuturesOrdered::new();
    let mut failure: Option<RuntimeError> = None;

    loop {
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            Some(done) = in_flight.next(), if !in_flight.is_empty() => {
                metrics.in_flight.set(in_flight.len() as i64);
                if let Err(e) = complete(&consumer, &metrics, &mut summary, done) {
                    failure = Some(e);
                    break;
                }
            }
            Some(msg) = side_rx.recv() => {
                if let SideMessage::Event(role, event) = msg {
                    apply_side(&stage, cfg, &metrics, role, *event);
                }
            }
            received = consumer.recv(), if in_flight.len() < MAX_IN_FLIGHT => {
                let input = match received {
                    Ok(m) => Input {
                        topic: m.topic().to_owned(),
                        partition: m.partition(),
                        offset: m.offset(),
                        key: m.key().map(<[u8]>::to_vec),
                        payload: m.payload().map(<[u8]>::to_vec).unwrap_or_default(),
                        record_time: match m.timestamp() {
                            KafkaTimestamp::CreateTime(t) | KafkaTimestamp::LogAppendTime(t) => Some(leadflow_events::Timestamp(t)),
                            KafkaTimestamp::NotAvailable => None,
                        },
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "consumer error");
                        continue;
                    }
                };
                summary.consumed += 1;
                metrics.consumed.inc();
                if let Some(t) = input.record_time {
                    let age_ms = clock.now().0.saturating_sub(t.0).max(0);
                    metrics.record_age_seconds.observe(age_ms as f64 / 1000.0);
                }
                let span = tracing::info_span!("record", stage = S::NAME, topic = %input.topic,
                    partition = input.partition, offset = input.offset, lead_id = tracing::field::Empty);
                let started = Instant::now();
                let handled = handle(&stage, cfg, &codec, clock.as_ref(), &metrics, &input, &shutdown)
                    .instrument(span)
                    .await;
                metrics.handler_seconds.observe(started.elapsed().as_secs_f64());
                match handled {
                    Ok(Handled::Produce(records)) => match send_all(&producer, &input, records, &metrics, &shutdown).await {
                        Ok(Some(completion)) => {
                            in_flight.push_back(completion);
                            metrics.in_flight.set(in_flight.len() as i64);
                        }
                        Ok(None) => break,
                        Err(e) => { failure = Some(e); break; }
                    },
                    Ok(Handled::Interrupted) => break,
                    Err(e) => { failure = Some(e); break; }
                }
            }
        }
    }

    // Drain: finish what is in flight, store its offsets, flush, commit.
    health.set_ready(false);
    let grace = Duration::from_millis(cfg.shutdown_grace_ms);
    let deadline = Instant::now() + grace;
    let drained = tokio::time::timeout(grace, async {
        while let Some(done) = in_flight.next().await {
            complete(&consumer, &metrics, &mut summary, done)?;
        }
        Ok(())
    })
    .await;
    metrics.in_flight.set(0);
    let flushed = producer.flush(deadline.saturating_duration_since(Instant::now()));
    match consumer.commit_consumer_state(CommitMode::Sync) {
        Ok(()) | Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
        Err(e) => tracing::warn!(error = %e, "final commit failed"),
    }
    consumer.unsubscribe();
    health.set_live(false);
    if let Some(e) = failure {
        return Err(e);
    }
    match drained {
        Err(_) => return Err(RuntimeError::GraceExceeded(cfg.shutdown_grace_ms)),
        Ok(Err(e)) => return Err(e),
        Ok(Ok(())) => {}
    }
    if let Err(e) = flushed {
        tracing::warn!(error = %e, "producer flush incomplete");
    }
    tracing::info!(
        stage = S::NAME,
        consumed = summary.consumed,
        produced = summary.produced,
        exceptions = summary.exceptions,
        "stopped cleanly"
    );
    Ok(summary)
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
    if let Err(e) = stage.on_side_input(event) {
        tracing::warn!(side_input = topic, error = %e, "side-input event rejected");
    }
}
