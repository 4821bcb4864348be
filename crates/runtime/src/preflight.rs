//! Start-up checks against the broker: the topics a stage needs must exist. A missing topic is a
//! configuration error reported at once, not a stream of consumer errors or a produce timeout later.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::error::RuntimeError;
use crate::topic_metadata::{fetch_cluster_metadata, partitions_of};

const METADATA_TIMEOUT: Duration = Duration::from_secs(15);

/// Fails with the missing topics named (and how to create them) unless every topic in `needed`
/// exists (see [`crate::topic_metadata`]).
pub fn require_topics(
    client: &ClientConfig,
    bootstrap: &str,
    needed: &[(&str, String)],
) -> Result<(), RuntimeError> {
    let client: BaseConsumer = client
        .create()
        .map_err(|e| RuntimeError::Kafka(Box::new(e)))?;
    let meta = fetch_cluster_metadata(client.client(), METADATA_TIMEOUT)
        .map_err(|e| RuntimeError::Kafka(Box::new(e)))?;
    let missing: Vec<String> = needed
        .iter()
        .filter(|(_, topic)| partitions_of(&meta, topic).is_none())
        .map(|(key, topic)| format!("{topic} (topics.{key})"))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(RuntimeError::Config(format!(
            "missing topics on {}: {}; create the pipeline topics first (leadflow topics create)",
            bootstrap,
            missing.join(", ")
        )))
    }
}
