//! Side inputs: state topics read in full (all partitions, no group, no commits), replayed up to the
//! high watermark before the stage's first input, then followed live. A tombstone (a keyed record
//! without a value) reaches the stage as [`AnyEvent::Tombstone`], so a deletion on a compacted
//! topic applies at once, not only after the next restart.

use std::sync::Arc;

use leadflow_events::AnyEvent;
use leadflow_events::{Codec, Tombstone, TopicRole};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::{ServiceConfig, StageSettings};
use crate::error::RuntimeError;
use crate::kafka::side_consumer_config;
use crate::stage::{SideInput, SideStart};
use crate::topic_range::{
    RangeError, RangeItem, RangeRecord, RangeSpec, RangeStart, RangeStream, TopicRange,
};

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

/// Starts one task per side input. Each reports `CaughtUp` once, then keeps following.
///
/// The replay is a following [`TopicRange`] read (`crates/runtime/RULES.md` rule 7): a partition is
/// caught up when its last record up to the start's high watermark arrived, or when a look at the
/// broker finds its position at or past the high watermark the broker has now — a replay
/// interrupted by a broker restart reports caught up without the record it waited for.
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
        let mut spec = RangeSpec::whole(topic.clone());
        spec.follow = true;
        let mut not_before = None;
        if let SideStart::Since(window) = input.start {
            let from = clock.now().0 - i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
            not_before = Some(from);
            spec.start = RangeStart::Time(from);
        }
        let reader = TopicRange::open_async(&side_consumer_config(cfg, group), spec)
            .await
            .map_err(|e| match e {
                RangeError::NoSuchTopic { .. } => RuntimeError::Config(format!(
                    "side-input topic {topic} does not exist; create the pipeline topics first (leadflow topics create)"
                )),
                e => RuntimeError::SideInput(Box::new(e)),
            })?;
        for r in reader.ranges() {
            let _ = tx
                .send(SideMessage::Position {
                    role: input.role,
                    partition: r.partition,
                    next: r.start,
                })
                .await;
        }
        let records = reader.spawn();
        let replay = Replay {
            role: input.role,
            kind,
            not_before,
        };
        tokio::spawn(follow(
            records,
            replay,
            codec.clone(),
            tx.clone(),
            shutdown.clone(),
        ));
    }
    Ok(())
}

/// What one side-input task replays and follows.
struct Replay {
    role: TopicRole,
    kind: leadflow_events::EventKind,
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
fn tombstone(record: &RangeRecord, kind: leadflow_events::EventKind) -> Option<AnyEvent> {
    if record.payload.is_some() {
        return None;
    }
    let key = record.key.as_deref().filter(|k| !k.is_empty())?;
    Some(AnyEvent::Tombstone(Tombstone {
        kind,
        key: String::from_utf8_lossy(key).into_owned(),
    }))
}

async fn follow(
    mut records: RangeStream,
    replay: Replay,
    codec: Arc<Codec>,
    tx: mpsc::Sender<SideMessage>,
    shutdown: CancellationToken,
) {
    let Replay {
        role,
        kind,
        not_before,
    } = replay;
    loop {
        let item = tokio::select! {
            _ = shutdown.cancelled() => return,
            item = records.next() => item,
        };
        let message = match item {
            None => {
                tracing::error!(side_input = ?role, "side-input reader stopped");
                return;
            }
            Some(Err(e)) => {
                tracing::error!(side_input = ?role, error = %e, "side-input reader failed");
                return;
            }
            Some(Ok(RangeItem::CaughtUp)) => SideMessage::CaughtUp(role),
            Some(Ok(RangeItem::Stalled(e))) => {
                tracing::warn!(side_input = ?role, error = %e, "side-input replay makes no progress; still waiting");
                continue;
            }
            Some(Ok(RangeItem::Reached { partition, next })) => SideMessage::Position {
                role,
                partition,
                next,
            },
            Some(Ok(RangeItem::Record(record))) => {
                if !forward(&record, role, kind, not_before, &codec, &tx).await {
                    return;
                }
                SideMessage::Position {
                    role,
                    partition: record.partition,
                    next: record.offset + 1,
                }
            }
        };
        if tx.send(message).await.is_err() {
            return;
        }
    }
}

/// Sends the event (or tombstone) a record holds, unless it is outside the window or does not
/// decode; `false` once the pipeline no longer listens.
async fn forward(
    record: &RangeRecord,
    role: TopicRole,
    kind: leadflow_events::EventKind,
    not_before: Option<i64>,
    codec: &Codec,
    tx: &mpsc::Sender<SideMessage>,
) -> bool {
    let outside_window = not_before
        .zip(record.timestamp)
        .is_some_and(|(from, at)| at < from);
    if outside_window {
        return true;
    }
    let event = if let Some(tombstone) = tombstone(record, kind) {
        // a deletion on a compacted topic: the stage forgets the key (a removed rep)
        tombstone
    } else if let Some(payload) = &record.payload {
        match decode(codec, role, kind, payload).await {
            Ok(event) => event,
            Err(e) => {
                tracing::warn!(
                    partition = record.partition, offset = record.offset, error = %e,
                    side_input = ?role, "side-input record does not decode; skipped"
                );
                return true;
            }
        }
    } else {
        return true;
    };
    tx.send(SideMessage::Event(role, Box::new(event)))
        .await
        .is_ok()
}

#[cfg(test)]
mod tests {
    use leadflow_events::{DedupKeyBatch, EventKind, samples};

