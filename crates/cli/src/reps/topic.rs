//! Reading a whole topic up to its current end (state topics), and writing a tombstone.

use std::collections::HashMap;
use std::time::Duration;

use leadflow_events::AnyEvent;
use leadflow_events::{Codec, Timestamp, TopicRole};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

use crate::error::CliError;
use crate::kafka::{CliConfig, METADATA_TIMEOUT, topic_partitions};

/// No record for this long while records remain below the end: the broker is stuck.
const STALL: Duration = Duration::from_secs(30);

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
    let group = format!("leadflow-cli-read-{}", uuid::Uuid::new_v4());
    let mut config = leadflow_runtime::kafka::consumer_config(cfg, &group);
    config
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("statistics.interval.ms", "0");
    let consumer: StreamConsumer = config
        .create()
        .map_err(|e| CliError::broker("cannot create a consumer", e))?;
    let partitions = topic_partitions(consumer.client(), &cfg.bootstrap_servers, &topic)?;
    let mut tpl = TopicPartitionList::new();
    for p in &partitions {
        let start = match since {
            Some(t) => Offset::Offset(t.0),
            None => Offset::Beginning,
        };
        tpl.add_partition_offset(&topic, *p, start)
            .map_err(|e| CliError::broker("cannot build the assignment", e))?;
    }
    if since.is_some() {
        tpl = consumer
            .offsets_for_times(tpl, METADATA_TIMEOUT)
            .map_err(|e| CliError::broker("cannot look up offsets by time", e))?;
    }
    let mut remaining: HashMap<i32, i64> = HashMap::new();
    for p in &partitions {
        let (low, high) = consumer
            .fetch_watermarks(&topic, *p, METADATA_TIMEOUT)
            .map_err(|e| CliError::broker(&format!("cannot read the end of {topic}"), e))?;
        let start = match tpl.find_partition(&topic, *p).map(|e| e.offset()) {
            Some(Offset::Offset(o)) => o,
            Some(Offset::End) => high,
            _ => low,
        };
        if start < high {
            remaining.insert(*p, high);
        }
    }
    consumer
        .assign(&tpl)
        .map_err(|e| CliError::broker(&format!("cannot assign {topic}"), e))?;
    let mut out = Vec::new();
    while !remaining.is_empty() {
        let msg = match tokio::time::timeout(STALL, consumer.recv()).await {
            Err(_) => {
                return Err(CliError::Broker(format!(
                    "no record from {topic} for {}s while reading it to its end",
                    STALL.as_secs()
                )));
            }
            Ok(Err(e)) => {
                eprintln!("consumer error: {e}");
                continue;
            }
            Ok(Ok(m)) => m,
        };
        let (p, offset) = (msg.partition(), msg.offset());
        let key = msg
            .key()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .unwrap_or_default();
        match msg.payload() {
            None => out.push((key, None)),
            Some(payload) => match AnyEvent::decode(&codec, kind, payload).await {
                Ok(e) => out.push((key, Some(e))),
                Err(e) => eprintln!("{topic} partition {p} offset {offset}: cannot decode: {e}"),
            },
        }
        if remaining.get(&p).is_some_and(|high| offset + 1 >= *high) {
            remaining.remove(&p);
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
