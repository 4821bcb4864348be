//! R1 (per-publisher rate limits), C1 (connection cap), C2 (read timeouts) against the test broker
//! (`LEADFLOW_TEST_BOOTSTRAP`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{Read as _, Write as _};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use leadflow_runtime::Clock as _;
use leadflow_testkit::{ManualClock, bootstrap, create_topic, unique_name};
use serde_json::json;

async fn harness(
    clock: Arc<ManualClock>,
    tweak: impl FnOnce(&mut leadflow_runtime::ServiceConfig<leadflow_ingest::config::IngestSettings>),
) -> Harness {
    let topic = unique_name("ingest-limits");
    create_topic(&bootstrap(), &topic, 1).await;
    Harness::start_clocked(&bootstrap(), &topic, clock, tweak).await
}

fn system_now() -> Arc<ManualClock> {
    Arc::new(ManualClock::at(leadflow_runtime::SystemClock.now()))
}

#[tokio::test]
async fn each_publisher_has_its_own_token_bucket() {
    let clock = system_now();
    let h = harness(clock.clone(), |c| {
        c.stage.max_batch = 5;
        c.stage.rate_burst = 5;
        c.stage.rate_limit_per_sec = 1;
    })
    .await;
    let batch = json!({"leads": (0..5).map(|i| lead(&format!("b{i}"))).collect::<Vec<_>>()});
    let (status, body, _) = h
        .post("/v1/leads:batch", Some(FORMS_KEY), &[], &batch.to_string())
        .await;
    assert_eq!(status, 202, "{body}");
    // the bucket is empty and the clock stands still
    let (status, body, headers) = h
        .post(
            "/v1/leads",
            Some(FORMS_KEY),
            &[],
            &lead("one-more").to_string(),
        )
        .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"], "rate_limited");
    assert_eq!(headers.get("retry-after").unwrap(), "1");
    // another publisher is not starved
    let (status, body, _) = h
        .post(
            "/v1/leads",
            Some(CHAT_KEY),
            &[],
            &lead("chat-1").to_string(),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    // a second later forms has one token again
    clock.advance(Duration::from_secs(1));
    let (status, body, _) = h
        .post(
            "/v1/leads",
            Some(FORMS_KEY),
            &[],
            &lead("one-more").to_string(),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    h.stop().await;
}

/// Reads until the server closes the connection (an error if it is still open after 30 s).
fn read_to_end(mut s: std::net::TcpStream) -> String {
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out)
        .expect("the server closes the connection");
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_header_timeout() {
    let h = harness(system_now(), |c| c.stage.header_read_timeout_ms = 200).await;
    let addr = h.running.addr;
    let idle = tokio::task::spawn_blocking(move || {
        let s = std::net::TcpStream::connect(addr).unwrap();
        // nothing sent: the server closes it (EOF) instead of holding it forever
        read_to_end(s)
    });
    let answer = idle.await.unwrap();
    assert!(!answer.contains("HTTP/1.1 2"), "{answer}");
    h.stop().await;
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_a_408() {
    let h = harness(system_now(), |c| c.stage.body_read_timeout_ms = 200).await;
    let addr = h.running.addr;
    let answer = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "POST /v1/leads HTTP/1.1\r\nhost: ingest\r\nauthorization: Bearer {FORMS_KEY}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\nconnection: close\r\n\r\n{{\"event_id\""
        )
        .unwrap();
        read_to_end(s)
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    h.stop().await;
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_one() {
    let h = harness(system_now(), |c| c.stage.max_connections = 2).await;
    let addr = h.running.addr;
    let held: Vec<_> = (0..2)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    let gauge = "leadflow_ingest_open_connections 2";
    let deadline = Instant::now() + Duration::from_secs(30);
    while !h.metrics().await.contains(gauge) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(h.metrics().await.contains(gauge), "two connections held");
    let url = h.url.clone();
    let third = tokio::spawn(async move {
        reqwest::Client::new()
            .post(format!("{url}/v1/leads"))
            .header("authorization", format!("Bearer {FORMS_KEY}"))
            .header("content-type", "application/json")
            .body(lead("third").to_string())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    // the third one is queued, not served, while both slots are taken
    assert!(h.metrics().await.contains(gauge));
    assert!(!third.is_finished());
    drop(held);
    assert_eq!(third.await.unwrap(), 202, "served once a slot is free");
    h.stop().await;
}
