//! Start-up checks against the broker: the topics a stage needs must exist. A missing topic is a
//! configuration error reported at once, not a stream of consumer errors or a produce timeout later.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::error::RuntimeError;

const METADATA_TIMEOUT: Duration = Duration::from_secs(15);

/// Fails with the missing topics named (and how to create them) unless every topic in `needed`
/// exists. Asks for all topics' metadata, so a broker that auto-creates topics on a named metadata
/// request does not create a mistyped one.
pub fn require_topics(
    client: &ClientConfig,
    bootstrap: &str,
    needed: &[(&str, String)],
) -> Result<(), RuntimeError> {
    let client: BaseConsumer = client
        .create()
        .map_err(|e| RuntimeError::Kafka(Box::new(e)))?;
    let meta = client
        .fetch_metadata(None, METADATA_TIMEOUT)
        .map_err(|e| RuntimeError::Kafka(Box::new(e)))?;
    let missing: Vec<String> = needed
        .iter()
        .filter(|(_, topic)| {
            !meta
                .topics()
                .iter()
                .any(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty())
        })
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
