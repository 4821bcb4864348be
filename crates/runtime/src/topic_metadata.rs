//! Reading topic metadata from the broker — the one place every component (stages' start-up checks,
//! the CLI, the test kit) asks "does this topic exist, and with which partitions?".
//!
//! Always asks for the metadata of every topic, never of one by name: a broker with
//! `auto.create.topics.enable` creates a topic named in a metadata request, so a mistyped name would
//! silently become a new, empty topic.

use std::collections::HashMap;
use std::time::Duration;

use rdkafka::client::{Client, ClientContext};
use rdkafka::error::KafkaResult;
use rdkafka::metadata::Metadata;

/// The whole cluster's metadata (all topics).
pub fn fetch_cluster_metadata<C: ClientContext>(
    client: &Client<C>,
    timeout: Duration,
) -> KafkaResult<Metadata> {
    client.fetch_metadata(None, timeout)
}

/// The partition ids of `topic`, sorted; `None` when the topic does not exist, reports an error, or
/// has no partitions.
pub fn partitions_of(metadata: &Metadata, topic: &str) -> Option<Vec<i32>> {
    let t = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic && t.error().is_none())?;
    let mut ids: Vec<i32> = t.partitions().iter().map(|p| p.id()).collect();
    if ids.is_empty() {
        return None;
    }
    ids.sort_unstable();
    Some(ids)
}

/// The partition count of every topic in `metadata` that reports no error and has partitions.
pub fn partition_counts(metadata: &Metadata) -> HashMap<String, i32> {
    metadata
        .topics()
        .iter()
        .filter(|t| t.error().is_none() && !t.partitions().is_empty())
        .map(|t| {
            let count = i32::try_from(t.partitions().len()).unwrap_or(i32::MAX);
            (t.name().to_owned(), count)
        })
        .collect()
}

/// How many partitions of `topic` have a leader and no error (0 when the topic does not exist): what
/// "the topic is ready to use" means after creating it.
pub fn led_partition_count(metadata: &Metadata, topic: &str) -> usize {
    metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic && t.error().is_none())
        .map(|t| {
            t.partitions()
                .iter()
                .filter(|p| p.error().is_none() && p.leader() >= 0)
                .count()
        })
        .unwrap_or(0)
}
