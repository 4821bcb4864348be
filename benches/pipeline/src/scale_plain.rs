//! The references a backtest and a replay are compared with, each run as a process of its own: a
//! plain rdkafka consumer reading whole topics from their low to their high watermarks (librdkafka's
//! default client settings), and the same read with every record produced, unchanged, to another
//! topic with the CLI's producer settings (a plain pass-through).

use std::time::Duration;

use anyhow::Context as _;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use crate::counted_producer::CountedProducer;

const TIMEOUT: Duration = Duration::from_secs(10);

/// Reads every record of `topics` (comma-separated); prints `records=N bytes=B`. `settings` are
/// consumer settings `KEY=VALUE` on top of librdkafka's defaults.
pub fn read(bs: &str, topics: &str, settings: &[String]) -> anyhow::Result<()> {
    let (records, bytes) = read_all(bs, topics, settings, |_, _| Ok(()))?;
    println!("records={records} bytes={bytes}");
    Ok(())
}

/// Reads every record of `from` and produces it to `to` (same key and payload) with the CLI's
/// producer settings (idempotent, acks=all, linger.ms=5); prints `records=N bytes=B`.
pub fn copy(bs: &str, from: &str, to: &str, settings: &[String]) -> anyhow::Result<()> {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bs)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("message.timeout.ms", "30000")
        .set("compression.type", "none");
    let producer = CountedProducer::new(&config)?;
    let (records, bytes) = read_all(bs, from, settings, |key, payload| {
        producer.send(to, key, payload)
    })?;
    let delivered = producer.finish()?;
    anyhow::ensure!(
        delivered == records,
        "{delivered} of {records} records delivered"
    );
    println!("records={records} bytes={bytes}");
    Ok(())
}

/// Every record of `topics` from the low to the high watermark taken at the start, handed to
/// `f(key, payload)`; returns (records, payload bytes).
fn read_all(
    bs: &str,
    topics: &str,
    settings: &[String],
    mut f: impl FnMut(&[u8], &[u8]) -> anyhow::Result<()>,
) -> anyhow::Result<(u64, u64)> {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bs)
        .set("group.id", format!("plain-read-{}", std::process::id()))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false");
    for s in settings {
        let (k, v) = s
            .split_once('=')
            .with_context(|| format!("{s:?} is not KEY=VALUE"))?;
        config.set(k, v);
    }
    let consumer: BaseConsumer = config.create().context("cannot create the consumer")?;
    let mut assignment = TopicPartitionList::new();
    // (topic, partition, the last offset to read) of the partitions not read to their end yet
    let mut open: Vec<(String, i32, i64)> = Vec::new();
    for topic in topics.split(',') {
        let meta = consumer.fetch_metadata(Some(topic), TIMEOUT)?;
        for t in meta.topics() {
            for p in t.partitions() {
                let (low, high) = consumer.fetch_watermarks(topic, p.id(), TIMEOUT)?;
                if high > low {
                    assignment.add_partition_offset(topic, p.id(), Offset::Offset(low))?;
                    open.push((topic.to_owned(), p.id(), high - 1));
                }
            }
        }
    }
    consumer.assign(&assignment)?;
    let (mut records, mut bytes) = (0u64, 0u64);
    while !open.is_empty() {
        let Some(m) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        // librdkafka reports a dropped connection and then reconnects on its own
        let m = match m {
            Ok(m) => m,
            Err(e) => {
                eprintln!("plain read: {e} (going on)");
                continue;
            }
        };
        let payload = m.payload().unwrap_or_default();
        f(m.key().unwrap_or_default(), payload)?;
        records += 1;
        bytes += payload.len() as u64;
        let (topic, partition, offset) = (m.topic(), m.partition(), m.offset());
        open.retain(|(t, p, end)| !(t == topic && *p == partition && offset >= *end));
    }
    Ok((records, bytes))
}
