#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! Buying committees end to end: route and notify as real processes on the local broker, Slack and
//! the CRM on the sandbox. Three people of one account (produced at once) get one owner; Slack shows
//! one card, its map updated in place to list all three, the other two people in its thread — not
//! three competing posts (route RULES.md §9, notify RULES.md §1d).

use std::time::{Duration, Instant};

use leadflow_e2e::{Service, StageEnv, TestTopics, team_rep};
use leadflow_events::{
    Codec, DeliveryChannel, DeliveryReceipt, DeliveryStatus, Event, HandoffPacket, Persona,
    SlaDeadline, SlaKind, TierDecision, Timestamp, samples,
};
use leadflow_sandbox::{Sandbox, SandboxConfig};
use leadflow_testkit::{bootstrap, consume_all, produce_raw_all};

fn person(lead: &str, first: &str, title: &str, persona: Persona, at: Timestamp) -> TierDecision {
    let mut d = samples::tier_decision();
    let e = &mut d.scored.enriched;
    e.lead.lead_id = lead.into();
    e.lead.event_id = format!("evt-{lead}");
    e.lead.contact.first_name = Some(first.into());
    e.lead.contact.last_name = Some("Initech".into());
    e.lead.contact.title = Some(title.into());
    e.lead.contact.email = Some(format!("{}@initech.com", first.to_lowercase()));
    e.company_domain = Some("initech.com".into());
    e.account_key = "initech.com".into();
    e.persona = persona;
    d.target_team = "ae".into();
    d.decided_at = at;
    d.sla = vec![SlaDeadline {
        kind: SlaKind::FirstContact,
        due_at: Timestamp(at.0 + 600_000),
    }];
    d
}

async fn publish<E: Event>(bs: &str, topic: &str, codec: &Codec, events: &[E]) {
    let mut records = Vec::new();
    for e in events {
        let key = Some(e.key().as_bytes().to_vec());
        records.push((key, codec.encode(topic, e).await.unwrap()));
    }
    produce_raw_all(bs, topic, records).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_people_of_one_account_make_one_owner_and_one_card_listing_all_three() {
    let bs = bootstrap();
    let names = TestTopics::create(
        &bs,
        "e2e-committee",
        &[
            "tiered",
            "packets",
            "deliveries",
            "activity",
            "reps",
            "exceptions",
        ],
        3,
    )
    .await;
    let codec = Codec::single_object().unwrap();
    let now = Timestamp::from(chrono::Utc::now());
    let reps = [
        team_rep("ae-1", "ae"),
        team_rep("ae-2", "ae"),
        team_rep("ae-3", "ae"),
    ];
    publish(&bs, &names["reps"], &codec, &reps).await;

    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let logs = tempfile::tempdir().unwrap();
    let services: Vec<Service> = ["leadflow-route", "leadflow-notify"]
        .into_iter()
        .map(|b| {
            let mut env = StageEnv::new(&bs, b, &names);
            if b == "leadflow-notify" {
                env = env.notify_on(&sandbox);
            }
            Service::start(b, env.vars(), logs.path())
        })
        .collect();

    let three = [
        person("c-cfo", "Carla", "CFO", Persona::P1, now),
        person(
            "c-eng",
            "Eve",
            "Data Engineer",
            Persona::P3,
            Timestamp(now.0 + 1_000),
        ),
        person(
            "c-mgr",
            "Marc",
            "IT Manager",
            Persona::P2,
            Timestamp(now.0 + 2_000),
        ),
    ];
    publish(&bs, &names["tiered"], &codec, &three).await;

    // until the three packets are delivered to Slack
    let deadline = Instant::now() + Duration::from_secs(120);
    let (packets, receipts) = loop {
        let mut packets = Vec::new();
        for r in consume_all(&bs, &names["packets"], 3, Duration::from_secs(3)).await {
            packets.push(codec.decode::<HandoffPacket>(&r.payload).await.unwrap());
        }
        let mut receipts = Vec::new();
        for r in consume_all(&bs, &names["deliveries"], 60, Duration::from_secs(3)).await {
            receipts.push(codec.decode::<DeliveryReceipt>(&r.payload).await.unwrap());
        }
        let slack_done = receipts
            .iter()
            .filter(|r| {
                r.channel == DeliveryChannel::Slack && r.status == DeliveryStatus::Delivered
            })
            .count();
        if (packets.len() >= 3 && slack_done >= 3) || Instant::now() > deadline {
            break (packets, receipts);
        }
    };
    let log_text: String = services
        .iter()
        .map(|s| format!("--- {}\n{}", s.name, s.log()))
        .collect();
    assert_eq!(packets.len(), 3, "three packets; logs:\n{log_text}");

    let owners: Vec<&str> = packets
        .iter()
        .map(|p| p.assignee.as_ref().unwrap().rep_id.as_str())
        .collect();
    assert!(
        owners.iter().all(|o| *o == owners[0]),
        "one owner: {owners:?}"
    );
    let mut by_time: Vec<&HandoffPacket> = packets.iter().collect();
    by_time.sort_by_key(|p| p.created_at);
    let last = by_time[2].committee.as_ref().unwrap();
    assert_eq!(last.total, 3);
    assert_eq!(last.engagement_order, ["c-mgr", "c-cfo", "c-eng"]);

    // Slack: one card in the channel with the map of all three, the others in its thread
    let messages = sandbox.state.slack_messages();
    let cards: Vec<_> = messages.iter().filter(|m| m.thread_ts.is_none()).collect();
    assert_eq!(
        cards.len(),
        1,
        "one card, not competing posts: {messages:#?}\n{log_text}"
    );
    let card = cards[0];
    let map = card.blocks.to_string();
    assert!(map.contains("3 known people"), "{map}\n{log_text}");
    for name in ["Carla Initech", "Eve Initech", "Marc Initech"] {
        assert!(map.contains(name), "{name} on the card: {map}");
    }
    assert!(
        map.contains("Start with the champion, Marc Initech"),
        "{map}"
    );
    let replies = messages
        .iter()
        .filter(|m| m.thread_ts.as_deref() == Some(card.ts.as_str()))
        .count();
    assert_eq!(replies, 2, "{messages:#?}");
    assert_eq!(
        receipts
            .iter()
            .filter(|r| r.channel == DeliveryChannel::Slack && r.status == DeliveryStatus::Delivered)
            .count(),
        3,
        "one Slack delivery per packet"
    );

    for s in services {
        let name = s.name.clone();
        let status = s.terminate(Duration::from_secs(30));
        assert!(status.success(), "{name} exited with {status}");
    }
}
