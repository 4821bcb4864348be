//! Hands a stage's outputs to librdkafka only when it can send them at once.
//!
//! An idempotent librdkafka producer (2.12) sends a partition's next ProduceRequest only while
//! fewer than 5 *messages* of that partition are in flight (it compares its per-partition message
//! count with the 5-request limit), so in practice one request per partition at a time. Records
//! queued behind that request whose `linger.ms` has passed make the broker thread poll with a zero
//! timeout until the acknowledgement arrives: a busy loop that burns most of a core on a slow
//! broker (`docs/BROKER.md` 5). A plain consume → produce loop with a bounded in-flight
//! window rarely hits it, because it produces in bursts right after acknowledgements.
//!
//! The gate gives every stage that shape, **per partition**: records wait here (not in
//! librdkafka's queue) while [`HANDOVER_BELOW`] or more handed-over records *of their partition*
//! await their acknowledgement, and are handed over together, at most [`ROUND_BYTES`] at a time (one
//! request), as soon as fewer are in flight. librdkafka would not have sent them earlier anyway;
//! they now wait without burning a core, and every partition has its own request in flight, as
//! with librdkafka alone. (A gate counting all partitions together would let one request be in
//! flight at a time, and a broker that answers a produce slowly while it serves a large fetch would
//! then hold every partition back.)
//!
//! To know a record's partition before librdkafka does, the gate applies the producer's
//! partitioner itself ([`Routing`], [`crate::partitioner`]) and produces to that partition
//! explicitly: the same partition librdkafka would have chosen. A topic whose partition count is
//! unknown (not in the start-up metadata) or a partitioner that ignores keys gets one lane for the
//! whole topic and librdkafka's own choice. At low rates nothing is in flight and a record is handed
//! over at once (no added latency). Ordering is kept: a partition's records are handed over in the
//! order they were submitted.
//!
//! **Joined records.** A record of a batch kind (a record holding only an array, whose schema says
//! its readers take it as a batch: the dedup changelog's `DedupKeyBatch`) is *joinable*: it is
//! handed over only while nothing else of its partition is in flight, joined with the joinable
//! records waiting behind it ([`join_array_records`], at most [`JOIN_BYTES`]): one record per round
//! trip and partition, however many outputs it holds, each submitter getting the joined record's
//! acknowledgement and each input's offset stored only once the record holding its output is. The
//! stage does not ask for it: the kind decides. Whatever the broker, a joined record is smaller and
//! quicker to read back than one record per entry (`dedup-key-size`, `benches/README.md`), and every
//! enrich instance reads the whole changelog at start; a broker whose cost is per record also does
//! less work. At low rates a batch holds one output and is handed over at once.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use leadflow_events::codec::join_array_records;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio::sync::{mpsc, oneshot};

use crate::config::RetryConfig;
use crate::kafka_errors::is_retryable;
use crate::partitioner::Partitioner;
use crate::retry::Backoff;
use crate::topic_metadata::{fetch_cluster_metadata, partition_counts};

/// How long a refresh of the partition counts may wait for the broker.
const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

/// A partition's records handed over may be sent at once while fewer than this many of that
/// partition await acknowledgement (the idempotent producer's per-partition limit, counted in
/// messages).
pub(crate) const HANDOVER_BELOW: usize = 5;
/// Most payload bytes of one partition handed over in one round: below librdkafka's `batch.size`
/// (1 MB), so one round is one request.
pub(crate) const ROUND_BYTES: usize = 512 * 1024;
/// Most payload bytes joined into one record (well below the brokers' default `message.max.bytes`,
/// 1 MB).
pub(crate) const JOIN_BYTES: usize = 256 * 1024;

/// Where a record landed, or why not.
pub(crate) type Delivered = Result<(), KafkaError>;

/// One record to produce and where to report its acknowledgement.
struct Submitted {
    topic: String,
    /// The partition the gate chose (`None`: librdkafka chooses).
    partition: Option<i32>,
    key: String,
    payload: Vec<u8>,
    /// May be joined with the joinable records behind it (module doc).
    joinable: bool,
    reply: oneshot::Sender<Delivered>,
}

