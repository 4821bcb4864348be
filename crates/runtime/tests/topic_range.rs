#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! The range reader on the real broker: every record of a topic with several partitions (one of
//! them empty) is read exactly once and the read ends, from the beginning and from an offset.
//!
//! The stall rule (rule 6: a last offset that never arrives) is tested without a broker in
//! `src/topic_range/ends.rs`: the development broker can produce none of its causes on demand (it
//! does not support transactions, so writes no commit markers, and does not compact; a topic
//! deleted and created again under a reader that already fetched gave the old records).

use std::collections::BTreeMap;
use std::time::Duration;

use leadflow_runtime::topic_range::{RangeSpec, TopicRange, read_to_end};
use leadflow_testkit::{bootstrap, create_topic, unique_name};
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;

fn reader_config() -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap())
        .set("group.id", unique_name("range-test"));
    c
}

/// Produces `count` records to `partition`; returns their offsets.
async fn produce(producer: &FutureProducer, topic: &str, partition: i32, count: usize) -> Vec<i64> {
    let mut offsets = Vec::new();
    for i in 0..count {
        let payload = format!("p{partition}-{i}");
        let record = FutureRecord::<str, str>::to(topic)
            .partition(partition)
            .key("k")
            .payload(&payload);
        let delivery = producer
            .send(record, Timeout::After(Duration::from_secs(30)))
            .await
            .unwrap_or_else(|(e, _)| panic!("producing to {topic} failed: {e}"));
        assert_eq!(delivery.partition, partition);
        offsets.push(delivery.offset);
    }
    offsets
}

#[tokio::test]
async fn every_record_of_every_partition_is_read_once_and_the_read_ends() {
    let topic = unique_name("range");
    create_topic(&bootstrap(), &topic, 4).await;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("acks", "all")
        .create()
        .expect("producer");
    let mut expected: BTreeMap<(i32, i64), usize> = BTreeMap::new();
    // partition 2 stays empty
    for (partition, count) in [(0, 25), (1, 1), (3, 40)] {
        for o in produce(&producer, &topic, partition, count).await {
            expected.insert((partition, o), 1);
        }
    }

    let records = read_to_end(&reader_config(), RangeSpec::whole(topic.clone()))
        .await
        .expect("the read ends");
    let mut seen: BTreeMap<(i32, i64), usize> = BTreeMap::new();
    for r in &records {
        *seen.entry((r.partition, r.offset)).or_default() += 1;
        assert_eq!(
            r.payload.as_deref(),
            Some(format!("p{}-{}", r.partition, r.offset).as_bytes()),
            "record {}/{}",
            r.partition,
            r.offset
        );
    }
    assert_eq!(seen, expected, "each record once");

    // the blocking reader, from an offset per partition, reads the rest once
    let mut spec = RangeSpec::whole(topic.clone());
    spec.start = leadflow_runtime::topic_range::RangeStart::Offsets([(3, 30)].into());
    let config = reader_config();
    let mut reader = tokio::task::spawn_blocking(move || TopicRange::open(&config, spec))
        .await
        .expect("task")
        .expect("opens");
    assert_eq!(
        reader
            .ranges()
            .iter()
            .map(|r| (r.partition, r.start, r.end))
            .collect::<Vec<_>>(),
        vec![(0, 0, 25), (1, 0, 1), (2, 0, 0), (3, 30, 40)]
    );
    let read = tokio::task::spawn_blocking(move || {
        let mut read = Vec::new();
        reader
            .for_each(|m| {
                use rdkafka::Message;
                read.push((m.partition(), m.offset()));
            })
            .map(|()| read)
    })
    .await
    .expect("task")
    .expect("the read ends");
    assert_eq!(read.len(), 25 + 1 + 10, "{read:?}");
}
