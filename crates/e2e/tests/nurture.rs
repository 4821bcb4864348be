#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! The automated half of the funnel as real processes on the local broker: enrich → score → tier →
//! route and nurture, the sandbox as HubSpot. Every no-handoff NURTURE_24H lead with an email is
//! enrolled (the sandbox's list 101 holds its contact; a CRM receipt and an ENROLLED activity by
//! automation are on their topics), and a reply of one of them, posted to ingest's replies webhook as
//! HubSpot's workflow would (the contact with the lead id nurture set on it), comes back from tier as
//! a NURTURE_REPLY capture and from route as a packet for a rep.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use leadflow_e2e::{
    Service, StageEnv, TestTopics, free_port, publish_generated_leads, publish_sample_roster,
};
use leadflow_events::{
    Codec, DeliveryChannel, DeliveryReceipt, DeliveryStatus, Event, HandoffKind, HandoffPacket,
    HandoffTrigger, RepActivity, RepActivityKind, TierDecision, Timestamp,
};
use leadflow_sandbox::{Sandbox, SandboxConfig};
use leadflow_testkit::{bootstrap, consume_all};

const LEADS: usize = 80;
const CRM_KEY: &str = "key-hubspot-crm-0123456789";

/// Posts a reply to ingest's replies webhook as HubSpot's workflow does (its "API key"
/// authentication), once ingest listens; the answer's status.
async fn post_reply(ingest: &str, body: &serde_json::Value, logs: &dyn Fn() -> String) -> u16 {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // not listening yet, or 503 while its producer connects: again
        if let Ok(r) = http
            .post(format!("{ingest}/v1/webhooks/hubspot/hubspot-crm/replies"))
            .header("x-api-key", CRM_KEY)
            .json(body)
            .send()
            .await
        {
            let status = r.status().as_u16();
            if status != 503 {
                assert_eq!(status, 202, "{}", r.text().await.unwrap_or_default());
                return status;
            }
        }
        assert!(
            Instant::now() < deadline,
            "ingest never took the reply; logs:\n{}",
            logs()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

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
    publish_generated_leads(&bs, &names["raw"], &codec, 31, start, LEADS).await;

    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let logs = tempfile::tempdir().unwrap();
    // ingest, with HubSpot as the publisher that may post replies (crm_replies)
    let port = free_port();
    let ingest_url = format!("http://127.0.0.1:{port}");
    let publishers = logs.path().join("publishers.toml");
    let key_hash: String = leadflow_ingest::auth::hash_api_key(CRM_KEY)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    std::fs::write(
        &publishers,
        format!("[[publishers]]\nid = \"hubspot-crm\"\napi_key_sha256 = [\"{key_hash}\"]\ncrm_replies = true\n"),
    )
    .unwrap();
    let services: Vec<Service> = [
        "leadflow-enrich",
        "leadflow-score",
        "leadflow-tier",
        "leadflow-route",
        "leadflow-nurture",
        "leadflow-ingest",
    ]
    .into_iter()
    .map(|b| {
        let mut env = StageEnv::new(&bs, b, &names);
        if b == "leadflow-nurture" {
            env = env.notify_on(&sandbox);
        }
        if b == "leadflow-ingest" {
            env = env
                .stage("API_LISTEN", &format!("127.0.0.1:{port}"))
                .stage("PUBLISHERS_FILE", publishers.to_str().unwrap());
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

    // 2. one of them replies: HubSpot's workflow ("sales email replied") sends the contact, with
    //    the lead id nurture set on it, to ingest's replies webhook (ingest RULES.md A3)
    let (lead_id, d) = nurtured.iter().next().unwrap();
    let email = d.scored.enriched.lead.contact.email.clone().unwrap();
    let contact = sandbox
        .state
        .crm_objects("contacts")
        .into_iter()
        .find(|c| c.properties.get("email").and_then(|v| v.as_str()) == Some(email.as_str()))
        .unwrap();
    assert_eq!(
        contact
            .properties
            .get("leadflow_lead_id")
            .and_then(|v| v.as_str()),
        Some(lead_id.as_str()),
        "nurture set the lead id on the contact"
    );
    let mut properties = contact.properties.clone();
    let now = Timestamp(chrono::Utc::now().timestamp_millis());
    properties.insert(
        "hs_sales_email_last_replied".into(),
        serde_json::Value::String(now.0.to_string()),
    );
    // HubSpot sends the contact id as a number
    let object_id: i64 = contact.id.parse().unwrap();
    let body = serde_json::json!({ "objectId": object_id, "properties": properties });
    let status = post_reply(&ingest_url, &body, &|| logs_text(&services)).await;
    assert_eq!(status, 202);

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