/// What one handed-over record stands for: one submitted record, or several joined.
struct Handover {
    topic: String,
    partition: Option<i32>,
    key: String,
    payload: Vec<u8>,
    replies: Replies,
    /// Set once a delivery of it failed with a retryable error (`kafka_errors.rs`).
    backoff: Option<Backoff>,
}

/// Who waits for a handed-over record's acknowledgement: its one submitter (no allocation on the
/// common path), or every submitter of a joined record.
enum Replies {
    One(oneshot::Sender<Delivered>),
    Joined(Vec<oneshot::Sender<Delivered>>),
}

impl Replies {
    /// How many submitters wait.
    #[cfg(test)]
    fn len(&self) -> usize {
        match self {
            Replies::One(_) => 1,
            Replies::Joined(all) => all.len(),
        }
    }

    /// Tells every submitter the outcome (a submitter that stopped waiting is skipped).
    fn send(self, result: Delivered) {
        match self {
            Replies::One(reply) => {
                let _ = reply.send(result);
            }
            Replies::Joined(all) => {
                for reply in all {
                    let _ = reply.send(result.clone());
                }
            }
        }
    }
}

impl Handover {
    fn single(s: Submitted) -> Self {
        Self {
            topic: s.topic,
            partition: s.partition,
            key: s.key,
            payload: s.payload,
            replies: Replies::One(s.reply),
            backoff: None,
        }
    }
}

/// The next record to hand over from the front of a lane's queue: the front record, or — when it is
/// joinable — it joined with the joinable records directly behind it, up to [`JOIN_BYTES`] (the
/// first one alone when they do not join: `join_array_records` refuses mismatched frames).
fn next_handover(waiting: &mut VecDeque<Submitted>) -> Option<Handover> {
    let first = waiting.pop_front()?;
    if !first.joinable {
        return Some(Handover::single(first));
    }
    let mut bytes = first.payload.len();
    let mut count = 1;
    for s in waiting.iter() {
        if !s.joinable || bytes + s.payload.len() > JOIN_BYTES {
            break;
        }
        bytes += s.payload.len();
        count += 1;
    }
    if count == 1 {
        return Some(Handover::single(first));
    }
    let joined = {
        let parts: Vec<&[u8]> = std::iter::once(first.payload.as_slice())
            .chain(waiting.iter().take(count - 1).map(|s| s.payload.as_slice()))
            .collect();
        join_array_records(&parts)
    };
    let Some(payload) = joined else {
        return Some(Handover::single(first));
    };
    let mut replies = Vec::with_capacity(count);
    replies.push(first.reply);
    replies.extend(waiting.drain(..count - 1).map(|s| s.reply));
    let replies = Replies::Joined(replies);
    Some(Handover {
        topic: first.topic,
        partition: first.partition,
        key: first.key,
        payload,
        replies,
        backoff: None,
    })
}

/// The submitting side; cheap to clone. The gate's task ends once every clone is dropped and every
/// record it holds is acknowledged (or failed).
#[derive(Clone)]
pub(crate) struct SendGate {
    tx: mpsc::UnboundedSender<Submitted>,
    routing: Arc<Routing>,
}

/// How the gate picks a record's partition: the producer's partitioner over the partition counts
/// read at start-up and re-read every [`RunOptions::partition_refresh`](crate::RunOptions) (a topic
/// that gained partitions is routed over all of them from then on, as librdkafka's partitioner does
/// after its own metadata refresh).
#[derive(Debug, Default)]
pub(crate) struct Routing {
    /// `None`: the producer's partitioner ignores keys (`random`); librdkafka chooses.
    partitioner: Option<Partitioner>,
    /// Partition count by topic name.
    partitions: RwLock<HashMap<String, i32>>,
}

