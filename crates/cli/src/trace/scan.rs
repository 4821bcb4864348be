//! Finding one key's records in a topic without reading the whole topic: the key's partition (the
//! producers' partitioner), from a start time (`offsets_for_times`) to the end the partition had when
//! the scan started. Keys are compared as bytes; only matching records are kept (decoded later).

use std::time::{Duration, Instant};

use leadflow_events::Timestamp;
use leadflow_runtime::partitioner::Partitioner;
use leadflow_runtime::topic_range::{Partitions, RangeSpec, RangeStart, TopicRange};
use rdkafka::message::Message;

use crate::error::CliError;
use crate::kafka::{CliConfig, scan_config};

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
    let mut spec = RangeSpec::whole(req.topic.clone());
    if let Some(partitioner) = req.partitioner {
        spec.partitions = Partitions::OfKey(req.key.clone(), partitioner);
    }
    if let Some(since) = req.since {
        spec.start = RangeStart::Time(since.0);
    }
    // a partition stops at its first record written after `until`
    spec.stop_at_time = req.until.map(|until| until.0.saturating_add(1));
    let mut reader = TopicRange::open(&scan_config(cfg, "trace"), spec)?;
    let mut stats = ScanStats {
        partitions: reader.ranges().len(),
        ..ScanStats::default()
    };
    let mut hits = Vec::new();
    reader.for_each(|message| {
        stats.scanned += 1;
        if message.key() == Some(req.key.as_slice()) {
            if let Some(payload) = message.payload() {
                hits.push(Hit {
                    partition: message.partition(),
                    offset: message.offset(),
                    written_at: message.timestamp().to_millis().map(Timestamp),
                    payload: payload.to_vec(),
                });
            }
        }
    })?;
    stats.elapsed = started.elapsed();
    Ok((hits, stats))
}
