//! The partition tasks of one run, as the consume loop and the rebalance callback see them: which
//! partitions have a task, their input queues, flow control, and stopping them on revoke or shutdown
//! with a bounded wait for their drain. The tasks themselves are in `partition_task.rs`.
//!
//! Flow control has two levels (`docs/BROKER.md` 5):
//! - a task that keeps up but is slower than the fetches: inputs that find its queue full wait in
//!   the partition's stash, and once [`FlowLimits::stash_limit`] inputs wait in the stashes of partitions that
//!   make progress the consume loop stops polling ([`Partitions::accepting`]) until the tasks caught
//!   up. librdkafka then stops fetching once its own prefetch queue is full: nothing fetched is
//!   thrown away;
//! - a task that makes no progress (no input taken, no acknowledgement) for [`FlowLimits::stall`] (retrying a dependency, a slow provider) while
//!   inputs wait for it: its partition is paused, so the other partitions flow on and the member
//!   keeps polling. Pausing makes librdkafka drop what it prefetched for the partition (fetched again
//!   on resume), which is why it is kept for stalls and not used for ordinary backlog.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rdkafka::TopicPartitionList;
use rdkafka::consumer::{Consumer, StreamConsumer};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::input::Input;

/// The consume loop's flow-control limits (see the module docs). The defaults suit every stage;
/// tests shrink them to reach the limits with a few records.
#[derive(Clone, Copy, Debug)]
pub struct FlowLimits {
    /// Inputs queued for one partition task; when it is full they wait in the consume loop's stash.
    /// The task asks for a refill once it is half empty.
    pub queue_per_partition: usize,
    /// Inputs waiting in the stashes of partitions that make progress before the consume loop stops
    /// polling until the tasks caught up.
    pub stash_limit: usize,
    /// How long a task may make no progress (take no input, see no acknowledgement) while inputs
    /// wait for it before its partition is paused: above a slow broker's acknowledgement time under
    /// load (up to ~0.4 s on the local broker), short enough that the other partitions barely notice.
    pub stall: Duration,
}

impl Default for FlowLimits {
    fn default() -> Self {
        Self {
            queue_per_partition: 4_096,
            stash_limit: 4_096,
            stall: Duration::from_secs(1),
        }
    }
}

/// The consume loop's handle on one partition task.
struct Slot {
    tx: mpsc::Sender<Input>,
    stop: CancellationToken,
    done: std_mpsc::Receiver<()>,
    /// Inputs fetched while the task's queue was full, in order.
    stash: VecDeque<Input>,
    /// Paused because the task stalled while inputs waited (see the module docs).
    paused: bool,
    /// Set while inputs wait in `stash`: the task then asks for a refill when its queue runs low.
    waiting: Arc<AtomicBool>,
    /// The task's progress (inputs taken plus acknowledgements seen), and when that last changed.
    taken: Arc<AtomicU64>,
    seen_taken: u64,
    progressed_at: Instant,
}

/// The partition tasks of one run, keyed by (topic, partition). Shared by the consume loop (which
/// creates a task on a partition's first record) and the consumer context (which stops the tasks of
/// revoked partitions).
#[derive(Default)]
pub struct Partitions {
    limits: FlowLimits,
    slots: Mutex<HashMap<(String, i32), Slot>>,
    /// A partition task whose queue ran low while inputs wait in its stash: the consume loop refills
    /// at once (not on its next idle tick).
    refill: Arc<tokio::sync::Notify>,
    /// Inputs in the stashes of partitions that are not paused (kept under `slots`' lock, read
    /// without it by [`Partitions::accepting`]).
    stashed: AtomicUsize,
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
    /// Inputs of the partition wait in the consume loop's stash.
    pub(crate) waiting: Arc<AtomicBool>,
    /// Wakes the consume loop to refill.
    pub(crate) refill: Arc<tokio::sync::Notify>,
    /// Its queue's capacity.
    pub(crate) capacity: usize,
    /// Counts the inputs the task took and the acknowledgements it saw (its progress, for stall
    /// detection).
    pub(crate) taken: Arc<AtomicU64>,
}

impl TaskEnds {
    /// Called by the task after taking an input: asks for a refill when its queue is half empty and
    /// inputs wait in the stash.
    pub(crate) fn took_input(&self) {
        self.taken.fetch_add(1, Ordering::Relaxed);
        if self.waiting.load(Ordering::Relaxed) && self.rx.len() <= self.capacity / 2 {
            self.refill.notify_one();
        }
    }

