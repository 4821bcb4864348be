//! Side inputs: state topics read in full (all partitions, no group, no commits), replayed up to the
//! high watermark before the stage's first input, then followed live. A tombstone (a keyed record
//! without a value) reaches the stage as [`AnyEvent::Tombstone`], so a deletion on a compacted
//! topic applies at once, not only after the next restart.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use leadflow_events::AnyEvent;
use leadflow_events::{Codec, Tombstone, TopicRole};
use rdkafka::Offset;
use rdkafka::TopicPartitionList;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::{ServiceConfig, StageSettings};
use crate::error::RuntimeError;
use crate::kafka::side_consumer_config;
use crate::stage::{SideInput, SideStart};
use crate::topic_metadata::{fetch_cluster_metadata, partitions_of};

/// What a side-input task reports to the pipeline.
#[derive(Debug)]
pub enum SideMessage {
    Event(TopicRole, Box<AnyEvent>),
    /// The task has read everything that existed when it started.
    CaughtUp(TopicRole),
    /// Everything before `next` of this partition was read (and sent before this message): the
    /// start offset of every partition first, then after each record. Timers wait for it.
    Position {
        role: TopicRole,
        partition: i32,
        next: i64,
    },
}

const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

/// Starts one task per side input. Each reports `CaughtUp` once, then keeps following.
pub async fn spawn_side_inputs<S: StageSettings>(
    cfg: &ServiceConfig<S>,
    group: &str,
    inputs: &[SideInput],
    codec: Arc<Codec>,
    clock: Arc<dyn Clock>,
    tx: mpsc::Sender<SideMessage>,
    shutdown: CancellationToken,
) -> Result<(), RuntimeError> {
    for input in inputs {
        let topic = cfg.topics.name(input.role).to_owned();
        let kind = input.role.event_kind().ok_or_else(|| {
            RuntimeError::Config(format!("side input {topic} has no event schema"))
        })?;
        let consumer: StreamConsumer = side_consumer_config(cfg, group)
            .create()
            .map_err(|e| RuntimeError::Kafka(Box::new(e)))?;
        let (assignment, targets, not_before, starts) =
            assignment(&consumer, &topic, input.start, clock.as_ref()).await?;
        for (partition, next) in starts {
            let _ = tx
                .send(SideMessage::Position {
                    role: input.role,
                    partition,
                    next,
                })
                .await;
        }
        consumer
            .assign(&assignment)
            .map_err(|e| RuntimeError::Kafka(Box::new(e)))?;
        let role = input.role;
        let tx = tx.clone();
        let codec = codec.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let replay = Replay {
                role,
                kind,
                targets,
                not_before,
            };
            follow(consumer, replay, codec, tx, shutdown).await;
        });
    }
    Ok(())
}

/// Assigns every partition at its start offset; returns the offsets that mean "caught up", for a
/// [`SideStart::Since`] window the earliest record timestamp (ms) the window keeps, and each
/// partition's start offset (its first position).
async fn assignment(
    consumer: &StreamConsumer,
    topic: &str,
    start: SideStart,
    clock: &dyn Clock,
) -> Result<
    (
        TopicPartitionList,
        HashMap<i32, i64>,
        Option<i64>,
        Vec<(i32, i64)>,
    ),
    RuntimeError,
> {
    let meta = fetch_cluster_metadata(consumer.client(), METADATA_TIMEOUT)
        .map_err(|e| RuntimeError::Kafka(Box::new(e)))?;
    let partitions: Vec<i32> = partitions_of(&meta, topic).unwrap_or_default();
    if partitions.is_empty() {
        return Err(RuntimeError::Config(format!(
            "side-input topic {topic} does not exist; create the pipeline topics first (leadflow topics create)"
        )));
    }
    let mut tpl = TopicPartitionList::new();
    for p in &partitions {
        tpl.add_partition_offset(topic, *p, Offset::Beginning)
            .map_err(|e| RuntimeError::Kafka(Box::new(e)))?;
    }
    let mut not_before = None;
    if let SideStart::Since(window) = start {
        let from = clock.now().0 - i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
        not_before = Some(from);
        let mut times = TopicPartitionList::new();
        for p in &partitions {
            times
                .add_partition_offset(topic, *p, Offset::Offset(from.max(0)))
                .map_err(|e| RuntimeError::Kafka(Box::new(e)))?;
        }
        tpl = consumer
            .offsets_for_times(times, METADATA_TIMEOUT)
            .map_err(|e| RuntimeError::Kafka(Box::new(e)))?;
    }
    let mut targets = HashMap::new();
    let mut starts = Vec::new();
    for p in &partitions {
        let (low, high) = consumer
            .fetch_watermarks(topic, *p, METADATA_TIMEOUT)
            .map_err(|e| RuntimeError::Kafka(Box::new(e)))?;
        let start_at = match tpl.find_partition(topic, *p).map(|e| e.offset()) {
            Some(Offset::Offset(o)) => o,
            Some(Offset::End) => high,
            _ => low,
        };
        starts.push((*p, start_at.min(high)));
        if start_at < high {
            targets.insert(*p, high);
        }
    }
    Ok((tpl, targets, not_before, starts))
}

/// What one side-input task replays and follows.
struct Replay {
    role: TopicRole,
    kind: leadflow_events::EventKind,
    /// Per partition, the high watermark at start: reaching every one means "caught up".
    targets: HashMap<i32, i64>,
    /// Records timestamped before this (ms) are outside the window and skipped undecoded. The start
    /// offsets already come from the broker's offsets-for-times answer; this also holds the window
    /// on a broker that answers a time after its last record with offset 0 instead of the end
    /// (tansu 0.6, `docs/BROKER.md` 5), where the whole topic would otherwise be replayed.
    not_before: Option<i64>,
}

