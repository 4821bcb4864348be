//! S5: request-scoped resources (the queue budget, idempotency claims) are released on every path,
//! including a request whose future is dropped mid-flight (the client went away), against the test
//! broker (`LEADFLOW_TEST_BOOTSTRAP`). 300 requests of 10 leads against a budget of 1 000 records:
//! without the guards the budget is gone after 100 of them and every later request gets 429.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use leadflow_testkit::bootstrap;
use serde_json::json;
use tokio::io::AsyncWriteExt as _;

const BUDGET: u32 = 1_000;
const LEADS: usize = 10;
const REQUESTS: usize = 300;

/// Posts until the answer is not a 503: the burst of records the abandoned requests left with the
/// producer may keep a slow test broker from answering the reachability probe for a while (S3);
/// what is checked is that nothing of ingest's own stays taken.
async fn post_until_not_503(h: &Harness, path: &str, body: &str) -> (u16, serde_json::Value) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (status, json, _) = h.post(path, Some(FORMS_KEY), &[], body).await;
        if status != 503 || Instant::now() > deadline {
            return (status, json);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

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
    assert_eq!(ingest.sink.queued(), 0, "every reservation went back");
    assert!(
        in_flight * LEADS > BUDGET as usize,
        "only {in_flight} of {REQUESTS} requests were still waiting for the broker when dropped"
    );
    // the abandoned requests' event ids are not stuck "in flight": posting one again is accepted
    // (written again, or replayed once the follower read the first copy back)
    let (status, body) = post_until_not_503(&h, "/v1/leads:batch", &batch("gone0")).await;
    assert_eq!(status, 202, "{body}");
    let (status, body) = post_until_not_503(&h, "/v1/leads", &lead("after").to_string()).await;
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
    let (status, body) = post_until_not_503(&h, "/v1/leads", &lead("after-tcp").to_string()).await;
    assert_eq!(status, 202, "{body}");
    h.stop().await;
}
