//! Finding one key's records in a topic without reading the whole topic: the key's partition (the
//! producers' partitioner), from a start time (`offsets_for_times`) to the end the partition had when
//! the scan started. Keys are compared as bytes; only matching records are kept (decoded later).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use leadflow_events::Timestamp;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::error::CliError;
use crate::kafka::{CliConfig, METADATA_TIMEOUT, topic_partitions};

use leadflow_runtime::partitioner::Partitioner;

/// What to scan.
#[derive(Clone, Debug)]
pub struct ScanRequest {
    pub topic: String,
    pub key: Vec<u8>,
    /// `None`: every partition (the partitioner is unknown or the caller asked for it).
    pub partitioner: Option<Partitioner>,
    /// Start at the first record written at or after this time (`None`: the beginning).
    pub since: Option<Timestamp>,
    /// Stop a partition at the first record written after this time (`None`: its current end).
    pub until: Option<Timestamp>,
}

/// A record whose key matched.
#[derive(Clone, Debug)]
pub struct Hit {
    pub partition: i32,
    pub offset: i64,
    pub written_at: Option<Timestamp>,
    pub payload: Vec<u8>,
}

/// What a scan cost.
#[derive(Clone, Debug, Default)]
pub struct ScanStats {
    pub partitions: usize,
    pub scanned: u64,
    pub elapsed: Duration,
}

/// Scans synchronously (call from `spawn_blocking`): librdkafka's poll loop, no async overhead per
/// record.
pub fn scan(cfg: &CliConfig, req: &ScanRequest) -> Result<(Vec<Hit>, ScanStats), CliError> {
    let started = Instant::now();
    let topic = req.topic.as_str();
    let group = format!("leadflow-cli-trace-{}", uuid::Uuid::new_v4());
    let mut config = leadflow_runtime::kafka::consumer_config(cfg, &group);
    config
        .set("enable.auto.commit", "false")
        .set("statistics.interval.ms", "0")
        .set("fetch.wait.max.ms", "10")
        .set("queued.min.messages", "200000")
        .set("fetch.max.bytes", "52428800")
        .set("max.partition.fetch.bytes", "10485760")
        .remove("partitioner");
    let consumer: BaseConsumer = config
        .create()
        .map_err(|e| CliError::broker("cannot create a consumer", e))?;
    let all = topic_partitions(consumer.client(), &cfg.bootstrap_servers, topic)?;
    let count = i32::try_from(all.len()).unwrap_or(i32::MAX);
    let partitions: Vec<i32> = match req.partitioner {
        Some(p) => vec![p.partition(&req.key, count)],
        None => all,
    };
    let mut starts = HashMap::new();
    if let Some(since) = req.since {
        let mut times = TopicPartitionList::new();
        for p in &partitions {
            times
                .add_partition_offset(topic, *p, Offset::Offset(since.0.max(0)))
                .map_err(|e| CliError::broker("cannot build the assignment", e))?;
        }
        let found = consumer
            .offsets_for_times(times, METADATA_TIMEOUT)
            .map_err(|e| CliError::broker(&format!("cannot find offsets of {topic}"), e))?;
        for p in &partitions {
            if let Some(Offset::Offset(o)) = found.find_partition(topic, *p).map(|e| e.offset()) {
                starts.insert(*p, o);
            }
        }
    }
    let mut remaining: HashMap<i32, i64> = HashMap::new();
    let mut tpl = TopicPartitionList::new();
    for p in &partitions {
        let (low, high) = consumer
            .fetch_watermarks(topic, *p, METADATA_TIMEOUT)
            .map_err(|e| CliError::broker(&format!("cannot read the end of {topic}"), e))?;
        let from = match (req.since, starts.get(p)) {
            (Some(_), Some(o)) => (*o).max(low),
            // a start time past the last record: nothing to read
            (Some(_), None) => high,
            (None, _) => low,
        };
        if from < high {
            remaining.insert(*p, high);
            tpl.add_partition_offset(topic, *p, Offset::Offset(from))
                .map_err(|e| CliError::broker("cannot build the assignment", e))?;
        }
    }
    let mut stats = ScanStats {
        partitions: partitions.len(),
        ..ScanStats::default()
    };
    let mut hits = Vec::new();
    if !remaining.is_empty() {
        consumer.assign(&tpl).map_err(|e| {
            CliError::broker(&format!("cannot assign the partitions of {topic}"), e)
        })?;
    }
    let mut idle_since = Instant::now();
    while !remaining.is_empty() {
        let Some(result) = consumer.poll(Duration::from_millis(500)) else {
            if idle_since.elapsed() > Duration::from_secs(30) {
                return Err(CliError::Broker(format!(
                    "reading {topic} stalled for 30 s"
                )));
            }
            continue;
        };
        idle_since = Instant::now();
        let message = result.map_err(|e| CliError::broker(&format!("cannot read {topic}"), e))?;
        stats.scanned += 1;
        let (partition, offset) = (message.partition(), message.offset());
        let written_at = message.timestamp().to_millis().map(Timestamp);
        if let (Some(until), Some(at)) = (req.until, written_at) {
            if at > until {
                remaining.remove(&partition);
                if let Err(e) = consumer.incremental_unassign(&single(topic, partition)?) {
                    tracing::debug!(topic, partition, error = %e, "cannot unassign a finished partition");
                }
                continue;
            }
        }
        if message.key() == Some(req.key.as_slice()) {
            if let Some(payload) = message.payload() {
                hits.push(Hit {
                    partition,
                    offset,
                    written_at,
                    payload: payload.to_vec(),
                });
            }
        }
        if remaining
            .get(&partition)
            .is_some_and(|high| offset + 1 >= *high)
        {
            remaining.remove(&partition);
        }
    }
    stats.elapsed = started.elapsed();
    Ok((hits, stats))
}

fn single(topic: &str, partition: i32) -> Result<TopicPartitionList, CliError> {
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, partition, Offset::Invalid)
        .map_err(|e| CliError::broker("cannot build the assignment", e))?;
    Ok(tpl)
}
