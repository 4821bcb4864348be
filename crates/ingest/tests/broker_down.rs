//! A private broker stopped under the service: 503, nothing acknowledged; back up: 202 again.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use leadflow_testkit::PrivateBroker;

#[tokio::test(flavor = "multi_thread")]
async fn broker_down_answers_503_and_acknowledges_nothing() {
    let mut broker = PrivateBroker::start();
    let h = Harness::start(&broker.bootstrap(), |cfg| {
        cfg.stage.ack_timeout_ms = 3_000;
        cfg.stage.broker_probe_interval_ms = 200;
    })
    .await;
    let (s, b, _) = h
        .post(
            "/v1/leads",
            Some(FORMS_KEY),
            &[],
            &lead("before").to_string(),
        )
        .await;
    assert_eq!(s, 202, "{b}");

    broker.stop();
    let mut statuses = Vec::new();
    for i in 0..4 {
        let (s, b, headers) = h
            .post(
                "/v1/leads",
                Some(FORMS_KEY),
                &[],
                &lead(&format!("down-{i}")).to_string(),
            )
            .await;
        assert_ne!(s, 202, "no 202 while the broker is down: {b}");
        assert_eq!(s, 503, "{b}");
        assert!(headers.get("retry-after").is_some());
        statuses.push(s);
    }
    let ready = h
        .http
        .get(format!("{}/readyz", h.ops_url))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(ready, 503, "not ready while the broker is unreachable");

    broker.ensure_started();
    // back: accepted again once the probe reaches it
    let mut accepted = false;
    for _ in 0..100 {
        let (s, _, _) = h
            .post(
                "/v1/leads",
                Some(FORMS_KEY),
                &[],
                &lead("after").to_string(),
            )
            .await;
        if s == 202 {
            accepted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(accepted, "accepted again after the broker came back");
    let mut ids: Vec<String> = h
        .events(10, Duration::from_secs(5))
        .await
        .into_iter()
        .map(|e| e.event_id)
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        ["after", "before"],
        "nothing answered 503 is on the topic"
    );
    h.stop().await;
}
