//! Reading a topic range to its end: every partition (or some) from a start (the beginning, an offset
//! per partition, a time) up to the high watermarks taken when the read started, without a consumer
//! group. The one reader of the CLI's reports and queues, ingest's idempotency rebuild, the side
//! inputs' replay and the test kit.
//!
//! **Stall rule** (`crates/runtime/RULES.md` rule 7). After [`StallPolicy::look_after`] without
//! progress (5 s by default; a record inside the range or a partition done), the reader reads the high watermarks of the partitions not done yet and
//! counts a partition done when its position — the client's, or the one the records gave — is at or
//! past `min(end, current high watermark)`: a last offset that never arrives (a transaction marker, a
//! record compacted away, a high watermark a broker restart set lower) does not hold the read
//! forever. After [`StallPolicy::give_up_after`] without progress (30 s by default: no record, no
//! partition done) the read fails with [`RangeError::Stalled`], saying whether the broker answered.
//!
//! [`TopicRange`] is the blocking reader (librdkafka's poll loop, for long scans);
//! [`TopicRange::spawn`] runs it on a thread of its own and hands owned records to async code;
//! [`read_to_end`] collects a whole range.

mod ends;
mod reader;
mod stall;
mod stream;

use std::collections::BTreeMap;
use std::time::Duration;

pub use ends::{Arrival, PartitionRange, RangeEnds};
pub use reader::{Step, TopicRange};
pub use stall::{StallAction, StallClock};
pub use stream::{RangeItem, RangeRecord, RangeStream, read_to_end};

use crate::partitioner::Partitioner;

/// Where each partition's read starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RangeStart {
    /// The low watermark.
    Beginning,
    /// This offset per partition (clamped into the watermarks); a partition not listed starts at
    /// its low watermark.
    Offsets(BTreeMap<i32, i64>),
    /// This offset in every partition (clamped into its watermarks).
    Offset(i64),
    /// The first record written at or after this time (ms since the epoch); a partition without one
    /// has nothing to read.
    Time(i64),
}

/// Which partitions are read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Partitions {
    All,
    /// These; one the topic does not have is [`RangeError::NoSuchPartition`].
    Only(Vec<i32>),
    /// The partition a producer with `partitioner` writes `key` to.
    OfKey(Vec<u8>, Partitioner),
}

/// How a read that receives nothing goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StallPolicy {
    /// Without progress for this long, look at the high watermarks (rule 7).
    pub look_after: Duration,
    /// Without progress for this long, [`RangeError::Stalled`].
    pub give_up_after: Duration,
}

impl Default for StallPolicy {
    fn default() -> Self {
        StallPolicy {
            look_after: Duration::from_secs(5),
            give_up_after: Duration::from_secs(30),
        }
    }
}

/// What to read.
#[derive(Clone, Debug)]
pub struct RangeSpec {
    pub topic: String,
    pub partitions: Partitions,
    pub start: RangeStart,
    /// End offset (exclusive) of every partition, clamped to its high watermark; `None`: the high
    /// watermark at the start.
    pub end_offset: Option<i64>,
    /// A partition ends at its first record written at or after this time (ms), which is not read.
    pub stop_at_time: Option<i64>,
    /// Once every partition reached its end, [`Step::CaughtUp`] and keep reading what comes (every
    /// partition stays assigned); otherwise [`Step::End`].
    pub follow: bool,
    /// Stop reading after this long (then [`TopicRange::timed_out`]), caught up or not.
    pub time_limit: Option<Duration>,
    pub stall: StallPolicy,
}

impl RangeSpec {
    /// Every partition of `topic`, from the beginning to the end it has now.
    pub fn whole(topic: impl Into<String>) -> Self {
        RangeSpec {
            topic: topic.into(),
            partitions: Partitions::All,
            start: RangeStart::Beginning,
            end_offset: None,
            stop_at_time: None,
            follow: false,
            time_limit: None,
            stall: StallPolicy::default(),
        }
    }

    /// Every partition from the first record written at or after `ms`.
    pub fn since(topic: impl Into<String>, ms: i64) -> Self {
        RangeSpec {
            start: RangeStart::Time(ms),
            ..RangeSpec::whole(topic)
        }
    }
}

/// Why a range read failed.
#[derive(Debug, thiserror::Error)]
pub enum RangeError {
    #[error("cannot create a consumer for {topic}: {source}")]
    Client {
        topic: String,
        source: rdkafka::error::KafkaError,
    },
    #[error("cannot read the metadata of {topic}: {source} (is the broker running?)")]
    Metadata {
        topic: String,
        source: rdkafka::error::KafkaError,
    },
    #[error(
        "topic {topic} does not exist; create the pipeline topics with `leadflow topics create`"
    )]
    NoSuchTopic { topic: String },
    #[error("{topic} has no partition {partition} (it has {partitions:?})")]
    NoSuchPartition {
        topic: String,
        partition: i32,
        partitions: Vec<i32>,
    },
    #[error("cannot {what} of {topic}: {source}")]
    Broker {
        topic: String,
        what: &'static str,
        source: rdkafka::error::KafkaError,
    },
    #[error("the range read of {topic} stopped: {detail}")]
    Stopped { topic: String, detail: String },
    #[error("reading {topic} made no progress for {} s{}: {detail}", waited.as_secs(), if *broker_answered { "" } else { " (the broker did not answer)" })]
    Stalled {
        topic: String,
        waited: Duration,
        /// The last look at the high watermarks was answered.
        broker_answered: bool,
        detail: String,
    },
}
