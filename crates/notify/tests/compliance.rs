#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The stage compliance check (leadflow-testkit) for notify, against the in-process sandbox (Slack,
//! HubSpot and SMTP stand-ins on loopback): poison, retries in order, fatal, and the service binary
//! SIGKILLed, rebalanced and SIGTERMed without losing a delivery receipt.

mod common;

use common::{packet, sandbox, settings};
use leadflow_notify::NotifyStage;
use leadflow_testkit::StageCompliance;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_complies_with_the_stage_contract() {
    let sb = sandbox().await;
    let s = settings(&sb);
    // a packet without an idempotency key cannot be delivered exactly once: poison
    let mut no_key = packet(999);
    no_key.idempotency_key = String::new();
    no_key.packet_id = String::new();
    let binary_env = vec![
        ("LEADFLOW_STAGE__SLACK__API_URL".into(), sb.slack_api_url()),
        (
            "LEADFLOW_STAGE__SLACK__BOT_TOKEN".into(),
            "xoxb-sandbox-token".into(),
        ),
        (
            "LEADFLOW_STAGE__HUBSPOT__API_URL".into(),
            sb.hubspot_api_url(),
        ),
        (
            "LEADFLOW_STAGE__HUBSPOT__TOKEN".into(),
            "pat-sandbox-token".into(),
        ),
        (
            "LEADFLOW_STAGE__EMAIL__SMTP_HOST".into(),
            "127.0.0.1".into(),
        ),
        (
            "LEADFLOW_STAGE__EMAIL__SMTP_PORT".into(),
            sb.smtp_addr.port().to_string(),
        ),
        ("LEADFLOW_STAGE__EMAIL__TLS".into(), "none".into()),
    ];
    StageCompliance {
        build: Box::new(move |registry| NotifyStage::from_settings(&s, registry).unwrap()),
        inputs: (0..30).map(packet).collect(),
        poison: vec![no_key],
        binary: Some(env!("CARGO_BIN_EXE_leadflow-notify").into()),
        binary_env,
    }
    .run()
    .await;
}
