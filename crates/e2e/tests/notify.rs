#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! raw leads → enrich → score → tier → route → notify → the sandbox, as five real processes on the
//! local broker with the sample roster: every packet reaches Slack and the CRM (or, for a visitor the
//! CRM cannot key, an exception owned by the team), every hot lead's Slack post and CRM task arrive,
//! and the receipts match what the sandbox received: one post and one task per packet.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use leadflow_e2e::{Service, StageEnv, TestTopics, publish_generated_leads, publish_sample_roster};
use leadflow_events::{
    Codec, DeliveryChannel, DeliveryReceipt, DeliveryStatus, ExceptionRecord, HandoffPacket,
    LeadLevel, Timestamp,
};
use leadflow_generate::DEFAULT_START;
use leadflow_sandbox::{Sandbox, SandboxConfig, Service as Stub};
use leadflow_testkit::{bootstrap, consume_all};

const LEADS: usize = 120;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_leads_land_in_slack_and_the_crm_with_matching_receipts() {
    let bs = bootstrap();
    let names = TestTopics::create(
        &bs,
        "e2e-notify",
        &[
            "raw",
            "enriched",
            "dedup_keys",
            "scored",
            "tiered",
            "packets",
            "deliveries",
            "activity",
            "reps",
            "model_params",
            "exceptions",
        ],
        3,
    )
    .await;
    let codec = Codec::single_object().unwrap();
    let start = Timestamp::parse_rfc3339(DEFAULT_START).unwrap();
    publish_sample_roster(&bs, &names["reps"], &codec, start).await;
    publish_generated_leads(&bs, &names["raw"], &codec, 29, start, LEADS).await;

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
        let mut env = StageEnv::new(&bs, b, &names);
        if b == "leadflow-notify" {
            env = env.notify_on(&sandbox);
        }
        Service::start(b, env.vars(), logs.path())
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
        .filter(|r| {
            r.service == Stub::Slack && r.status == 200 && r.path == "/api/chat.postMessage"
        })
        .count();
    // (an account's card update adds a history read and a chat.update, never a post)
    assert_eq!(slack_calls, packets.len(), "no duplicate post");

    for s in services {
        let name = s.name.clone();
        let status = s.terminate(Duration::from_secs(30));
        assert!(status.success(), "{name} exited with {status}");
    }
}
