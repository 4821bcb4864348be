//! The locator's consumer against the test broker (`LEADFLOW_TEST_BOOTSTRAP`): records already on
//! two topics are booked at their partitions and offsets, the locator turns ready once it read
//! them, and a record written afterwards is booked too.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use leadflow_locator::api::Shared;
use leadflow_locator::book::{Book, BookLimits};
use leadflow_testkit::{bootstrap, create_topic, produce_raw, produce_raw_all, unique_name};

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_locator_books_every_record_and_turns_ready_once_caught_up() {
    let bs = bootstrap();
    let raw = unique_name("locator-raw");
    let scored = unique_name("locator-scored");
    create_topic(&bs, &raw, 3).await;
    create_topic(&bs, &scored, 3).await;
    let on_raw = produce_raw_all(
        &bs,
        &raw,
        [
            (Some(b"lead-1".to_vec()), b"a".to_vec()),
            (Some(b"lead-2".to_vec()), b"b".to_vec()),
            (Some(b"lead-1".to_vec()), b"c".to_vec()),
        ],
    )
    .await;
    let on_scored = produce_raw(&bs, &scored, Some(b"lead-1"), b"d").await;
    let shared = Shared::new(
        Book::new(vec![raw.clone(), scored.clone()], BookLimits::default()),
        leadflow_runtime::StageRegistry::new("locator"),
    )
    .expect("metrics");
    let stop = tokio_util::sync::CancellationToken::new();
    let mut config = rdkafka::ClientConfig::new();
    config.set("bootstrap.servers", &bs);
    let (s, st) = (shared.clone(), stop.clone());
    let follower = std::thread::spawn(move || leadflow_locator::follow::follow(config, &s, &st));
    wait_for("catch-up", || shared.caught_up.load(Ordering::SeqCst)).await;
    let located = shared.locate("lead-1");
    let spots: Vec<_> = located
        .spots
        .iter()
        .map(|s| (s.topic.clone(), s.partition, s.offset))
        .collect();
    assert_eq!(spots.len(), 3, "{spots:?}");
    for (p, o) in [on_raw[0], on_raw[2]] {
        assert!(spots.contains(&(raw.clone(), p, o)), "{spots:?}");
    }
    assert!(spots.contains(&(scored.clone(), on_scored.0, on_scored.1)));
    assert_eq!(shared.locate("lead-2").spots.len(), 1);
    assert!(shared.locate("lead-3").spots.is_empty());
    // a record written after the catch-up is booked as it comes
    let later = produce_raw(&bs, &scored, Some(b"lead-3"), b"e").await;
    wait_for("the later record", || {
        !shared.locate("lead-3").spots.is_empty()
    })
    .await;
    let spot = &shared.locate("lead-3").spots[0];
    assert_eq!((spot.partition, spot.offset), later);
    stop.cancel();
    follower.join().unwrap().unwrap();
    assert!(!shared.live.load(Ordering::SeqCst));
}
