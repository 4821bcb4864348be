#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! The send gate picks each output's partition itself (`send_gate.rs`); it must be the partition
//! librdkafka's own partitioner gives the key, or a lead's records would move between partitions
//! (and lose their order) when leadflow and another producer write the same topic. Checked against
//! librdkafka on the real local broker, for its default and for the Java client's murmur2.

use std::time::Duration;

use leadflow_runtime::partitioner::Partitioner;
use leadflow_testkit::{bootstrap, create_topic, unique_name};
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};

const PARTITIONS: i32 = 6;

/// Produces `keys` with librdkafka choosing the partition; returns where each landed.
async fn librdkafka_partitions(setting: Option<&str>, keys: &[String]) -> Vec<i32> {
    let bs = bootstrap();
    let topic = unique_name("partitioner");
    create_topic(&bs, &topic, PARTITIONS).await;
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", &bs);
    if let Some(p) = setting {
        config.set("partitioner", p);
    }
    let producer: FutureProducer = config.create().expect("producer");
    let mut landed = Vec::new();
    for key in keys {
        let delivery = producer
            .send(
                FutureRecord::to(&topic).key(key).payload("x"),
                Duration::from_secs(30),
            )
            .await
            .map_err(|(e, _)| e)
            .expect("delivered");
        landed.push(delivery.partition);
    }
    landed
}

fn keys() -> Vec<String> {
    // lead ids as the generator and upstream forms make them, plus short and odd ones
    let mut keys: Vec<String> = (0..150)
        .map(|i| format!("lead-{i:05}-{}", i * 7919))
        .collect();
    keys.extend(["a", "ab", "abc", "ümlaut-lead", "0"].map(String::from));
    keys
}

#[tokio::test]
async fn the_gate_partitions_keys_as_librdkafkas_default_partitioner() {
    let keys = keys();
    let landed = librdkafka_partitions(None, &keys).await;
    let ours = Partitioner::from_setting(None).expect("the default uses the key");
    for (key, partition) in keys.iter().zip(&landed) {
        assert_eq!(
            ours.partition(key.as_bytes(), PARTITIONS),
            *partition,
            "key {key:?}"
        );
    }
    // the keys spread over every partition (a constant answer would not be checked by the above)
    let used: std::collections::BTreeSet<i32> = landed.iter().copied().collect();
    assert_eq!(used.len(), PARTITIONS as usize);
}

#[tokio::test]
async fn the_gate_partitions_keys_as_librdkafkas_murmur2_partitioner() {
    let keys = keys();
    let landed = librdkafka_partitions(Some("murmur2_random"), &keys).await;
    let ours = Partitioner::from_setting(Some("murmur2_random")).expect("murmur2 uses the key");
    for (key, partition) in keys.iter().zip(&landed) {
        assert_eq!(
            ours.partition(key.as_bytes(), PARTITIONS),
            *partition,
            "key {key:?}"
        );
    }
}
