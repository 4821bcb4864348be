#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! One card per account against the sandbox (no broker, RULES.md §1d): the first person of an
//! account is posted as the card; the next ones update its committee map in place (`chat.update`)
//! and go into its thread, never as competing posts; a redelivery does nothing twice; a late
//! update never puts an older map over a newer one.

mod common;

use common::*;
use leadflow_events::{
    Committee, CommitteeMember, DeliveryChannel as Ch, DeliveryStatus as St, HandoffPacket,
    Timestamp,
};

fn member(n: u32, role: &str, persona: &str) -> CommitteeMember {
    CommitteeMember {
        lead_id: format!("lead-{n:04}"),
        name: Some(format!("Ada Visitor{n}")),
        title: Some(format!("Title {n}")),
        persona: persona.into(),
        role: role.into(),
        score: 60 + n as i32,
        tier: "HOT".into(),
        status: "HANDED_OFF".into(),
        owner_rep_id: Some("rep-ae-01".into()),
    }
}

/// The packets route emits for three people of acme.example: the first starts the card, the
/// next two update it, each listing everyone known so far.
fn three() -> Vec<HandoffPacket> {
    let people = [
        member(71, "economic_buyer", "P1"),
        member(72, "champion", "P2"),
        member(73, "technical_evaluator", "P3"),
    ];
    let card = packet(71);
    let mut out: Vec<HandoffPacket> = Vec::new();
    for (i, n) in [71u32, 72, 73].into_iter().enumerate() {
        let mut p = packet(n);
        p.created_at = Timestamp(card.created_at.0 + i as i64 * 1_000);
        let mut members = people[..=i].to_vec();
        members.sort_by_key(|m| m.role != "champion");
        p.committee = Some(Committee {
            account_key: "acme.example".into(),
            owner: p.assignee.clone(),
            total: i as i32 + 1,
            engagement_order: members.iter().map(|m| m.lead_id.clone()).collect(),
            members,
            strategy: "Start with the champion.".into(),
            updates_card: (i > 0).then(|| card.packet_id.clone()),
            card_key: (i > 0).then(|| card.idempotency_key.clone()),
            ..Committee::default()
        });
        out.push(p);
    }
    out
}

fn top_level(sb: &leadflow_sandbox::Sandbox) -> Vec<leadflow_sandbox::SlackMessage> {
    sb.state
        .slack_messages()
        .into_iter()
        .filter(|m| m.thread_ts.is_none() && m.via == "chat.postMessage")
        .collect()
}

#[tokio::test]
async fn three_people_of_one_account_make_one_card_updated_in_place() {
    let sb = sandbox().await;
    let stage = new_stage(&settings(&sb));
    let ps = three();
    for p in &ps {
        let out = run(&stage, p.clone()).await;
        assert!(exceptions(&out).is_empty(), "{:#?}", exceptions(&out));
        assert_eq!(with(&receipts(&out), Ch::Slack, St::Delivered).len(), 1);
    }
    let cards = top_level(&sb);
    assert_eq!(cards.len(), 1, "one card, not three competing posts");
    let card = &cards[0];
    assert_eq!(card.edits, 2, "updated once per new person");
    let map = card.blocks.to_string();
    assert!(map.contains("3 known people"), "{map}");
    for n in [71, 72, 73] {
        assert!(map.contains(&format!("Ada Visitor{n}")), "{map}");
    }
    assert!(
        map.contains("leadflow|lead-0071|pkt-0071"),
        "the card keeps its own controls"
    );
    let replies: Vec<_> = sb
        .state
        .slack_messages()
        .into_iter()
        .filter(|m| m.thread_ts.is_some())
        .collect();
    assert_eq!(replies.len(), 2);
    assert!(
        replies
            .iter()
            .all(|r| r.thread_ts.as_deref() == Some(card.ts.as_str()))
    );
    assert!(replies[1].blocks.to_string().contains("card is updated"));

    // a redelivery of the third packet: no second reply, no second update
    let out = run(&stage, ps[2].clone()).await;
    assert_eq!(with(&receipts(&out), Ch::Slack, St::Skipped).len(), 1);
    assert_eq!(top_level(&sb)[0].edits, 2);

    // the CRM note of the third person carries the map
    let notes = sb.state.crm_objects("notes");
    assert!(
        notes.iter().any(|n| {
            let body = n.properties["hs_note_body"].as_str().unwrap_or_default();
            body.contains("Buying committee of acme.example — 3 known people")
                && body.contains("joins the account")
        }),
        "{notes:#?}"
    );
}

#[tokio::test]
async fn a_late_update_never_puts_an_older_map_over_a_newer_one() {
    let sb = sandbox().await;
    let stage = new_stage(&settings(&sb));
    let ps = three();
    run(&stage, ps[0].clone()).await;
    run(&stage, ps[2].clone()).await;
    run(&stage, ps[1].clone()).await;
    let cards = top_level(&sb);
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0].edits, 1, "the older map was not written");
    assert!(cards[0].blocks.to_string().contains("3 known people"));
}