/// Decodes a side-input record as the kind its topic carries, or as a kind earlier versions wrote on
/// it ([`TopicRole::earlier_kinds`]: the dedup changelog's single `DedupKey` records before batching).
async fn decode(
    codec: &Codec,
    role: TopicRole,
    kind: leadflow_events::EventKind,
    payload: &[u8],
) -> Result<AnyEvent, leadflow_events::DecodeError> {
    let current = AnyEvent::decode(codec, kind, payload).await;
    if current.is_ok() {
        return current;
    }
    for earlier in role.earlier_kinds() {
        if let Ok(event) = AnyEvent::decode(codec, *earlier, payload).await {
            return Ok(event);
        }
    }
    current
}

/// A record with a key and no value is a tombstone: [`AnyEvent::Tombstone`] of the topic's kind.
fn tombstone<M: Message>(msg: &M, kind: leadflow_events::EventKind) -> Option<AnyEvent> {
    if msg.payload().is_some() {
        return None;
    }
    let key = msg.key().filter(|k| !k.is_empty())?;
    Some(AnyEvent::Tombstone(Tombstone {
        kind,
        key: String::from_utf8_lossy(key).into_owned(),
    }))
}

async fn follow(
    consumer: StreamConsumer,
    replay: Replay,
    codec: Arc<Codec>,
    tx: mpsc::Sender<SideMessage>,
    shutdown: CancellationToken,
) {
    let Replay {
        role,
        kind,
        mut targets,
        not_before,
    } = replay;
    let mut caught_up = targets.is_empty();
    if caught_up && tx.send(SideMessage::CaughtUp(role)).await.is_err() {
        return;
    }
    loop {
        let msg = tokio::select! {
            _ = shutdown.cancelled() => return,
            m = consumer.recv() => m,
        };
        let msg = match msg {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, side_input = ?role, "side-input consumer error");
                continue;
            }
        };
        let (partition, offset) = (msg.partition(), msg.offset());
        let outside_window = not_before
            .zip(msg.timestamp().to_millis())
            .is_some_and(|(from, at)| at < from);
        if let Some(tombstone) = tombstone(&msg, kind).filter(|_| !outside_window) {
            // a deletion on a compacted topic: the stage forgets the key (a removed rep)
            if tx
                .send(SideMessage::Event(role, Box::new(tombstone)))
                .await
                .is_err()
            {
                return;
            }
        } else if let Some(payload) = msg.payload().filter(|_| !outside_window) {
            match decode(&codec, role, kind, payload).await {
                Ok(event) => {
                    if tx
                        .send(SideMessage::Event(role, Box::new(event)))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                Err(e) => tracing::warn!(
                    topic = msg.topic(), partition, offset, error = %e,
                    "side-input record does not decode; skipped"
                ),
            }
        }
        let position = SideMessage::Position {
            role,
            partition,
            next: offset + 1,
        };
        if tx.send(position).await.is_err() {
            return;
        }
        if !caught_up {
            if targets
                .get(&partition)
                .is_some_and(|high| offset + 1 >= *high)
            {
                targets.remove(&partition);
            }
            if targets.is_empty() {
                caught_up = true;
                if tx.send(SideMessage::CaughtUp(role)).await.is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use leadflow_events::{DedupKeyBatch, EventKind, samples};

    use super::*;

    #[test]
    fn a_keyed_record_without_a_value_is_a_tombstone_of_the_topics_kind() {
        use rdkafka::Timestamp as KafkaTime;
        use rdkafka::message::OwnedMessage;
        let record = |key: Option<&[u8]>, payload: Option<&[u8]>| {
            OwnedMessage::new(
                payload.map(<[u8]>::to_vec),
                key.map(<[u8]>::to_vec),
                "reps".into(),
                KafkaTime::NotAvailable,
                0,
                7,
                None,
            )
        };
        assert_eq!(
            tombstone(&record(Some(b"ae-1"), None), EventKind::RepState),
            Some(AnyEvent::Tombstone(Tombstone {
                kind: EventKind::RepState,
                key: "ae-1".into()
            }))
        );
        assert_eq!(
            tombstone(&record(Some(b"ae-1"), Some(b"x")), EventKind::RepState),
            None
        );
        assert_eq!(tombstone(&record(None, None), EventKind::RepState), None);
    }

    #[tokio::test]
    async fn a_side_input_reads_its_kind_and_the_kinds_its_topic_carried_before() {
        let codec = Codec::single_object().expect("codec");
        let batch = DedupKeyBatch::of(samples::dedup_key());
        let role = TopicRole::DedupKeys;
        let kind = EventKind::DedupKeyBatch;

        let current = codec.encode("t", &batch).await.expect("encode");
        assert_eq!(
            decode(&codec, role, kind, &current).await.expect("decodes"),
            AnyEvent::DedupKeyBatch(batch)
        );
        // a single entry, as versions before batching wrote it
        let earlier = codec
            .encode("t", &samples::dedup_key())
            .await
            .expect("encode");
        assert_eq!(
            decode(&codec, role, kind, &earlier).await.expect("decodes"),
            AnyEvent::DedupKey(samples::dedup_key())
        );
        // anything else is still refused, with the current kind's error
        let other = codec
            .encode("t", &samples::lead_event())
            .await
            .expect("encode");
        assert!(decode(&codec, role, kind, &other).await.is_err());
        // a topic without earlier kinds does not try them
        assert!(
            decode(&codec, TopicRole::Raw, EventKind::LeadEvent, &earlier)
                .await
                .is_err()
        );
    }
}
