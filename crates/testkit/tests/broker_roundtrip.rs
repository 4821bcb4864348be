//! produce_raw → consume_all against the shared test broker, and a private broker surviving a restart.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use leadflow_testkit::{
    PrivateBroker, bootstrap, consume_all, create_topic, produce_raw, produce_raw_all, unique_name,
};

#[tokio::test]
async fn produced_records_are_read_back_from_every_partition() {
    let bootstrap = bootstrap();
    let topic = unique_name("testkit-roundtrip");
    create_topic(&bootstrap, &topic, 3).await;

    let keyed: Vec<(Option<Vec<u8>>, Vec<u8>)> = (0..12)
        .map(|i| {
            (
                Some(format!("key-{i}").into_bytes()),
                format!("payload-{i}").into_bytes(),
            )
        })
        .collect();
    let acks = produce_raw_all(&bootstrap, &topic, keyed).await;
    assert_eq!(acks.len(), 12);
    let (_, unkeyed_offset) = produce_raw(&bootstrap, &topic, None, b"no key").await;
    assert!(unkeyed_offset >= 0);

    let records = consume_all(&bootstrap, &topic, 13, Duration::from_secs(30)).await;
    assert_eq!(records.len(), 13, "records read: {records:?}");
    let mut payloads: Vec<String> = records
        .iter()
        .map(|r| String::from_utf8(r.payload.clone()).unwrap())
        .collect();
    payloads.sort();
    let mut want: Vec<String> = (0..12).map(|i| format!("payload-{i}")).collect();
    want.push("no key".into());
    want.sort();
    assert_eq!(payloads, want);
    for r in &records {
        if r.payload == b"no key" {
            assert_eq!(r.key, None);
        } else {
            let i = String::from_utf8(r.payload.clone())
                .unwrap()
                .replace("payload-", "");
            assert_eq!(r.key.as_deref(), Some(format!("key-{i}").as_bytes()));
        }
    }
    // every acknowledged (partition, offset) is what the reader saw
    let mut seen: Vec<(i32, i64)> = records.iter().map(|r| (r.partition, r.offset)).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 13, "duplicate positions in {records:?}");

    // nothing beyond what was produced
    let extra = consume_all(&bootstrap, &topic, 14, Duration::from_secs(2)).await;
    assert_eq!(extra.len(), 13);
}

#[tokio::test]
async fn consume_all_of_a_missing_topic_is_empty() {
    let bootstrap = bootstrap();
    let topic = unique_name("testkit-missing");
    let records = consume_all(&bootstrap, &topic, 1, Duration::from_secs(1)).await;
    assert!(records.is_empty());
}

#[tokio::test]
async fn a_private_broker_keeps_its_records_across_a_restart() {
    let mut broker = PrivateBroker::start();
    let bootstrap = broker.bootstrap();
    let topic = unique_name("testkit-restart");
    create_topic(&bootstrap, &topic, 1).await;
    produce_raw(&bootstrap, &topic, Some(b"k"), b"before restart").await;

    broker.restart();
    assert_eq!(broker.bootstrap(), bootstrap);
    produce_raw(&bootstrap, &topic, Some(b"k"), b"after restart").await;

    let records = consume_all(&bootstrap, &topic, 2, Duration::from_secs(30)).await;
    let payloads: Vec<&[u8]> = records.iter().map(|r| r.payload.as_slice()).collect();
    assert_eq!(
        payloads,
        vec![b"before restart".as_slice(), b"after restart".as_slice()]
    );
    broker.stop();
    assert!(!broker.is_running());
}
