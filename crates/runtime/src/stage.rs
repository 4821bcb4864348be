//! What a stage is: a transform from one input event to zero or more output events, with no broker
//! types in sight. The harness (`run_stage`) owns everything else.

use std::future::Future;
use std::time::Duration;

use leadflow_events::AnyEvent;
use leadflow_events::{ErrorKind, Event, Timestamp, TopicRole};

pub use crate::timer::OwnedKeys;

/// Where the record being processed came from, and what time it is.
#[derive(Clone, Debug)]
pub struct Context {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// The Kafka record timestamp, when the broker gave one.
    pub record_time: Option<Timestamp>,
    /// Wall-clock time from the injected clock (tests move it). Decisions should prefer event time.
    pub now: Timestamp,
}

impl Context {
    /// A context for unit tests of a stage (feature `test-util`).
    #[cfg(any(test, feature = "test-util"))]
    pub fn for_test(now: Timestamp) -> Self {
        Self {
            topic: "test".into(),
            partition: 0,
            offset: 0,
            record_time: Some(now),
            now,
        }
    }
}

/// One event to produce. The record key is the event's own key unless overridden.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    pub role: TopicRole,
    pub key: Option<String>,
    pub event: AnyEvent,
}

impl Output {
    /// An event for the topic of `role`, keyed by the event's key.
    pub fn to(role: TopicRole, event: impl Into<AnyEvent>) -> Self {
        Self {
            role,
            key: None,
            event: event.into(),
        }
    }

    /// Overrides the record key (e.g. the account domain for account-grouped topics).
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// The record key to produce with.
    pub fn record_key(&self) -> &str {
        self.key.as_deref().unwrap_or_else(|| self.event.key())
    }
}

/// Why a stage could not process an input. Every failure is exactly one of these kinds.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// The input itself is bad and always will be: it goes to the exceptions topic with this reason,
    /// its offset is stored, and the stage moves on.
    #[error("{kind:?}: {reason}")]
    Poison {
        kind: ErrorKind,
        reason: String,
        /// Team that owns fixing it; the configured default owner when `None`.
        owner: Option<String>,
    },
    /// A dependency is down; the harness retries the same input with backoff.
    #[error("retryable: {0}")]
    Retryable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The stage cannot go on (bad configuration discovered late, broken invariant): exit non-zero.
    #[error("fatal: {0}")]
    Fatal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StageError {
    /// A poison error with the default owner.
    pub fn poison(kind: ErrorKind, reason: impl Into<String>) -> Self {
        StageError::Poison {
            kind,
            reason: reason.into(),
            owner: None,
        }
    }

    /// A retryable error from any error value or message.
    pub fn retryable(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StageError::Retryable(e.into())
    }

    /// A fatal error from any error value or message.
    pub fn fatal(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StageError::Fatal(e.into())
    }
}

/// Where a side input starts reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SideStart {
    /// From the earliest retained record (compacted topics: the full latest state).
    Beginning,
    /// From records no older than this (e.g. a deduplication window).
    Since(Duration),
}

/// A topic a stage reads in full (every partition, no consumer group) to build state: model
/// parameters, the rep roster, its own recent output for deduplication. The harness replays it up to
/// the high watermark before the stage sees its first input, then keeps following it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SideInput {
    pub role: TopicRole,
    pub start: SideStart,
}

