//! Start-up: the idempotency memory is rebuilt from the records ingest wrote to `leads.raw` within the
//! window (their `leadflow-ingest-*` headers), bounded in time (`rebuild_timeout_ms`) and entries
//! (`idempotency_max_entries`). Records other producers wrote carry no such headers and are skipped.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

use crate::idempotency::{IdempotencyStore, Stored, event_key, request_key};
use crate::sink::headers;

/// What the replay read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rebuilt {
    pub records: u64,
    pub events: u64,
    pub requests: u64,
    /// The replay stopped at its time bound before reaching the end of the topic.
    pub timed_out: bool,
}

#[derive(Default)]
struct Request {
    fingerprint: [u8; 32],
    count: usize,
    ids: BTreeMap<usize, String>,
    at_ms: i64,
}

fn fingerprint(hex_text: &[u8]) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_text, &mut out).ok()?;
    Some(out)
}

/// Reads `topic` from `now_ms - window` to its end (as of the start) into `store`. Blocking: run it on
/// a blocking thread.
pub fn rebuild(
    client: &ClientConfig,
    topic: &str,
    now_ms: i64,
    window_ms: i64,
    max_entries: usize,
    timeout: Duration,
    store: &mut IdempotencyStore,
) -> Result<Rebuilt, String> {
    let mut config = client.clone();
    config
        .set("group.id", "leadflow-ingest-rebuild")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false");
    let consumer: BaseConsumer = config.create().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let meta = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .map_err(|e| format!("metadata of {topic}: {e}"))?;
    let partitions: Vec<i32> = meta
        .topics()
        .iter()
        .filter(|t| t.name() == topic)
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    let mut times = TopicPartitionList::new();
    for p in &partitions {
        times
            .add_partition_offset(topic, *p, Offset::Offset(now_ms.saturating_sub(window_ms)))
            .map_err(|e| e.to_string())?;
    }
    let starts = consumer
        .offsets_for_times(times, Duration::from_secs(10))
        .map_err(|e| format!("offsets of {topic} by time: {e}"))?;
    let mut assign = TopicPartitionList::new();
    let mut remaining: HashMap<i32, i64> = HashMap::new();
    for p in &partitions {
        let (low, high) = consumer
            .fetch_watermarks(topic, *p, Duration::from_secs(10))
            .map_err(|e| format!("watermarks of {topic}/{p}: {e}"))?;
        let start = match starts.find_partition(topic, *p).map(|e| e.offset()) {
            Some(Offset::Offset(o)) => o.max(low),
            // no record at or after the time: nothing to read
            _ => high,
        };
        if start < high {
            assign
                .add_partition_offset(topic, *p, Offset::Offset(start))
                .map_err(|e| e.to_string())?;
            remaining.insert(*p, high);
        }
    }
    let mut out = Rebuilt::default();
    if remaining.is_empty() {
        return Ok(out);
    }
    consumer.assign(&assign).map_err(|e| e.to_string())?;
    let mut requests: HashMap<String, Request> = HashMap::new();
    while !remaining.is_empty() {
        if started.elapsed() > timeout || out.records >= max_entries as u64 {
            out.timed_out = started.elapsed() > timeout;
            break;
        }
        let Some(msg) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let msg = msg.map_err(|e| e.to_string())?;
        if let Some(high) = remaining.get(&msg.partition()) {
            if msg.offset() + 1 >= *high {
                remaining.remove(&msg.partition());
            }
        }
        out.records += 1;
        let Some(hs) = msg.headers() else { continue };
        let mut get = BTreeMap::new();
        for h in hs.iter() {
            if let Some(v) = h.value {
                get.insert(h.key, v);
            }
        }
        let at_ms = msg.timestamp().to_millis().unwrap_or(now_ms);
        let (Some(publisher), Some(event_id), Some(fp)) = (
            get.get(headers::PUBLISHER)
                .and_then(|v| std::str::from_utf8(v).ok()),
            get.get(headers::EVENT_ID)
                .and_then(|v| std::str::from_utf8(v).ok()),
            get.get(headers::FINGERPRINT).and_then(|v| fingerprint(v)),
        ) else {
            continue;
        };
        store.restore(
            &event_key(publisher, event_id),
            fp,
            Stored {
                event_ids: vec![event_id.to_owned()],
            },
            at_ms,
        );
        out.events += 1;
        let (Some(key), Some(request_fp), Some(position)) = (
            get.get(headers::KEY)
                .and_then(|v| std::str::from_utf8(v).ok()),
            get.get(headers::REQUEST).and_then(|v| fingerprint(v)),
            get.get(headers::POSITION)
                .and_then(|v| std::str::from_utf8(v).ok()),
        ) else {
            continue;
        };
        let Some((index, count)) = position
            .split_once('/')
            .and_then(|(i, c)| Some((i.parse().ok()?, c.parse().ok()?)))
        else {
            continue;
        };
        let r = requests.entry(request_key(publisher, key)).or_default();
        r.fingerprint = request_fp;
        r.count = count;
        r.ids.insert(index, event_id.to_owned());
        r.at_ms = r.at_ms.max(at_ms);
    }
    for (key, r) in requests {
        // a request cut short by a failure was answered 503: only complete ones are replayed
        if r.ids.len() == r.count && r.ids.keys().copied().eq(0..r.count) {
            store.restore(
                &key,
                r.fingerprint,
                Stored {
                    event_ids: r.ids.into_values().collect(),
                },
                r.at_ms,
            );
            out.requests += 1;
        }
    }
    Ok(out)
}
