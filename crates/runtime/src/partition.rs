//! One task per assigned partition, with an ordered completion queue.
//!
//! The consume loop ([`crate::pipeline`]) only polls and dispatches: each record goes to the task of
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

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::BoxFuture;
use futures::stream::{FuturesOrdered, StreamExt};
use leadflow_events::Codec;
use rdkafka::TopicPartitionList;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::FutureProducer;
use tokio::sync::mpsc;
use tokio::task::{JoinError, JoinHandle};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::clock::Clock;
use crate::consumer_context::StageConsumerContext;
use crate::delivery::{Completion, complete, send_all};
use crate::error::RuntimeError;
use crate::input::{HandleConfig, Handled, Input, handle};
use crate::metrics::StageMetrics;
use crate::stage::Stage;
use crate::summary::SummaryCounters;

/// Inputs queued for one partition task before the consume loop pauses the partition.
const QUEUE_PER_PARTITION: usize = 512;
/// Inputs of one partition whose outputs may await acknowledgement at once.
const ACKS_PER_PARTITION: usize = 1_000;

/// What every partition task of a run shares.
pub(crate) struct Shared<S: Stage> {
    pub(crate) cfg: HandleConfig,
    pub(crate) stage: Arc<S>,
    pub(crate) codec: Arc<Codec>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) metrics: StageMetrics,
    pub(crate) producer: FutureProducer,
    pub(crate) consumer: Arc<StreamConsumer<StageConsumerContext>>,
    pub(crate) summary: Arc<SummaryCounters>,
    /// A task that hits a fatal error reports it here; the consume loop stops the run.
    pub(crate) failures: mpsc::UnboundedSender<RuntimeError>,
}

/// The consume loop's handle on one partition task.
struct Slot {
    tx: mpsc::Sender<Input>,
    stop: CancellationToken,
    done: std_mpsc::Receiver<()>,
    /// Inputs fetched while the task's queue was full, in order; the partition is paused meanwhile.
    stash: VecDeque<Input>,
    paused: bool,
}

/// The partition tasks of one run, keyed by (topic, partition). Shared by the consume loop (which
/// creates a task on a partition's first record) and the consumer context (which stops the tasks of
/// revoked partitions).
#[derive(Default)]
pub struct Partitions {
    slots: Mutex<HashMap<(String, i32), Slot>>,
}

/// What [`Stopping::wait`] did.
#[derive(Debug, Default)]
pub struct Drained {
    /// Partition tasks stopped.
    pub stopped: usize,
    /// Tasks that had not stored their last offsets when the time was up.
    pub late: usize,
    /// Partitions that were paused for flow control (to resume: pausing outlives an assignment).
    pub paused: Vec<(String, i32)>,
}

/// A new partition task's ends: its input queue, its stop token, its "drained" signal.
pub(crate) struct TaskEnds {
    pub(crate) rx: mpsc::Receiver<Input>,
    pub(crate) stop: CancellationToken,
    pub(crate) done: std_mpsc::Sender<()>,
}

impl Partitions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, i32), Slot>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hands `input` to its partition's task, starting the task with `spawn` on the partition's
    /// first record. When the task's queue is full the input is kept here and the partition paused.
    pub(crate) fn dispatch<C>(
        &self,
        input: Input,
        consumer: &StreamConsumer<C>,
        parent: &CancellationToken,
        spawn: impl FnOnce(TaskEnds),
    ) where
        C: rdkafka::consumer::ConsumerContext,
    {
        let mut slots = self.lock();
        let key = (input.topic.clone(), input.partition);
        let slot = slots.entry(key).or_insert_with(|| {
            let (tx, rx) = mpsc::channel(QUEUE_PER_PARTITION);
            let (done_tx, done) = std_mpsc::channel();
            let stop = parent.child_token();
            spawn(TaskEnds {
                rx,
                stop: stop.clone(),
                done: done_tx,
            });
            Slot {
                tx,
                stop,
                done,
                stash: VecDeque::new(),
                paused: false,
            }
        });
        if !slot.stash.is_empty() {
            slot.stash.push_back(input);
            return;
        }
        match slot.tx.try_send(input) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(input)) => {
                let (topic, partition) = (input.topic.clone(), input.partition);
                slot.stash.push_back(input);
                if !slot.paused {
                    slot.paused = set_paused(consumer, &topic, partition, true);
                }
            }
            Err(mpsc::error::TrySendError::Closed(input)) => {
                // the task stopped (a fatal error the loop is about to report): the input stays
                // unstored and is redelivered
                tracing::debug!(topic = %input.topic, partition = input.partition, offset = input.offset,
                    "partition task stopped; input left for redelivery");
            }
        }
    }

    /// Moves stashed inputs into queues that have room again and resumes their partitions.
    pub(crate) fn refill<C: rdkafka::consumer::ConsumerContext>(
        &self,
        consumer: &StreamConsumer<C>,
    ) {
        let mut slots = self.lock();
        for ((topic, partition), slot) in slots.iter_mut() {
            while let Some(input) = slot.stash.pop_front() {
                match slot.tx.try_send(input) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(input)) => {
                        slot.stash.push_front(input);
                        break;
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => {
                        slot.stash.clear();
                        break;
                    }
                }
            }
            if slot.stash.is_empty() && slot.paused {
                slot.paused = !set_paused(consumer, topic, *partition, false);
            }
        }
    }

    /// Stops the tasks of `tpl`'s partitions (all when `None`) without waiting; hand the result to
    /// [`Stopping::wait`]. Stopped tasks take no new input and finish what they already handled.
    pub fn stop(&self, tpl: Option<&TopicPartitionList>) -> Stopping {
        let taken: Vec<((String, i32), Slot)> = {
            let mut slots = self.lock();
            match tpl {
                None => slots.drain().collect(),
                Some(tpl) => tpl
                    .elements()
                    .iter()
                    .filter_map(|e| {
                        let key = (e.topic().to_owned(), e.partition());
                        slots.remove(&key).map(|s| (key, s))
                    })
                    .collect(),
            }
        };
        for (_, slot) in &taken {
            slot.stop.cancel();
        }
        Stopping(taken)
    }
}

