//! Reading a whole topic up to its current end (state topics), and writing a tombstone.

use std::time::Duration;

use leadflow_events::AnyEvent;
use leadflow_events::{Codec, Timestamp, TopicRole};
use leadflow_runtime::topic_range::{self, RangeSpec};
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::error::CliError;
use crate::kafka::{CliConfig, range_config};

/// Every record of the role's topic from `since` (or the beginning) to the end at call time, as
/// (key, event); `None` for a tombstone. Records that do not decode are reported and skipped.
pub async fn read_all(
    cfg: &CliConfig,
    role: TopicRole,
    since: Option<Timestamp>,
) -> Result<Vec<(String, Option<AnyEvent>)>, CliError> {
    let topic = cfg.topics.name(role).to_owned();
    let kind = role
        .event_kind()
        .ok_or_else(|| CliError::Internal(format!("{topic} has no event kind")))?;
    let codec = Codec::from_config(cfg.registry.as_ref())?;
    let spec = match since {
        Some(t) => RangeSpec::since(topic.clone(), t.0),
        None => RangeSpec::whole(topic.clone()),
    };
    let records = topic_range::read_to_end(&range_config(cfg, "read"), spec).await?;
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        let key = r
            .key
            .map(|k| String::from_utf8_lossy(&k).into_owned())
            .unwrap_or_default();
        match r.payload {
            None => out.push((key, None)),
            Some(payload) => match AnyEvent::decode(&codec, kind, &payload).await {
                Ok(e) => out.push((key, Some(e))),
                Err(e) => eprintln!(
                    "{topic} partition {} offset {}: cannot decode: {e}",
                    r.partition, r.offset
                ),
            },
        }
    }
    Ok(out)
}

/// Produces a tombstone (no value) for `key`.
pub async fn tombstone(cfg: &CliConfig, topic: &str, key: &str) -> Result<(), CliError> {
    let producer: FutureProducer = leadflow_runtime::kafka::producer_config(cfg)
        .create()
        .map_err(|e| CliError::broker("cannot create a producer", e))?;
    let record: FutureRecord<'_, str, [u8]> = FutureRecord::to(topic).key(key);
    producer
        .send(record, Duration::from_secs(30))
        .await
        .map_err(|(e, _)| CliError::broker("cannot write the tombstone", e))?;
    Ok(())
}