/// A pipeline stage: a thin async shell over a pure transform.
///
/// # Timers
///
/// A stage whose outputs are not caused by an input (the sla-watchdog's escalations, recalibrate's
/// model versions) declares [`Stage::timer_interval`] and implements [`Stage::on_timer`]. The
/// contract, for Apache Kafka:
/// - **Keys follow the input's partitions.** A timer fires for the keys of the input partitions
///   this instance owns in its ONE consumer group ([`OwnedKeys::owns`]: the key's partition under
///   the producers' partitioner and the input topic's partition count). Every instance reads its
///   state topics in full (below), so they need not be keyed like the input; two instances never
///   fire the same key, and a rebalance moves the keys with the partitions.
/// - **State first.** The state a timer reads comes from the side inputs (read in full by every
///   instance, so a rebalance moves responsibility, not data). The run is ready (`/readyz` 200) and
///   consumes its input only once every side input replayed to the end it had at start. A partition
///   assigned later fires only once every side input has read up to the high watermarks it had
///   when the partition was assigned: what the previous owner produced and the broker
///   acknowledged before it let go is in the state before anything fires again.
/// - **Rounds.** Every `timer_interval` the harness calls `on_timer` once with the partitions that
///   are live and the injected clock's time; the next round starts only after the outputs of this
///   one were acknowledged and handed to [`Stage::on_timer_delivered`]. A revoke waits (bounded)
///   for the round in flight, so a partition's previous owner is done before it moves.
/// - **Outputs** go through the run's producer like `process`'s. In the order returned; outputs
///   to one topic are sent together, and a change of topic in the list waits for every earlier
///   output's acknowledgement (a model version on `model.params` before its attempt on
///   `model.history`). An output that cannot be delivered stops the run (fatal): the process exits
///   non-zero and its replacement rebuilds the state from the topics, so nothing is lost or
///   half-applied.
/// - **Errors** of `on_timer`: retryable and poison are logged and the round is tried again at the
///   next tick; fatal stops the run.
///
/// `process` gets one decoded input and returns the events to produce. It must not block; slow I/O
/// (an enrichment provider) is awaited inside it with its own timeout. The harness shares one stage
/// between the tasks of every assigned partition and may call `process` for several partitions at
/// once, so the stage is `Sync` and takes `&self`: keep mutable state behind interior mutability
/// (`std::sync::Mutex`/`RwLock`, held briefly and never across an `.await`). Within one partition the
/// harness calls it for at most [`Stage::partition_concurrency`] inputs at a time, and produces the
/// outputs and stores the offsets in partition order whatever order the calls finish in.
pub trait Stage: Send + Sync + 'static {
    /// The input event type.
    type Input: Event;
    /// Stage name: consumer group suffix, metric prefix (`leadflow_<name>_...`), exception `stage`.
    const NAME: &'static str;
    /// The topic role consumed.
    const INPUT: TopicRole;

    /// Inputs of ONE partition the harness may process at once (ordered completion: outputs and
    /// offsets still in partition order). 1 = strictly one at a time (the default); opt in only when
    /// `process` does not depend on the previous input of the partition having been processed.
    /// Partitions always run concurrently.
    fn partition_concurrency(&self) -> usize {
        1
    }

    /// Transforms one input.
    fn process(
        &self,
        input: Self::Input,
        ctx: &Context,
    ) -> impl Future<Output = Result<Vec<Output>, StageError>> + Send;

    /// State topics to replay before and follow during processing.
    fn side_inputs(&self) -> Vec<SideInput> {
        Vec::new()
    }

    /// Applies one side-input event to the stage's state. Errors are logged and counted, never fatal.
    fn on_side_input(&self, _event: AnyEvent) -> Result<(), StageError> {
        Ok(())
    }

    /// Applies one side-input event read from the topic of `role`, for a stage whose side inputs
    /// carry the same kind on several topics (recalibrate: `model.params` and `model.history`).
    /// The harness calls this one; the default forwards to [`Stage::on_side_input`].
    fn on_side_input_from(&self, _role: TopicRole, event: AnyEvent) -> Result<(), StageError> {
        self.on_side_input(event)
    }

    /// How often the harness calls [`Stage::on_timer`]; `None` (the default): no timers.
    fn timer_interval(&self) -> Option<Duration> {
        None
    }

    /// One timer round: the outputs due at `now` for the keys of `owned` (see "Timers" above).
    /// Nothing may be marked done here: mark it in [`Stage::on_timer_delivered`].
    fn on_timer(
        &self,
        _owned: &OwnedKeys,
        _now: Timestamp,
    ) -> impl Future<Output = Result<Vec<Output>, StageError>> + Send {
        async { Ok(Vec::new()) }
    }

    /// One output of the last round, acknowledged by the broker.
    fn on_timer_delivered(&self, _output: &Output) {}

    /// Hands the stage the run's [`Journal`](crate::Journal), once, before the first input: for a
    /// record that must be acknowledged before an outside effect happens (an intent), rather than
    /// with the input's outputs. The default ignores it.
    fn attach_journal(&self, _journal: crate::journal::Journal) {}
}