    /// Called by the task when acknowledgements came in (progress while its input waits for acks).
    pub(crate) fn saw_acks(&self) {
        self.taken.fetch_add(1, Ordering::Relaxed);
    }
}

impl Partitions {
    /// No partition task yet, with these limits.
    pub fn new(limits: FlowLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Resolves when a partition task asked for a refill.
    pub(crate) async fn refill_wanted(&self) {
        self.refill.notified().await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, i32), Slot>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the consume loop may poll for more input: fewer than [`FlowLimits::stash_limit`] inputs wait in
    /// the stashes of partitions that make progress.
    pub(crate) fn accepting(&self) -> bool {
        self.stashed.load(Ordering::Relaxed) < self.limits.stash_limit
    }

    /// Hands `input` to its partition's task, starting the task with `spawn` on the partition's
    /// first record. When the task's queue is full the input waits in the partition's stash.
    pub(crate) fn dispatch(
        &self,
        input: Input,
        parent: &CancellationToken,
        spawn: impl FnOnce(TaskEnds),
    ) {
        let mut slots = self.lock();
        let key = (input.topic.clone(), input.partition);
        let slot = slots.entry(key).or_insert_with(|| {
            let capacity = self.limits.queue_per_partition.max(1);
            let (tx, rx) = mpsc::channel(capacity);
            let (done_tx, done) = std_mpsc::channel();
            let stop = parent.child_token();
            let waiting = Arc::new(AtomicBool::new(false));
            let taken = Arc::new(AtomicU64::new(0));
            spawn(TaskEnds {
                rx,
                stop: stop.clone(),
                done: done_tx,
                waiting: waiting.clone(),
                refill: self.refill.clone(),
                capacity,
                taken: taken.clone(),
            });
            Slot {
                tx,
                stop,
                done,
                stash: VecDeque::new(),
                paused: false,
                waiting,
                taken,
                seen_taken: 0,
                progressed_at: Instant::now(),
            }
        });
        if !slot.stash.is_empty() {
            slot.stash.push_back(input);
            if !slot.paused {
                self.stashed.fetch_add(1, Ordering::Relaxed);
            }
            return;
        }
        match slot.tx.try_send(input) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(input)) => {
                slot.stash.push_back(input);
                slot.waiting.store(true, Ordering::Relaxed);
                if !slot.paused {
                    self.stashed.fetch_add(1, Ordering::Relaxed);
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

    /// Moves stashed inputs into queues that have room again; resumes paused partitions whose
    /// stash is empty; pauses partitions whose task stalled for [`FlowLimits::stall`] with inputs waiting.
    pub(crate) fn refill<C: rdkafka::consumer::ConsumerContext>(
        &self,
        consumer: &StreamConsumer<C>,
        pauses: &prometheus::IntCounter,
    ) {
        let now = Instant::now();
        let mut slots = self.lock();
        let mut stashed = 0;
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
            let taken = slot.taken.load(Ordering::Relaxed);
            if taken != slot.seen_taken || slot.stash.is_empty() {
                slot.seen_taken = taken;
                slot.progressed_at = now;
            }
            if slot.stash.is_empty() {
                slot.waiting.store(false, Ordering::Relaxed);
                if slot.paused {
                    slot.paused = !set_paused(consumer, topic, *partition, false);
                }
            } else if !slot.paused && now.duration_since(slot.progressed_at) >= self.limits.stall {
                slot.paused = set_paused(consumer, topic, *partition, true);
                if slot.paused {
                    pauses.inc();
                }
            }
            if !slot.paused {
                stashed += slot.stash.len();
            }
        }
        self.stashed.store(stashed, Ordering::Relaxed);
    }

    /// Stops the tasks of `tpl`'s partitions (all when `None`) without waiting; hand the result to
    /// [`Stopping::wait`]. Stopped tasks take no new input and finish what they already handled.
    pub fn stop(&self, tpl: Option<&TopicPartitionList>) -> Stopping {
        let taken: Vec<((String, i32), Slot)> = {
            let mut slots = self.lock();
            let taken = match tpl {
                None => slots.drain().collect(),
                Some(tpl) => tpl
                    .elements()
                    .iter()
                    .filter_map(|e| {
                        let key = (e.topic().to_owned(), e.partition());
                        slots.remove(&key).map(|s| (key, s))
                    })
                    .collect(),
            };
            let stashed = slots
                .values()
                .filter(|s| !s.paused)
                .map(|s| s.stash.len())
                .sum();
            self.stashed.store(stashed, Ordering::Relaxed);
            taken
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