/// Partition tasks told to stop, not yet drained.
pub struct Stopping(Vec<((String, i32), Slot)>);

impl Stopping {
    /// Whether no task was stopped.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Waits (at most `timeout` in all) until each stopped task has stored the offsets of what it
    /// had already handled. Blocking: called from the rebalance callback or `spawn_blocking`.
    pub fn wait(self, timeout: Duration) -> Drained {
        let mut drained = Drained::default();
        let deadline = Instant::now() + timeout;
        for (key, slot) in self.0 {
            let left = deadline.saturating_duration_since(Instant::now());
            drained.stopped += 1;
            if !matches!(
                slot.done.recv_timeout(left),
                Ok(()) | Err(std_mpsc::RecvTimeoutError::Disconnected)
            ) {
                drained.late += 1;
            }
            if slot.paused {
                drained.paused.push(key);
            }
        }
        drained
    }
}

fn set_paused<C: rdkafka::consumer::ConsumerContext>(
    consumer: &StreamConsumer<C>,
    topic: &str,
    partition: i32,
    pause: bool,
) -> bool {
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(topic, partition);
    let done = if pause {
        consumer.pause(&tpl)
    } else {
        consumer.resume(&tpl)
    };
    match done {
        Ok(()) => {
            tracing::debug!(topic, partition, pause, "partition flow control");
            true
        }
        Err(e) => {
            tracing::warn!(topic, partition, pause, error = %e, "pause/resume failed");
            false
        }
    }
}

/// Starts the task of one partition.
pub(crate) fn spawn_partition<S: Stage>(shared: Arc<Shared<S>>, ends: TaskEnds) -> JoinHandle<()> {
    tokio::spawn(run_partition(shared, ends))
}

type HandleResult = (Input, Result<Handled, RuntimeError>);
type Handling = BoxFuture<'static, Result<HandleResult, JoinError>>;

async fn run_partition<S: Stage>(sh: Arc<Shared<S>>, ends: TaskEnds) {
    let TaskEnds { mut rx, stop, done } = ends;
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
                sh.metrics.in_flight.dec();
                if let Err(e) = complete(&sh.consumer, &sh.metrics, &sh.summary, acked) {
                    let _ = sh.failures.send(e);
                    break;
                }
            }
            Some(handled) = handling.next(), if !handling.is_empty() && acks.len() < ACKS_PER_PARTITION => {
                let (input, result) = match handled {
                    Ok(r) => r,
                    Err(joined) => {
                        let _ = sh.failures.send(RuntimeError::Stage { stage: S::NAME, source: Box::new(joined) });
                        break;
                    }
                };
                match result {
                    Ok(Handled::Produce(records)) if !interrupted => {
                        match send_all(&sh.producer, &input, records, &sh.metrics, &stop).await {
                            Ok(Some(completion)) => {
                                sh.metrics.in_flight.inc();
                                acks.push_back(completion);
                            }
                            Ok(None) => { interrupted = true; accepting = false; }
                            Err(e) => { let _ = sh.failures.send(e); break; }
                        }
                    }
                    Ok(_) => { interrupted = true; accepting = false; }
                    Err(e) => { let _ = sh.failures.send(e); break; }
                }
            }
            input = rx.recv(), if accepting && handling.len() < concurrency => match input {
                Some(input) => {
                    sh.summary.consumed();
                    sh.metrics.consumed.inc();
                    if let Some(t) = input.record_time {
                        let age_ms = sh.clock.now().0.saturating_sub(t.0).max(0);
                        sh.metrics.record_age_seconds.observe(age_ms as f64 / 1000.0);
                    }
                    let task = handle_one(sh.clone(), input, stop.clone());
                    // one input at a time runs inline in this task; more are spawned so they use
                    // every core, and still complete in order through `handling`
                    handling.push_back(if concurrency == 1 {
                        Box::pin(task.map(Ok)) as Handling
                    } else {
                        Box::pin(tokio::task::spawn(task))
                    });
                }
                None => accepting = false,
            },
        }
    }
    // whatever is left in flight after a failure is abandoned (not stored: redelivered)
    let left = acks.len() as i64;
    sh.metrics.in_flight.sub(left);
    let _ = done.send(());
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