impl Routing {
    /// `partitioner`: the producer's `partitioner` setting (`None`: librdkafka's default).
    pub(crate) fn new(partitioner: Option<&str>, partitions: HashMap<String, i32>) -> Self {
        Self {
            partitioner: Partitioner::from_setting(partitioner),
            partitions: RwLock::new(partitions),
        }
    }

    /// The partition librdkafka's partitioner would give `key` on `topic`; `None` when the gate
    /// cannot tell (unknown topic, keyless record, or a partitioner that ignores keys).
    fn partition(&self, topic: &str, key: &str) -> Option<i32> {
        let partitioner = self.partitioner?;
        if key.is_empty() {
            // librdkafka's partitioners pick a random partition for a record without a key
            return None;
        }
        let count = *self
            .partitions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(topic)?;
        (count > 0).then(|| partitioner.partition(key.as_bytes(), count))
    }

    /// Takes newly read partition counts: new topics, and topics that gained partitions (a count
    /// never shrinks: Kafka cannot remove partitions, and a metadata answer missing a topic says
    /// nothing about it).
    fn update(&self, counts: HashMap<String, i32>) {
        let mut known = self
            .partitions
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        for (topic, count) in counts {
            let before = known.get(&topic).copied();
            if before.is_none_or(|b| count > b) {
                if let Some(before) = before {
                    tracing::info!(topic, before, now = count, "topic gained partitions");
                }
                known.insert(topic, count);
            }
        }
    }
}

/// Re-reads the cluster's partition counts every `every` until the gate's task ends (`closed`).
async fn refresh_partitions(
    producer: FutureProducer,
    routing: Arc<Routing>,
    every: Duration,
    mut closed: oneshot::Receiver<()>,
) {
    use rdkafka::producer::Producer;
    loop {
        tokio::select! {
            _ = &mut closed => return,
            () = tokio::time::sleep(every) => {}
        }
        let client = producer.clone();
        let read = tokio::task::spawn_blocking(move || {
            fetch_cluster_metadata(client.client(), METADATA_TIMEOUT)
                .map(|meta| partition_counts(&meta))
        })
        .await;
        match read {
            Ok(Ok(counts)) => routing.update(counts),
            Ok(Err(e)) => tracing::debug!(error = %e, "partition counts not refreshed"),
            Err(_) => return,
        }
    }
}

impl SendGate {
    /// Starts the gate's task over `producer` (on the current tokio runtime), and the task that
    /// re-reads the partition counts every `refresh`.
    /// A delivery that fails with a retryable error is handed over again after a backoff, until
    /// `retry`'s attempts are used up (then its submitter gets the error).
    pub(crate) fn start(
        producer: FutureProducer,
        routing: Routing,
        refresh: Duration,
        retry: RetryConfig,
    ) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let routing = Arc::new(routing);
        let (closed_tx, closed_rx) = oneshot::channel();
        tokio::spawn(refresh_partitions(
            producer.clone(),
            routing.clone(),
            refresh,
            closed_rx,
        ));
        tokio::spawn(async move {
            run(producer, rx, retry).await;
            let _ = closed_tx.send(());
        });
        Self { tx, routing }
    }

    /// Submits one record; the receiver resolves once the broker acknowledged it (or it failed).
    pub(crate) fn send(
        &self,
        topic: String,
        key: String,
        payload: Vec<u8>,
        joinable: bool,
    ) -> oneshot::Receiver<Delivered> {
        let (reply, done) = oneshot::channel();
        let partition = self.routing.partition(&topic, &key);
        let submitted = Submitted {
            topic,
            partition,
            key,
            payload,
            joinable,
            reply,
        };
        if let Err(mpsc::error::SendError(s)) = self.tx.send(submitted) {
            // the gate's task is gone (runtime shutting down): report it as a failed delivery
            let _ = s.reply.send(Err(KafkaError::Canceled));
        }
        done
    }
}

