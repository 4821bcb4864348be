//! The blocking range reader: plans the range (metadata, start offsets, watermarks), assigns the
//! partitions and polls them, applying the stall rule of the module.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::ends::{Arrival, PartitionRange, RangeEnds};
use super::stall::{StallAction, StallClock};
use super::{Partitions, RangeError, RangeSpec, RangeStart};
use crate::topic_metadata::{fetch_cluster_metadata, partitions_of};

/// How long a metadata, offsets or watermarks request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one poll waits for a record.
const POLL: Duration = Duration::from_millis(200);

/// What [`TopicRange::step`] found.
pub enum Step<'a> {
    /// A record of the range (or, when following, any record).
    Record(BorrowedMessage<'a>),
    /// A look at the broker ended `partition` at `next` without its last record (stall rule).
    Reached { partition: i32, next: i64 },
    /// Nothing arrived within a poll.
    Idle,
    /// Every partition reached its end (or the time limit passed); a following read goes on.
    CaughtUp,
    /// A read that does not follow is over.
    End,
}

/// The state next to the consumer (a separate field, so a record borrowed from the consumer can be
/// returned while it changes).
struct ReadState {
    ends: RangeEnds,
    reached: Vec<(i32, i64)>,
    caught_up: bool,
    timed_out: bool,
    started: Instant,
    stall: StallClock,
    /// What went wrong last (a consumer error, an unanswered look), for a stall's message.
    last_problem: Option<String>,
    /// The last look at the high watermarks was answered (none yet counts as answered).
    look_answered: bool,
}

/// A range read in progress (see the module).
pub struct TopicRange {
    consumer: BaseConsumer,
    spec: RangeSpec,
    ranges: Vec<PartitionRange>,
    state: ReadState,
}

