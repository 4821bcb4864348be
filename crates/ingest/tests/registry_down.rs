//! S6: a schema registry outage is a 503 with `Retry-After` (never a 400 a publisher would drop the
//! lead on) and the answer does not name the registry (against the test broker).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use leadflow_events::RegistryConfig;
use leadflow_testkit::bootstrap;

#[tokio::test]
async fn a_registry_outage_is_a_503_that_names_nothing_internal() {
    // a port nothing listens on: bound, then closed
    let port = leadflow_testkit::free_port();
    let url = format!("http://127.0.0.1:{port}");
    let h = Harness::start(&bootstrap(), |c| {
        c.registry = Some(RegistryConfig {
            url: url.clone(),
            username: None,
            password: None,
            timeout_ms: 500,
        });
    })
    .await;
    let (status, body, headers) = h
        .post("/v1/leads", Some(FORMS_KEY), &[], &lead("r1").to_string())
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "registry_unavailable");
    assert_eq!(headers.get("retry-after").unwrap(), "1");
    let text = body.to_string();
    assert!(
        !text.contains("127.0.0.1") && !text.contains(&port.to_string()),
        "{text}"
    );
    // nothing is held: the same event id is not "in flight" afterwards
    let (status, body, _) = h
        .post("/v1/leads", Some(FORMS_KEY), &[], &lead("r1").to_string())
        .await;
    assert_eq!(status, 503, "{body}");
    h.stop().await;
}