/// The records of one partition (or of one topic whose partitions the gate does not know).
#[derive(Default)]
struct Lane {
    waiting: VecDeque<Submitted>,
    /// Taken from `waiting` but refused by librdkafka (its queue was full): handed over first.
    refused: Option<Handover>,
    /// Handed over, failed with a retryable error, to be handed over again when due; while any
    /// waits, the lane hands over nothing else.
    retrying: VecDeque<(tokio::time::Instant, Handover)>,
    /// Handed over, not yet acknowledged.
    in_flight: usize,
}

/// The lanes, found by topic and partition.
#[derive(Default)]
struct Lanes {
    lanes: Vec<Lane>,
    /// Lane index by topic, then partition.
    index: HashMap<String, HashMap<Option<i32>, usize>>,
}

impl Lanes {
    fn push(&mut self, s: Submitted) {
        let known = self
            .index
            .get(s.topic.as_str())
            .and_then(|by_partition| by_partition.get(&s.partition));
        let i = match known {
            Some(&i) => i,
            None => {
                self.lanes.push(Lane::default());
                let i = self.lanes.len() - 1;
                self.index
                    .entry(s.topic.clone())
                    .or_default()
                    .insert(s.partition, i);
                i
            }
        };
        self.lanes[i].waiting.push_back(s);
    }

    fn is_idle(&self) -> bool {
        self.lanes.iter().all(|l| {
            l.waiting.is_empty() && l.refused.is_none() && l.retrying.is_empty() && l.in_flight == 0
        })
    }
}

async fn run(
    producer: FutureProducer,
    mut rx: mpsc::UnboundedReceiver<Submitted>,
    retry: RetryConfig,
) {
    let mut lanes = Lanes::default();
    let mut in_flight = FuturesUnordered::new();
    let mut open = true;
    loop {
        // take everything already submitted, so that a round hands over as much as it can
        while open {
            match rx.try_recv() {
                Ok(s) => lanes.push(s),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => open = false,
            }
        }
        let mut queue_full = false;
        for (lane_index, lane) in lanes.lanes.iter_mut().enumerate() {
            if lane.in_flight >= HANDOVER_BELOW || queue_full {
                continue;
            }
            let now = tokio::time::Instant::now();
            let mut bytes = 0;
            while bytes < ROUND_BYTES {
                let due = lane.retrying.front().map(|(at, _)| *at <= now);
                let retried = match due {
                    Some(true) => lane.retrying.pop_front().map(|(_, h)| h),
                    // the record to retry goes first
                    Some(false) => break,
                    None => None,
                };
                let h = match retried.or_else(|| lane.refused.take()) {
                    Some(h) => h,
                    None => {
                        // a joinable record waits for the lane's round trip, gathering the ones
                        // behind it
                        let Some(front) = lane.waiting.front() else {
                            break;
                        };
                        if front.joinable && lane.in_flight > 0 {
                            break;
                        }
                        let Some(h) = next_handover(&mut lane.waiting) else {
                            break;
                        };
                        h
                    }
                };
                let mut record = FutureRecord::to(&h.topic).key(&h.key).payload(&h.payload);
                if let Some(p) = h.partition {
                    record = record.partition(p);
                }
                match producer.send_result(record).map_err(|(e, _)| e) {
                    Ok(delivery) => {
                        bytes += h.payload.len() + h.key.len();
                        lane.in_flight += 1;
                        in_flight.push(async move {
                            let result = match delivery.await {
                                Ok(Ok(_)) => Ok(()),
                                Ok(Err((e, _))) => Err(e),
                                Err(_canceled) => Err(KafkaError::Canceled),
                            };
                            (lane_index, h, result)
                        });
                    }
                    Err(KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull)) => {
                        // librdkafka's own queue is full (other users of the producer): try again
                        // after an acknowledgement, or shortly (this handover, joined or not, first)
                        lane.refused = Some(h);
                        queue_full = true;
                        break;
                    }
                    Err(e) => {
                        h.replies.send(Err(e));
                    }
                }
            }
        }
        if !open && in_flight.is_empty() && lanes.is_idle() {
            break;
        }
        let next_retry = lanes
            .lanes
            .iter()
            .filter_map(|l| l.retrying.front().map(|(at, _)| *at))
            .min();
        tokio::select! {
            Some((lane_index, h, result)) = in_flight.next(), if !in_flight.is_empty() => {
                if let Some(lane) = lanes.lanes.get_mut(lane_index) {
                    lane.in_flight = lane.in_flight.saturating_sub(1);
                    acknowledged(lane, h, result, &retry);
                }
            }
            () = tokio::time::sleep_until(next_retry.unwrap_or_else(tokio::time::Instant::now)), if next_retry.is_some() => {}
            received = rx.recv(), if open => match received {
                Some(s) => lanes.push(s),
                None => open = false,
            },
            _ = tokio::time::sleep(Duration::from_millis(10)), if queue_full && in_flight.is_empty() => {}
        }
    }
}

