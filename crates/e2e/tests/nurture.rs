#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! The automated half of the funnel as real processes on the local broker: enrich → score → tier →
//! route and nurture, the sandbox as HubSpot. Every no-handoff NURTURE_24H lead with an email is
//! enrolled (the sandbox's list 101 holds its contact; a CRM receipt and an ENROLLED activity by
//! automation are on their topics), and a reply of one of them, published to leads.raw as the email
//! system would, comes back from tier as a NURTURE_REPLY capture and from route as a packet for a rep.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use leadflow_e2e::{Service, StageEnv, TestTopics, publish_generated_leads, publish_sample_roster};
use leadflow_events::{
    Activity, ActivityKind, Codec, DeliveryChannel, DeliveryReceipt, DeliveryStatus, Event,
    HandoffKind, HandoffPacket, HandoffTrigger, LeadEventType, RepActivity, RepActivityKind,
    TierDecision, Timestamp,
};
use leadflow_sandbox::{Sandbox, SandboxConfig};
use leadflow_testkit::{bootstrap, consume_all, produce_raw_all};

const LEADS: usize = 80;

async fn decode_all<T: Event>(bs: &str, topic: &str, codec: &Codec) -> Vec<T> {
    let mut out = Vec::new();
    for r in consume_all(bs, topic, LEADS * 10, Duration::from_secs(3)).await {
        out.push(codec.decode::<T>(&r.payload).await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nurture_leads_are_enrolled_and_a_reply_reaches_a_rep() {
    let bs = bootstrap();
    let names = TestTopics::create(
        &bs,
        "e2e-nurture",
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
    // leads of now: the enrolment happens now, and a reply must come after it
    let start = Timestamp(chrono::Utc::now().timestamp_millis() - 60_000);
    publish_sample_roster(&bs, &names["reps"], &codec, start).await;
    let leads = publish_generated_leads(&bs, &names["raw"], &codec, 31, start, LEADS).await;

    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let logs = tempfile::tempdir().unwrap();
    let services: Vec<Service> = [
        "leadflow-enrich",
        "leadflow-score",
        "leadflow-tier",
        "leadflow-route",
        "leadflow-nurture",
    ]
    .into_iter()
    .map(|b| {
        let mut env = StageEnv::new(&bs, b, &names);
        if b == "leadflow-nurture" {
            env = env.notify_on(&sandbox);
        }
        Service::start(b, env.vars(), logs.path())
    })
    .collect();
    let logs_text = |services: &[Service]| -> String {
        services
            .iter()
            .map(|s| format!("--- {}\n{}", s.name, s.log()))
            .collect()
    };

    // 1. every NURTURE_24H no-handoff lead with an email is enrolled
    let deadline = Instant::now() + Duration::from_secs(180);
    let (nurtured, enrolled) = loop {
        let decisions: Vec<TierDecision> = decode_all(&bs, &names["tiered"], &codec).await;
        let nurtured: BTreeMap<String, TierDecision> = decisions
            .into_iter()
            .filter(|d| {
                d.handoff == HandoffKind::None
                    && d.tier == "NURTURE_24H"
                    && d.scored.enriched.lead.contact.email.is_some()
            })
            .map(|d| (d.scored.enriched.lead.lead_id.clone(), d))
            .collect();
        let activities: Vec<RepActivity> = decode_all(&bs, &names["activity"], &codec).await;
        let enrolled: BTreeSet<String> = activities
            .iter()
            .filter(|a| a.kind == RepActivityKind::Enrolled && a.rep_id == "automation")
            .map(|a| a.lead_id.clone())
            .collect();
        if (!nurtured.is_empty() && nurtured.keys().all(|l| enrolled.contains(l)))
            || Instant::now() > deadline
        {
            break (nurtured, enrolled);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(
        !nurtured.is_empty(),
        "the stream has NURTURE_24H leads; logs:\n{}",
        logs_text(&services)
    );
    for lead in nurtured.keys() {
        assert!(
            enrolled.contains(lead),
            "{lead} was enrolled; logs:\n{}",
            logs_text(&services)
        );
    }
    // in HubSpot: each lead's contact is a member of the NURTURE_24H list, once
    let members = sandbox.state.list_members("101");
    let contacts = sandbox.state.crm_objects("contacts");
    for d in nurtured.values() {
        let email = d.scored.enriched.lead.contact.email.as_deref().unwrap();
        let contact = contacts
            .iter()
            .find(|c| c.properties.get("email").and_then(|v| v.as_str()) == Some(email))
            .unwrap_or_else(|| panic!("a contact for {email}"));
        assert_eq!(
            members.iter().filter(|m| **m == contact.id).count(),
            1,
            "{email} is in list 101 once"
        );
    }
    // and a CRM receipt per enrolment, on the clocks' id
    let receipts: Vec<DeliveryReceipt> = decode_all(&bs, &names["deliveries"], &codec).await;
    for (lead, d) in &nurtured {
        let id = format!("sequence:{lead}:{}", d.decided_at.0);
        assert!(
            receipts.iter().any(|r| r.packet_id == id
                && r.channel == DeliveryChannel::Crm
                && r.status == DeliveryStatus::Delivered),
            "a CRM receipt for {id}"
        );
    }

    // 2. one of them replies: the email system publishes the reply to leads.raw
    let (lead_id, _) = nurtured.iter().next().unwrap();
    let mut reply = leads
        .iter()
        .find(|l| &l.lead_id == lead_id)
        .expect("the nurtured lead was generated")
        .clone();
    let now = Timestamp(chrono::Utc::now().timestamp_millis());
    reply.event_id = format!("reply-{}", reply.event_id);
    reply.event_type = LeadEventType::EmailReply;
    reply.occurred_at = now;
    reply.chat = None;
    reply.activities = vec![Activity {
        kind: ActivityKind::EmailReply,
        occurred_at: now,
        detail: Some("reply: nurture sequence".into()),
    }];
    produce_raw_all(
        &bs,
        &names["raw"],
        vec![(
            Some(reply.key().as_bytes().to_vec()),
            codec.encode(&names["raw"], &reply).await.unwrap(),
        )],
    )
    .await;

    // 3. tier captures it for the WARM queue and route hands it to a rep
    let deadline = Instant::now() + Duration::from_secs(120);
    let packet = loop {
        let packets: Vec<HandoffPacket> = decode_all(&bs, &names["packets"], &codec).await;
        if let Some(p) = packets.into_iter().find(|p| {
            &p.decision.scored.enriched.lead.lead_id == lead_id
                && p.decision.trigger == HandoffTrigger::NurtureReply
        }) {
            break p;
        }
        assert!(
            Instant::now() < deadline,
            "no NURTURE_REPLY packet for {lead_id}; logs:\n{}",
            logs_text(&services)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(packet.decision.handoff, HandoffKind::Capture);
    assert_eq!(packet.decision.target_team, "sdr");
    assert!(
        packet.assignee.is_some(),
        "a rep holds the reply: {packet:?}"
    );
    assert!(
        packet.summary.contains("replied to a nurture email"),
        "{}",
        packet.summary
    );
    // the reply is not enrolled again
    let activities: Vec<RepActivity> = decode_all(&bs, &names["activity"], &codec).await;
    let enrolments = activities
        .iter()
        .filter(|a| a.kind == RepActivityKind::Enrolled && &a.lead_id == lead_id)
        .count();
    assert_eq!(enrolments, 1, "one enrolment for {lead_id}");
    for s in services {
        s.terminate(Duration::from_secs(15));
    }
}
