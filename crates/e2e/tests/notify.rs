#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! raw leads → enrich → score → tier → route → notify → the sandbox, as five real processes on the
//! local broker with the sample roster: every packet reaches Slack and the CRM (or, for a visitor the
//! CRM cannot key, an exception owned by the team), every hot lead's Slack post and CRM task arrive,
//! and the receipts match what the sandbox received: one post and one task per packet.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use leadflow_cli::generate::{DEFAULT_START, LeadGenerator};
use leadflow_e2e::Service;
use leadflow_events::{
    Codec, DeliveryChannel, DeliveryReceipt, DeliveryStatus, Event, ExceptionRecord, HandoffPacket,
    LeadLevel, Timestamp,
};
use leadflow_sandbox::{Sandbox, SandboxConfig, Service as Stub};
use leadflow_testkit::{bootstrap, consume_all, create_topic, produce_raw_all, unique_name};

const LEADS: usize = 120;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_leads_land_in_slack_and_the_crm_with_matching_receipts() {
    let bs = bootstrap();
    let names: BTreeMap<&str, String> = [
        "raw",
        "enriched",
        "scored",
        "tiered",
        "packets",
        "deliveries",
        "activity",
        "reps",
        "model_params",
        "exceptions",
    ]
    .into_iter()
    .map(|role| (role, unique_name(&format!("e2e-notify-{role}"))))
    .collect();
    for (role, topic) in &names {
        let partitions = if matches!(*role, "reps" | "model_params") {
            1
        } else {
            3
        };
        create_topic(&bs, topic, partitions).await;
    }
    let codec = Codec::single_object().unwrap();
    let start = Timestamp::parse_rfc3339(DEFAULT_START).unwrap();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/roster.csv"
    ))
    .unwrap();
    let roster = leadflow_cli::reps::roster_file::parse("roster.csv", &text, start).unwrap();
    let mut records = Vec::new();
    for r in &roster {
        records.push((
            Some(r.rep_id.as_bytes().to_vec()),
            codec.encode(&names["reps"], r).await.unwrap(),
        ));
    }
    produce_raw_all(&bs, &names["reps"], records).await;
    let mut generator = LeadGenerator::new(29, start);
    let mut records = Vec::new();
    for _ in 0..LEADS {
        let lead = generator.next_lead().event;
        records.push((
            Some(lead.key().as_bytes().to_vec()),
            codec.encode(&names["raw"], &lead).await.unwrap(),
        ));
    }
    produce_raw_all(&bs, &names["raw"], records).await;

    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let logs = tempfile::tempdir().unwrap();
    let services: Vec<Service> = [
        "leadflow-enrich",
        "leadflow-score",
        "leadflow-tier",
        "leadflow-route",
        "leadflow-notify",
    ]
    .into_iter()
    .map(|b| {
        let mut env = BTreeMap::from([
            ("LEADFLOW_BOOTSTRAP_SERVERS".to_owned(), bs.clone()),
            (
                "LEADFLOW_GROUP_ID".to_owned(),
                unique_name(&format!("e2e-{b}")),
            ),
            ("LEADFLOW_HTTP__LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
            ("LEADFLOW_SHUTDOWN_GRACE_MS".to_owned(), "15000".to_owned()),
        ]);
        for (role, topic) in &names {
            env.insert(
                format!("LEADFLOW_TOPICS__{}", role.to_ascii_uppercase()),
                topic.clone(),
            );
        }
        if b == "leadflow-enrich" {
            // The bundled demo dataset, explicitly (production names its own file).
            env.insert(
                "LEADFLOW_STAGE__PROVIDER__KIND".to_owned(),
                "demo".to_owned(),
            );
        }
        if b == "leadflow-notify" {
            for (k, v) in [
                ("SLACK__API_URL", sandbox.slack_api_url()),
                ("SLACK__BOT_TOKEN", "xoxb-sandbox-token".to_owned()),
                ("HUBSPOT__API_URL", sandbox.hubspot_api_url()),
                ("HUBSPOT__TOKEN", "pat-sandbox-token".to_owned()),
                ("EMAIL__SMTP_HOST", "127.0.0.1".to_owned()),
                ("EMAIL__SMTP_PORT", sandbox.smtp_addr.port().to_string()),
                ("EMAIL__TLS", "none".to_owned()),
            ] {
                env.insert(format!("LEADFLOW_STAGE__{k}"), v);
            }
        }
        Service::start(b, &env, logs.path())
    })
    .collect();

    // Wait until every packet has a final receipt on both primaries.
    let deadline = Instant::now() + Duration::from_secs(180);
    let (packets, receipts, exceptions) = loop {
        let mut packets = Vec::new();
        for r in consume_all(&bs, &names["packets"], LEADS * 2, Duration::from_secs(3)).await {
            packets.push(codec.decode::<HandoffPacket>(&r.payload).await.unwrap());
        }
        let mut receipts = Vec::new();
        for r in consume_all(
            &bs,
            &names["deliveries"],
            LEADS * 20,
            Duration::from_secs(3),
        )
        .await
        {
            receipts.push(codec.decode::<DeliveryReceipt>(&r.payload).await.unwrap());
        }
        let mut exceptions = Vec::new();
        for r in consume_all(&bs, &names["exceptions"], LEADS * 2, Duration::from_secs(2)).await {
            let e: ExceptionRecord = codec.decode(&r.payload).await.unwrap();
            if e.stage == "notify" {
                exceptions.push(e);
            }
        }
        let finished = |c: DeliveryChannel| -> BTreeSet<String> {
            receipts
                .iter()
                .filter(|r| {
                    r.channel == c
                        && matches!(r.status, DeliveryStatus::Delivered | DeliveryStatus::Failed)
                })
                .map(|r| r.packet_id.clone())
                .collect()
        };
        let all: BTreeSet<String> = packets.iter().map(|p| p.packet_id.clone()).collect();
        let done = !all.is_empty()
            && finished(DeliveryChannel::Slack) == all
            && finished(DeliveryChannel::Crm) == all;
        if done || Instant::now() > deadline {
            break (packets, receipts, exceptions);
        }
    };
    let log_text: String = services
        .iter()
        .map(|s| format!("--- {}\n{}", s.name, s.log()))
        .collect();
    assert!(
        packets.len() >= 10,
        "the stream hands off: {}",
        packets.len()
    );

    let delivered = |id: &str, c: DeliveryChannel| {
        receipts
            .iter()
            .filter(|r| {
                r.packet_id == id && r.channel == c && r.status == DeliveryStatus::Delivered
            })
            .count()
    };
    let mut hot = 0;
    for p in &packets {
        assert_eq!(
            delivered(&p.packet_id, DeliveryChannel::Slack),
            1,
            "{} has one Slack DELIVERED receipt; logs:\n{log_text}",
            p.packet_id
        );
        match delivered(&p.packet_id, DeliveryChannel::Crm) {
            1 => {}
            0 => assert!(
                exceptions
                    .iter()
                    .any(|e| e.lead_id.as_deref() == Some(p.lead_id())),
                "{}: the CRM did not deliver and there is no exception",
                p.packet_id
            ),
            n => panic!("{}: {n} CRM DELIVERED receipts", p.packet_id),
        }
        if p.lead_level() == LeadLevel::Hot {
            hot += 1;
            let email = p.visitor.email.clone().unwrap_or_default();
            let posted = sandbox.state.slack_messages().iter().any(|m| {
                m.metadata["event_payload"]["idempotency_key"] == p.idempotency_key.as_str()
            });
            assert!(posted, "hot lead {} has its Slack post", p.lead_id());
            if delivered(&p.packet_id, DeliveryChannel::Crm) == 1 {
                let contact = sandbox
                    .state
                    .crm_objects("contacts")
                    .into_iter()
                    .find(|c| {
                        c.properties.get("email").and_then(|v| v.as_str()) == Some(email.as_str())
                    })
                    .expect("the hot lead's contact");
                assert!(
                    contact
                        .associations
                        .get("tasks")
                        .is_some_and(|t| !t.is_empty()),
                    "hot lead {} has its CRM task",
                    p.lead_id()
                );
            }
        }
    }
    assert!(hot > 0, "the stream has hot leads");
    // What the sandbox received matches the receipts: one post and one task per packet.
    let crm_delivered = packets
        .iter()
        .filter(|p| delivered(&p.packet_id, DeliveryChannel::Crm) == 1)
        .count();
    assert_eq!(sandbox.state.slack_messages().len(), packets.len());
    assert_eq!(sandbox.state.crm_objects("tasks").len(), crm_delivered);
    let slack_calls = sandbox
        .state
        .requests()
        .iter()
        .filter(|r| r.service == Stub::Slack && r.status == 200)
        .count();
    assert_eq!(slack_calls, packets.len(), "no duplicate post");

    for s in services {
        let name = s.name.clone();
        let status = s.terminate(Duration::from_secs(30));
        assert!(status.success(), "{name} exited with {status}");
    }
}
