//! S5: request-scoped resources (the queue budget, idempotency claims) are released on every path,
//! including a request whose future is dropped mid-flight (the client went away), against the test
//! broker (`LEADFLOW_TEST_BOOTSTRAP`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use leadflow_testkit::bootstrap;
use serde_json::json;
use tokio::io::AsyncWriteExt as _;

const BUDGET: u32 = 5_000;
const LEADS: usize = 40;
const REQUESTS: usize = 300;

fn batch(prefix: &str) -> String {
    let leads: Vec<_> = (0..LEADS).map(|i| lead(&format!("{prefix}-{i}"))).collect();
    json!({ "leads": leads }).to_string()
}

#[tokio::test]
async fn hundreds_of_abandoned_requests_leak_neither_budget_nor_claims() {
    let h = Harness::start(&bootstrap(), |c| {
        c.stage.max_queued_records = BUDGET;
        c.stage.ack_timeout_ms = 60_000;
        c.stage.rate_limit_per_sec = 1_000_000;
        c.stage.rate_burst = 1_000_000;
    })
    .await;
    let ingest = h.running.ingest.clone();
    let mut in_flight = 0;
    for r in 0..REQUESTS {
        let body = batch(&format!("gone{r}"));
        let mut request = std::pin::pin!(ingest.post_batch("forms", None, body.as_bytes()));
        // one poll: validated, claimed, reserved, handed to the producer, waiting for the broker;
        // then the caller goes away (the future is dropped, as hyper does when a client disconnects)
        if futures::poll!(request.as_mut()).is_pending() {
            in_flight += 1;
        }
    }
    assert!(
        in_flight * LEADS > BUDGET as usize,
        "only {in_flight} of {REQUESTS} requests were still waiting for the broker when dropped"
    );
    assert_eq!(ingest.sink.queued(), 0, "every reservation went back");
    // the abandoned requests' event ids are not stuck "in flight": posting one again is accepted
    // (written again, or replayed once the follower read the first copy back)
    let (status, body, _) = h
        .post("/v1/leads:batch", Some(FORMS_KEY), &[], &batch("gone0"))
        .await;
    assert_eq!(status, 202, "{body}");
    let (status, body, _) = h
        .post(
            "/v1/leads",
            Some(FORMS_KEY),
            &[],
            &lead("after").to_string(),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    h.stop().await;
}

#[tokio::test]
async fn a_client_that_disconnects_mid_request_gives_back_its_budget() {
    let h = Harness::start(&bootstrap(), |c| {
        c.stage.max_queued_records = BUDGET;
        c.stage.ack_timeout_ms = 60_000;
        c.stage.rate_limit_per_sec = 1_000_000;
        c.stage.rate_burst = 1_000_000;
    })
    .await;
    let addr = h.running.addr;
    for r in 0..REQUESTS {
        let body = batch(&format!("tcp{r}"));
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "POST /v1/leads:batch HTTP/1.1\r\nhost: ingest\r\nauthorization: Bearer {FORMS_KEY}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(request.as_bytes()).await.unwrap();
        // gone before the answer
        drop(s);
    }
    // the server sees each disconnect when it reads the closed socket: poll for the budget to be back
    let deadline = Instant::now() + Duration::from_secs(60);
    while h.running.ingest.sink.queued() != 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(h.running.ingest.sink.queued(), 0);
    let (status, body, _) = h
        .post(
            "/v1/leads",
            Some(FORMS_KEY),
            &[],
            &lead("after-tcp").to_string(),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    h.stop().await;
}
