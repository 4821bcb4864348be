//! One task per assigned partition, with an ordered completion queue.
//!
//! The consume loop (`pipeline.rs`) only polls and dispatches: each record goes to the task of
//! its partition over a bounded channel. The task decodes, transforms and encodes up to
//! [`Stage::partition_concurrency`] inputs at once, hands their outputs to the producer in partition
//! order, and stores each input's offset once its outputs — and those of every earlier input of the
//! partition — are acknowledged. A partition that cannot keep up (a retrying dependency, a slow
//! provider) fills its channel; the consume loop then pauses that partition only and keeps polling,
//! so the member keeps its place in the group and the other partitions flow on.
//!
//! On revoke the consumer context stops the revoked partitions' tasks: they take no new input, finish
//! what is already handled, wait for its acknowledgements and store its offsets (bounded by
//! `drain_timeout`); then the stored offsets are committed. On shutdown every task does the same.

use std::sync::Arc;
use std::time::Instant;

use futures::FutureExt;
use futures::future::BoxFuture;
use futures::stream::{FuturesOrdered, StreamExt};
use leadflow_events::Codec;
use rdkafka::consumer::StreamConsumer;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::clock::Clock;
use crate::consumer_context::StageConsumerContext;
use crate::delivery::{Completion, ProducedCounters, complete, send_all, store_offset};
use crate::error::RuntimeError;
use crate::input::{HandleConfig, Handled, Input, handle};
use crate::metrics::StageMetrics;
use crate::send_gate::SendGate;
use crate::stage::Stage;
use crate::summary::SummaryCounters;
use crate::task_registry::TaskEnds;

/// Inputs of one partition whose outputs may await acknowledgement at once.
const ACKS_PER_PARTITION: usize = 1_000;

/// What every partition task of a run shares.
pub(crate) struct Shared<S: Stage> {
    pub(crate) cfg: HandleConfig,
    pub(crate) stage: Arc<S>,
    pub(crate) codec: Arc<Codec>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) metrics: StageMetrics,
    /// Outputs go to the producer through the gate (see `send_gate`).
    pub(crate) gate: SendGate,
    pub(crate) consumer: Arc<StreamConsumer<StageConsumerContext>>,
    pub(crate) summary: Arc<SummaryCounters>,
    /// A task that hits a fatal error reports it here; the consume loop stops the run.
    pub(crate) failures: mpsc::UnboundedSender<RuntimeError>,
}

/// Starts the task of one partition.
pub(crate) fn spawn_partition<S: Stage>(shared: Arc<Shared<S>>, ends: TaskEnds) -> JoinHandle<()> {
    tokio::spawn(run_partition(shared, ends))
}

type HandleResult = (Input, Result<Handled, RuntimeError>);
type Handling = BoxFuture<'static, HandleResult>;

async fn run_partition<S: Stage>(sh: Arc<Shared<S>>, mut ends: TaskEnds) {
    let stop = ends.stop.clone();
    let mut produced = ProducedCounters::new(sh.metrics.produced.clone());
    let concurrency = sh.stage.partition_concurrency().max(1);
    let mut handling: FuturesOrdered<Handling> = FuturesOrdered::new();
    let mut acks: FuturesOrdered<Completion> = FuturesOrdered::new();
    let mut accepting = true;
    // after an interrupted input nothing later of the partition may be sent: its offset would be
    // stored past the interrupted one
    let mut interrupted = false;
    loop {
        if !accepting && handling.is_empty() && acks.is_empty() {
            break;
        }
        tokio::select! {
            biased;
            _ = stop.cancelled(), if accepting => accepting = false,
            Some(acked) = acks.next(), if !acks.is_empty() => {
                // take every acknowledgement already in, then store the last offset once (storing
                // offset n covers every earlier offset of the partition)
                let mut acked = Some(acked);
                let mut last = None;
                let mut failed = None;
                while let Some(done) = acked.take() {
                    sh.metrics.in_flight.dec();
                    match complete(&sh.metrics, &mut produced, &sh.summary, done) {
                        Ok(position) => last = Some(position),
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                    if !acks.is_empty() {
                        acked = acks.next().now_or_never().flatten();
                    }
                }
                if let Some((topic, partition, offset)) = last {
                    store_offset(&sh.consumer, &topic, partition, offset);
                    ends.saw_acks();
                }
                if let Some(e) = failed {
                    let _ = sh.failures.send(e);
                    break;
                }
            }
            Some((input, result)) = handling.next(), if !handling.is_empty() && acks.len() < ACKS_PER_PARTITION => {
                match result {
                    Ok(Handled::Produce(records)) if !interrupted => {
                        sh.metrics.in_flight.inc();
                        acks.push_back(send_all(&sh.gate, &input, records, &sh.metrics));
                    }
                    Ok(_) => { interrupted = true; accepting = false; }
                    Err(e) => { let _ = sh.failures.send(e); break; }
                }
            }
            input = ends.rx.recv(), if accepting && handling.len() < concurrency => match input {
                Some(input) => {
                    ends.took_input();
                    sh.summary.consumed();
                    sh.metrics.consumed.inc();
                    if let Some(t) = input.record_time {
                        let age_ms = sh.clock.now().0.saturating_sub(t.0).max(0);
                        sh.metrics.record_age_seconds.observe(age_ms as f64 / 1000.0);
                    }
                    // handled inline in this task (the partitions' tasks already spread over the
                    // cores; a task spawned per input cost more than score's and tier's transforms),
                    // up to `concurrency` at once, completing in order through `handling`
                    handling.push_back(Box::pin(handle_one(sh.clone(), input, stop.clone())));
                }
                None => accepting = false,
            },
        }
    }
    // whatever is left in flight after a failure is abandoned (not stored: redelivered)
    let left = acks.len() as i64;
    sh.metrics.in_flight.sub(left);
    let _ = ends.done.send(());
}

async fn handle_one<S: Stage>(
    sh: Arc<Shared<S>>,
    input: Input,
    stop: CancellationToken,
) -> HandleResult {
    let span = tracing::info_span!("record", stage = S::NAME, topic = %input.topic,
        partition = input.partition, offset = input.offset, lead_id = tracing::field::Empty);
    let started = Instant::now();
    let result = handle(
        sh.stage.as_ref(),
        &sh.cfg,
        &sh.codec,
        sh.clock.as_ref(),
        &sh.metrics,
        &input,
        &stop,
    )
    .instrument(span)
    .await;
    sh.metrics
        .handler_seconds
        .observe(started.elapsed().as_secs_f64());
    (input, result)
}