    use super::*;

    #[test]
    fn a_keyed_record_without_a_value_is_a_tombstone_of_the_topics_kind() {
        let record = |key: Option<&[u8]>, payload: Option<&[u8]>| RangeRecord {
            partition: 0,
            offset: 7,
            timestamp: None,
            key: key.map(<[u8]>::to_vec),
            payload: payload.map(<[u8]>::to_vec),
            headers: Vec::new(),
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

    #[tokio::test]
    async fn a_partition_the_stall_rule_ends_moves_the_position_and_the_side_input_catches_up() {
        let codec = Arc::new(Codec::single_object().expect("codec"));
        let role = TopicRole::Reps;
        let payload = codec
            .encode("reps", &samples::rep_state())
            .await
            .expect("encode");
        let (items_tx, items_rx) = mpsc::channel(8);
        let record = RangeRecord {
            partition: 0,
            offset: 4,
            timestamp: None,
            key: Some(b"ae-1".to_vec()),
            payload: Some(payload),
            headers: Vec::new(),
        };
        for item in [
            RangeItem::Record(record),
            // the record at offset 9 never arrives (offsets 5..9 were skipped markers): a look finds
            // the client at 10, the high watermark
            RangeItem::Reached {
                partition: 0,
                next: 10,
            },
            RangeItem::CaughtUp,
        ] {
            items_tx.send(Ok(item)).await.expect("send");
        }
        // the read ends after these: a message missing below fails instead of waiting
        drop(items_tx);
        let (tx, mut rx) = mpsc::channel(8);
        let replay = Replay {
            role,
            kind: EventKind::RepState,
            not_before: None,
        };
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(follow(
            RangeStream::from_channel(items_rx),
            replay,
            codec,
            tx,
            shutdown.clone(),
        ));
        let mut seen = Vec::new();
        while seen.len() < 4 {
            seen.push(rx.recv().await.expect("a message"));
        }
        assert!(
            matches!(&seen[0], SideMessage::Event(TopicRole::Reps, e) if matches!(**e, AnyEvent::RepState(_))),
            "{seen:?}"
        );
        assert!(
            matches!(
                seen[1],
                SideMessage::Position {
                    partition: 0,
                    next: 5,
                    ..
                }
            ),
            "{seen:?}"
        );
        assert!(
            matches!(
                seen[2],
                SideMessage::Position {
                    partition: 0,
                    next: 10,
                    ..
                }
            ),
            "{seen:?}"
        );
        assert!(
            matches!(seen[3], SideMessage::CaughtUp(TopicRole::Reps)),
            "{seen:?}"
        );
        shutdown.cancel();
        task.await.expect("task");
    }
}