impl TopicRange {
    /// Plans the range and assigns its partitions. `config` is the client's (bootstrap, security, a
    /// `group.id`); nothing is committed. Blocking.
    pub fn open(config: &ClientConfig, spec: RangeSpec) -> Result<Self, RangeError> {
        let topic = spec.topic.clone();
        let mut config = config.clone();
        config
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "false")
            .set("auto.offset.reset", "earliest");
        let consumer: BaseConsumer = config.create().map_err(|source| RangeError::Client {
            topic: topic.clone(),
            source,
        })?;
        let ranges = plan(&consumer, &spec)?;
        let mut assignment = TopicPartitionList::new();
        for r in &ranges {
            if spec.follow || !r.is_empty() {
                assignment
                    .add_partition_offset(&topic, r.partition, Offset::Offset(r.start))
                    .map_err(|source| broker(&topic, "build the assignment", source))?;
            }
        }
        if assignment.count() > 0 {
            consumer
                .assign(&assignment)
                .map_err(|source| broker(&topic, "assign the partitions", source))?;
        }
        let now = Instant::now();
        Ok(TopicRange {
            consumer,
            state: ReadState {
                ends: RangeEnds::new(&ranges),
                reached: Vec::new(),
                caught_up: false,
                timed_out: false,
                started: now,
                stall: StallClock::new(spec.stall, now),
                last_problem: None,
                look_answered: true,
            },
            ranges,
            spec,
        })
    }

    /// The planned range of every partition read.
    pub fn ranges(&self) -> &[PartitionRange] {
        &self.ranges
    }

    /// The read goes on after it caught up.
    pub fn follows(&self) -> bool {
        self.spec.follow
    }

    pub fn topic(&self) -> &str {
        &self.spec.topic
    }

    /// The read stopped at its time limit before every partition reached its end.
    pub fn timed_out(&self) -> bool {
        self.state.timed_out
    }

    /// The next step of the read. After [`RangeError::Stalled`] the read may go on (the next call
    /// waits another `give_up_after`).
    pub fn step(&mut self) -> Result<Step<'_>, RangeError> {
        let topic = self.spec.topic.as_str();
        let state = &mut self.state;
        let consumer = &self.consumer;
        loop {
            if !state.caught_up {
                if let Some((partition, next)) = state.reached.pop() {
                    return Ok(Step::Reached { partition, next });
                }
                let over_time = self
                    .spec
                    .time_limit
                    .is_some_and(|limit| state.started.elapsed() >= limit);
                if state.ends.is_done() || over_time {
                    state.caught_up = true;
                    state.timed_out = !state.ends.is_done();
                    return Ok(if self.spec.follow {
                        Step::CaughtUp
                    } else {
                        Step::End
                    });
                }
                match state.stall.action(Instant::now()) {
                    StallAction::Poll => {}
                    StallAction::Look => {
                        look(consumer, topic, self.spec.follow, state);
                        continue;
                    }
                    StallAction::GiveUp(waited) => return Err(stalled(topic, waited, state)),
                }
            } else if !self.spec.follow {
                return Ok(Step::End);
            }
            let message = match consumer.poll(POLL) {
                None => return Ok(Step::Idle),
                Some(Err(e)) => {
                    tracing::debug!(topic, error = %e, "range read: consumer error");
                    state.last_problem = Some(e.to_string());
                    continue;
                }
                Some(Ok(m)) => m,
            };
            if state.caught_up {
                return Ok(Step::Record(message));
            }
            let partition = message.partition();
            let past_time = self
                .spec
                .stop_at_time
                .is_some_and(|stop| message.timestamp().to_millis().is_some_and(|at| at >= stop));
            let arrival = if past_time {
                state.ends.finish(partition)
            } else {
                state.ends.arrived(partition, message.offset())
            };
            if arrival == Arrival::Ended && !self.spec.follow {
                pause(consumer, topic, partition);
            }
            if arrival.is_progress() {
                state.stall.progressed(Instant::now());
            }
            if arrival == Arrival::Inside || self.spec.follow {
                return Ok(Step::Record(message));
            }
        }
    }

    /// Calls `f` with every record of the range until the read ends (not for a following read).
    pub fn for_each(&mut self, mut f: impl FnMut(&BorrowedMessage<'_>)) -> Result<(), RangeError> {
        loop {
            match self.step()? {
                Step::Record(m) => f(&m),
                Step::Reached { .. } | Step::Idle => {}
                Step::CaughtUp | Step::End => return Ok(()),
            }
        }
    }
}

fn broker(topic: &str, what: &'static str, source: rdkafka::error::KafkaError) -> RangeError {
    RangeError::Broker {
        topic: topic.to_owned(),
        what,
        source,
    }
}

fn stalled(topic: &str, waited: Duration, state: &ReadState) -> RangeError {
    let behind: Vec<String> = state
        .ends
        .open_partitions()
        .into_iter()
        .filter_map(|p| state.ends.position(p).map(|at| format!("{p} at {at}")))
        .collect();
    let mut detail = format!("partitions not at their end: {}", behind.join(", "));
    if let Some(problem) = &state.last_problem {
        detail.push_str(&format!("; last problem: {problem}"));
    }
    RangeError::Stalled {
        topic: topic.to_owned(),
        waited,
        broker_answered: state.look_answered,
        detail,
    }
}

/// Stops fetching a partition whose range is read (best effort: its records are ignored anyway).
fn pause(consumer: &BaseConsumer, topic: &str, partition: i32) {
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(topic, partition);
    if let Err(e) = consumer.pause(&tpl) {
        tracing::debug!(topic, partition, error = %e, "range read: cannot pause a finished partition");
    }
}