/// Reports a handed-over record's outcome to its submitters, or queues it on its lane to be handed
/// over again: a retryable error with attempts left (`kafka_errors.rs`).
fn acknowledged(lane: &mut Lane, mut h: Handover, result: Delivered, retry: &RetryConfig) {
    let error = match result {
        Ok(()) => return h.replies.send(Ok(())),
        Err(e) => e,
    };
    if !is_retryable(&error) {
        return h.replies.send(Err(error));
    }
    let backoff = h.backoff.get_or_insert_with(|| Backoff::new(retry));
    let Some(delay) = backoff.next_delay() else {
        tracing::warn!(topic = %h.topic, attempts = backoff.attempts(), error = %error, "delivery failed; retries used up");
        return h.replies.send(Err(error));
    };
    tracing::warn!(
        topic = %h.topic,
        attempt = backoff.attempts(),
        delay_ms = delay.as_millis() as u64,
        error = %error,
        "delivery failed with a retryable error; producing it again after a backoff"
    );
    lane.retrying
        .push_back((tokio::time::Instant::now() + delay, h));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, i32)]) -> HashMap<String, i32> {
        pairs.iter().map(|(t, n)| ((*t).to_owned(), *n)).collect()
    }

    /// A single-object frame (fingerprint `f`) of a record holding one array of `items` (each item
    /// one byte; a one-item block).
    fn batch(f: u8, item: u8) -> Vec<u8> {
        vec![0xC3, 0x01, f, f, f, f, f, f, f, f, 2, item, 0]
    }

    fn submitted(
        key: &str,
        payload: Vec<u8>,
        joinable: bool,
    ) -> (Submitted, oneshot::Receiver<Delivered>) {
        let (reply, done) = oneshot::channel();
        let s = Submitted {
            topic: "t".into(),
            partition: Some(1),
            key: key.into(),
            payload,
            joinable,
            reply,
        };
        (s, done)
    }

    #[test]
    fn joinable_records_behind_each_other_become_one_and_share_its_acknowledgement() {
        let mut waiting = VecDeque::new();
        let mut acks = Vec::new();
        for (key, payload, joinable) in [
            ("a", batch(1, 10), true),
            ("b", batch(1, 11), true),
            ("c", batch(1, 12), true),
            ("d", vec![1, 2, 3], false),
            ("e", batch(1, 13), true),
        ] {
            let (s, done) = submitted(key, payload, joinable);
            waiting.push_back(s);
            acks.push(done);
        }
        let first = next_handover(&mut waiting).expect("a handover");
        assert_eq!(first.key, "a", "the joined record carries the first key");
        assert_eq!(
            first.payload,
            vec![0xC3, 0x01, 1, 1, 1, 1, 1, 1, 1, 1, 2, 10, 2, 11, 2, 12, 0]
        );
        assert_eq!(first.replies.len(), 3);
        // the one that is not joinable goes alone, in its place; then the last one
        let second = next_handover(&mut waiting).expect("a handover");
        assert_eq!((second.key.as_str(), second.replies.len()), ("d", 1));
        assert_eq!(second.payload, vec![1, 2, 3]);
        let third = next_handover(&mut waiting).expect("a handover");
        assert_eq!((third.key.as_str(), third.payload), ("e", batch(1, 13)));
        assert!(next_handover(&mut waiting).is_none());

        // every submitter of the joined record hears its outcome
        first.replies.send(Err(KafkaError::Canceled));
        for done in acks.iter_mut().take(3) {
            assert!(matches!(done.try_recv(), Ok(Err(KafkaError::Canceled))));
        }
        assert!(acks[3].try_recv().is_err(), "d was not answered");
    }

    #[test]
    fn records_that_do_not_join_go_one_by_one_and_joins_stop_at_the_size_cap() {
        let mut waiting = VecDeque::new();
        // different writer schemas (fingerprints) do not join
        for (key, payload) in [("a", batch(1, 10)), ("b", batch(2, 11))] {
            waiting.push_back(submitted(key, payload, true).0);
        }
        assert_eq!(next_handover(&mut waiting).expect("a").replies.len(), 1);
        assert_eq!(next_handover(&mut waiting).expect("b").replies.len(), 1);

        let big = |item| {
            let mut p = vec![0xC3, 0x01, 1, 1, 1, 1, 1, 1, 1, 1, 2];
            p.extend(std::iter::repeat_n(item, JOIN_BYTES / 2 - 12));
            p.push(0);
            p
        };
        for key in ["x", "y", "z"] {
            waiting.push_back(submitted(key, big(7), true).0);
        }
        let joined = next_handover(&mut waiting).expect("x+y");
        assert_eq!(joined.replies.len(), 2);
        assert!(joined.payload.len() <= JOIN_BYTES);
        assert_eq!(next_handover(&mut waiting).expect("z").key, "z");
    }

    #[test]
    fn a_key_goes_where_the_producers_partitioner_puts_it() {
        let routing = Routing::new(None, counts(&[("out", 6)]));
        let expected = Partitioner::Crc32.partition(b"lead-7", 6);
        assert_eq!(routing.partition("out", "lead-7"), Some(expected));
        let murmur = Routing::new(Some("murmur2_random"), counts(&[("out", 6)]));
        assert_eq!(
            murmur.partition("out", "lead-7"),
            Some(Partitioner::Murmur2.partition(b"lead-7", 6))
        );
    }

    #[test]
    fn librdkafka_chooses_when_the_gate_cannot_tell() {
        let routing = Routing::new(None, counts(&[("out", 6)]));
        assert_eq!(routing.partition("unknown-topic", "lead-7"), None);
        assert_eq!(routing.partition("out", ""), None);
        let random = Routing::new(Some("random"), counts(&[("out", 6)]));
        assert_eq!(random.partition("out", "lead-7"), None);
    }

    #[test]
    fn a_refresh_routes_over_added_partitions_and_never_shrinks() {
        // (tansu 0.6 does not implement CreatePartitions, so this is not a broker test)
        let routing = Routing::new(None, counts(&[("out", 1)]));
        let keys: Vec<String> = (0..40).map(|i| format!("lead-{i}")).collect();
        assert!(keys.iter().all(|k| routing.partition("out", k) == Some(0)));

        routing.update(counts(&[("out", 4), ("new-topic", 2)]));
        for k in &keys {
            assert_eq!(
                routing.partition("out", k),
                Some(Partitioner::Crc32.partition(k.as_bytes(), 4))
            );
        }
        let used: std::collections::BTreeSet<_> = keys
            .iter()
            .filter_map(|k| routing.partition("out", k))
            .collect();
        assert_eq!(used.len(), 4);
        assert!(routing.partition("new-topic", "lead-1").is_some());

        // an answer with fewer partitions, or without the topic, changes nothing
        routing.update(counts(&[("out", 2)]));
        routing.update(HashMap::new());
        for k in &keys {
            assert_eq!(
                routing.partition("out", k),
                Some(Partitioner::Crc32.partition(k.as_bytes(), 4))
            );
        }
    }
}
