//! The queue's Kafka side: reading `leads.exceptions` and `exceptions.state` to their current end,
//! writing a state record, and re-producing a record to its source topic.

use std::time::Duration;

use leadflow_events::{Codec, Event, ExceptionRecord, ExceptionState, ReplayTarget, TopicRole};
use leadflow_runtime::topic_range::{self, RangeRecord, RangeSpec};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;

use super::queue::Queue;
use crate::error::CliError;
use crate::kafka::{CliConfig, range_config};

/// Header a re-produced record carries: the exception entry it resolves (audit; not needed to fold).
pub const REPLAY_HEADER: &str = "leadflow-replay-of";

/// Every record of `topic` from the beginning up to the end it had when reading started.
pub async fn read_to_end(cfg: &CliConfig, topic: &str) -> Result<Vec<RangeRecord>, CliError> {
    let config = range_config(cfg, "exceptions");
    Ok(topic_range::read_to_end(&config, RangeSpec::whole(topic)).await?)
}

/// Decodes what can be decoded; an undecodable record is reported on stderr and skipped.
async fn decode_all<E: Event>(codec: &Codec, topic: &str, records: Vec<RangeRecord>) -> Vec<E> {
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        let Some(payload) = r.payload else { continue };
        match codec.decode::<E>(&payload).await {
            Ok(e) => out.push(e),
            Err(e) => eprintln!(
                "{topic} partition {} offset {}: skipped, cannot decode: {e}",
                r.partition, r.offset
            ),
        }
    }
    out
}

/// The queue as the two topics hold it now.
pub async fn load(cfg: &CliConfig, codec: &Codec) -> Result<Queue, CliError> {
    let records_topic = cfg.topics.name(TopicRole::Exceptions);
    let state_topic = cfg.topics.name(TopicRole::ExceptionsState);
    let (records, states) = tokio::try_join!(
        read_to_end(cfg, records_topic),
        read_to_end(cfg, state_topic)
    )?;
    let records: Vec<ExceptionRecord> = decode_all(codec, records_topic, records).await;
    let states: Vec<ExceptionState> = decode_all(codec, state_topic, states).await;
    Ok(Queue::build(states, records))
}

fn producer(cfg: &CliConfig) -> Result<FutureProducer, CliError> {
    leadflow_runtime::kafka::producer_config(cfg)
        .create()
        .map_err(|e| CliError::broker("cannot create a producer", e))
}

async fn send(
    producer: &FutureProducer,
    topic: &str,
    key: Option<&[u8]>,
    payload: &[u8],
    headers: Option<OwnedHeaders>,
) -> Result<ReplayTarget, CliError> {
    let mut record = FutureRecord::<[u8], [u8]>::to(topic).payload(payload);
    if let Some(k) = key {
        record = record.key(k);
    }
    if let Some(h) = headers {
        record = record.headers(h);
    }
    let delivery = producer
        .send(record, Timeout::After(Duration::from_secs(30)))
        .await
        .map_err(|(e, _)| CliError::broker(&format!("producing to {topic} failed"), e))?;
    producer
        .flush(Timeout::After(Duration::from_secs(10)))
        .map_err(|e| CliError::broker("flushing the producer failed", e))?;
    Ok(ReplayTarget {
        topic: topic.to_owned(),
        partition: delivery.partition,
        offset: delivery.offset,
    })
}

/// Writes an entry's new state (key: exception id) and waits for the broker's acknowledgement.
pub async fn write_state(
    cfg: &CliConfig,
    codec: &Codec,
    state: &ExceptionState,
) -> Result<(), CliError> {
    let topic = cfg.topics.name(TopicRole::ExceptionsState);
    let payload = codec
        .encode(topic, state)
        .await
        .map_err(|e| CliError::Internal(format!("cannot encode the exception state: {e}")))?;
    send(
        &producer(cfg)?,
        topic,
        Some(state.exception_id.as_bytes()),
        &payload,
        None,
    )
    .await
    .map(|_| ())
}

/// Re-produces `payload` to the failed record's topic with its original key; returns where it landed.
pub async fn resend(
    cfg: &CliConfig,
    record: &ExceptionRecord,
    entry_id: &str,
    payload: &[u8],
) -> Result<ReplayTarget, CliError> {
    let headers = OwnedHeaders::new().insert(Header {
        key: REPLAY_HEADER,
        value: Some(entry_id.as_bytes()),
    });
    send(
        &producer(cfg)?,
        &record.source_topic,
        record.source_key.as_deref().map(str::as_bytes),
        payload,
        Some(headers),
    )
    .await
}