/// The stall rule's look: the high watermark of every open partition, compared with its position.
fn look(consumer: &BaseConsumer, topic: &str, follow: bool, state: &mut ReadState) {
    state.stall.looked(Instant::now());
    state.look_answered = true;
    let positions = consumer.position().ok();
    for partition in state.ends.open_partitions() {
        let client_position = positions
            .as_ref()
            .and_then(|tpl| tpl.find_partition(topic, partition))
            .and_then(|e| match e.offset() {
                Offset::Offset(o) => Some(o),
                _ => None,
            });
        match consumer.fetch_watermarks(topic, partition, REQUEST_TIMEOUT) {
            Ok((_, high)) => {
                if let Some(next) = state.ends.looked(partition, client_position, high) {
                    tracing::info!(
                        topic,
                        partition,
                        next,
                        high,
                        "range read: the partition's position reached its high watermark without \
                         its last record; counted done"
                    );
                    state.reached.push((partition, next));
                    state.stall.progressed(Instant::now());
                    if !follow {
                        pause(consumer, topic, partition);
                    }
                }
            }
            Err(e) => {
                state.look_answered = false;
                state.last_problem = Some(format!(
                    "the broker did not answer a watermarks request: {e}"
                ));
                // a broker that does not answer one request does not answer the next either
                break;
            }
        }
    }
}

/// The range of every partition read.
fn plan(consumer: &BaseConsumer, spec: &RangeSpec) -> Result<Vec<PartitionRange>, RangeError> {
    let topic = spec.topic.as_str();
    let metadata =
        fetch_cluster_metadata(consumer.client(), REQUEST_TIMEOUT).map_err(|source| {
            RangeError::Metadata {
                topic: topic.to_owned(),
                source,
            }
        })?;
    let all = partitions_of(&metadata, topic).ok_or_else(|| RangeError::NoSuchTopic {
        topic: topic.to_owned(),
    })?;
    let partitions = match &spec.partitions {
        Partitions::All => all,
        Partitions::Only(only) => {
            if let Some(missing) = only.iter().find(|p| !all.contains(p)) {
                return Err(RangeError::NoSuchPartition {
                    topic: topic.to_owned(),
                    partition: *missing,
                    partitions: all,
                });
            }
            only.clone()
        }
        Partitions::OfKey(key, partitioner) => {
            let count = i32::try_from(all.len()).unwrap_or(i32::MAX);
            vec![partitioner.partition(key, count)]
        }
    };
    let by_time = match spec.start {
        RangeStart::Time(ms) => Some(offsets_for_time(consumer, topic, &partitions, ms)?),
        _ => None,
    };
    let mut ranges = Vec::with_capacity(partitions.len());
    for p in partitions {
        let (low, high) = consumer
            .fetch_watermarks(topic, p, REQUEST_TIMEOUT)
            .map_err(|source| broker(topic, "read the watermarks", source))?;
        let start = match (&spec.start, &by_time) {
            (RangeStart::Beginning, _) => None,
            (RangeStart::Offsets(offsets), _) => offsets.get(&p).copied(),
            (RangeStart::Offset(offset), _) => Some(*offset),
            // no record at or after the time: nothing to read
            (RangeStart::Time(_), Some(found)) => Some(found.get(&p).copied().unwrap_or(high)),
            (RangeStart::Time(_), None) => Some(high),
        };
        ranges.push(PartitionRange::clamp(
            p,
            (low, high),
            start,
            spec.end_offset,
        ));
    }
    Ok(ranges)
}

/// The first offset at or after `ms` of each partition that has one.
fn offsets_for_time(
    consumer: &BaseConsumer,
    topic: &str,
    partitions: &[i32],
    ms: i64,
) -> Result<BTreeMap<i32, i64>, RangeError> {
    let mut times = TopicPartitionList::new();
    for p in partitions {
        times
            .add_partition_offset(topic, *p, Offset::Offset(ms.max(0)))
            .map_err(|source| broker(topic, "build the offsets request", source))?;
    }
    let found = consumer
        .offsets_for_times(times, REQUEST_TIMEOUT)
        .map_err(|source| broker(topic, "find offsets by time", source))?;
    let mut out = BTreeMap::new();
    for e in found.elements() {
        e.error()
            .map_err(|source| broker(topic, "find offsets by time", source))?;
        match e.offset() {
            Offset::Offset(o) => {
                out.insert(e.partition(), o);
            }
            Offset::Beginning => {
                out.insert(e.partition(), 0);
            }
            _ => {}
        }
    }
    Ok(out)
}
