#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! The range reader on the real broker: every record of a topic with several partitions (one of
//! them empty) is read exactly once and the read ends, from the beginning and from an offset; a
//! following read that a broker restart interrupts reads everything and catches up.
//!
//! The stall rule (rule 7: a last offset that never arrives) is tested without a broker in
//! `src/topic_range/ends.rs`: the development broker can produce none of its causes on demand (it
//! does not support transactions, so writes no commit markers, and does not compact; a topic
//! deleted and created again under a reader that already fetched gave the old records).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use leadflow_runtime::topic_range::{RangeItem, RangeSpec, TopicRange, read_to_end};
use leadflow_testkit::{PrivateBroker, bootstrap, create_topic, produce_raw_burst, unique_name};
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

/// A following read (a side input's replay) that a broker restart interrupts reads every record and
/// reports caught up. On the development broker's SQLite engine this held with the record rule alone
/// too (a restart after 3,000 of 30,000 records); it guards the restart path of the reader, not the
/// stall rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_following_read_interrupted_by_a_broker_restart_reads_everything_and_catches_up() {
    const RECORDS: usize = 30_000;
    let mut broker = PrivateBroker::start();
    let bs = broker.bootstrap();
    let topic = unique_name("range-restart");
    create_topic(&bs, &topic, 3).await;
    produce_raw_burst(
        &bs,
        &topic,
        (0..RECORDS).map(|i| (Some(format!("k{i}").into_bytes()), vec![7u8; 200])),
    )
    .await;
    let mut spec = RangeSpec::whole(topic.clone());
    spec.follow = true;
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &bs)
        .set("group.id", unique_name("range-test"));
    let mut stream = TopicRange::open_async(&config, spec)
        .await
        .expect("opens")
        .spawn();
    let mut seen = BTreeSet::new();
    while seen.len() < RECORDS / 10 {
        match stream.next().await.expect("the read goes on") {
            Ok(RangeItem::Record(r)) => {
                seen.insert((r.partition, r.offset));
            }
            Ok(RangeItem::CaughtUp) => panic!("caught up after {} records", seen.len()),
            Ok(_) => {}
            Err(e) => panic!("{e}"),
        }
    }
    let mut broker = tokio::task::spawn_blocking(move || {
        broker.restart();
        broker
    })
    .await
    .expect("restart task");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => panic!(
                "not caught up 120 s after the restart; {} records read",
                seen.len()
            ),
            Ok(None) => panic!("the read stopped"),
            Ok(Some(Ok(RangeItem::Record(r)))) => {
                seen.insert((r.partition, r.offset));
            }
            Ok(Some(Ok(RangeItem::CaughtUp))) => break,
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => panic!("{e}"),
        }
    }
    assert_eq!(seen.len(), RECORDS, "every record read");
    broker.stop();
}
