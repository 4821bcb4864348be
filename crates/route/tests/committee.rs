#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Buying committees through the router (RULES.md §9), no broker: one owner and one card per
//! account, the map growing with each person, statuses from activity and nurture decisions, a
//! state rebuilt from the side inputs giving the same committee.

mod common;

use std::sync::Arc;

use common::*;
use leadflow_events::{
    AnyEvent, HandoffKind, HandoffPacket, Persona, RepActivity, RepActivityKind, TierDecision,
    Timestamp,
};
use leadflow_route::{Routed, Router, RouterConfig};

fn router() -> Router {
    let r = Router::new(RouterConfig::default());
    for id in ["ae-1", "ae-2", "ae-3"] {
        r.apply_rep(rep(id, "ae")).unwrap();
    }
    r
}

fn person(
    lead: &str,
    first: &str,
    title: &str,
    persona: Persona,
    score: i32,
    t: i64,
) -> TierDecision {
    let mut d = at(
        decision(lead, Some("acme.com"), "FR", 300),
        Timestamp(T0.0 + t),
    );
    let e = &mut d.scored.enriched;
    e.persona = persona;
    e.lead.contact.first_name = Some(first.into());
    e.lead.contact.last_name = Some("Doe".into());
    e.lead.contact.title = Some(title.into());
    d.scored.score = score;
    d
}

fn packet(r: Routed) -> Arc<HandoffPacket> {
    match r {
        Routed::Packet(p) | Routed::Redelivered(p) => p,
        other => panic!("expected a packet, got {other:?}"),
    }
}

fn three() -> [TierDecision; 3] {
    [
        person("l-cto", "Carla", "CTO", Persona::P1, 80, 0),
        person(
            "l-mgr",
            "Marc",
            "Data Engineering Manager",
            Persona::P2,
            60,
            1_000,
        ),
        person("l-eng", "Eve", "Data Engineer", Persona::P3, 70, 2_000),
    ]
}

#[test]
fn three_people_of_one_account_get_one_owner_and_one_card_listing_all_three() {
    let r = router();
    let packets: Vec<_> = three().iter().map(|d| packet(r.route(d))).collect();
    let owners: Vec<_> = packets
        .iter()
        .map(|p| p.assignee.as_ref().unwrap().rep_id.clone())
        .collect();
    assert!(
        owners.iter().all(|o| *o == owners[0]),
        "one owner: {owners:?}"
    );

    let first = packets[0].committee.as_ref().unwrap();
    assert_eq!(first.total, 1);
    assert_eq!(first.updates_card, None, "the first packet starts the card");
    assert_eq!(
        first.owner.as_ref().map(|o| o.rep_id.as_str()),
        Some(owners[0].as_str())
    );

    for p in &packets[1..] {
        let c = p.committee.as_ref().unwrap();
        assert_eq!(
            c.updates_card.as_deref(),
            Some(packets[0].packet_id.as_str())
        );
        assert_eq!(
            c.card_key.as_deref(),
            Some(packets[0].idempotency_key.as_str())
        );
    }
    let last = packets[2].committee.as_ref().unwrap();
    assert_eq!(last.total, 3);
    let listed: Vec<_> = last.members.iter().map(|m| m.lead_id.as_str()).collect();
    assert_eq!(
        listed,
        ["l-mgr", "l-cto", "l-eng"],
        "champion, economic buyer, evaluator"
    );
    assert_eq!(last.engagement_order, ["l-mgr", "l-cto", "l-eng"]);
    assert_eq!(
        last.strategy,
        "Start with the champion, Marc Doe (Data Engineering Manager), then involve the economic \
         buyer, Carla Doe (CTO), then the technical evaluator, Eve Doe (Data Engineer)."
    );
    assert!(last.members.iter().all(|m| m.status == "HANDED_OFF"));
    assert!(
        last.members
            .iter()
            .all(|m| m.owner_rep_id.as_deref() == Some(owners[0].as_str()))
    );
}

#[test]
fn nurture_people_and_activity_show_in_the_map() {
    let r = router();
    let [cto, mgr, eng] = three();
    let first = packet(r.route(&cto));
    // the manager is not handed off: nurture
    let mut nurture = mgr;
    nurture.handoff = HandoffKind::None;
    assert!(matches!(r.route(&nurture), Routed::NoHandoff));
    // the owner contacted the CTO
    let owner = first.assignee.as_ref().unwrap().rep_id.clone();
    r.apply_activity(&RepActivity {
        activity_id: "a1".into(),
        lead_id: "l-cto".into(),
        packet_id: Some(first.packet_id.clone()),
        rep_id: owner.clone(),
        kind: RepActivityKind::Contacted,
        reason: None,
        reassigned_to: None,
        occurred_at: Timestamp(T0.0 + 1_500),
    });
    let third = packet(r.route(&eng));
    let c = third.committee.as_ref().unwrap();
    let status = |id: &str| {
        c.members
            .iter()
            .find(|m| m.lead_id == id)
            .map(|m| m.status.clone())
    };
    assert_eq!(status("l-cto").as_deref(), Some("CONTACTED"));
    assert_eq!(status("l-mgr").as_deref(), Some("NURTURE"));
    assert_eq!(status("l-eng").as_deref(), Some("HANDED_OFF"));
    assert_eq!(third.assignee.as_ref().unwrap().rep_id, owner);
    assert_eq!(c.updates_card.as_deref(), Some(first.packet_id.as_str()));
}

#[test]
fn a_rebuilt_state_gives_the_same_committee() {
    let live = router();
    let [cto, mgr, eng] = three();
    let p1 = packet(live.route(&cto));
    let p2 = packet(live.route(&mgr));
    let p3 = packet(live.route(&eng));

    // a restarted instance replays the side inputs: packets first, decisions later (any order)
    let rebuilt = router();
    for p in [&p1, &p2] {
        rebuilt
            .apply(&AnyEvent::HandoffPacket((**p).clone()))
            .unwrap();
    }
    for d in [&cto, &mgr] {
        rebuilt.apply(&AnyEvent::TierDecision(d.clone())).unwrap();
    }
    let again = packet(rebuilt.route(&eng));
    assert_eq!(again.committee, p3.committee);
    assert_eq!(again.assignee, p3.assignee);
    // and a redelivery of the third decision re-emits the same packet
    assert_eq!(packet(live.route(&eng)).committee, p3.committee);
}

#[test]
fn free_mail_leads_have_no_committee_and_other_accounts_stay_apart() {
    let r = router();
    let mut solo = decision("l-free", None, "FR", 300);
    solo.scored.enriched.lead.lead_id = "l-free".into();
    assert_eq!(packet(r.route(&solo)).committee, None);
    let [cto, ..] = three();
    packet(r.route(&cto));
    let mut other = at(
        decision("l-other", Some("globex.com"), "FR", 300),
        Timestamp(T0.0 + 5_000),
    );
    other.scored.enriched.persona = Persona::P2;
    let p = packet(r.route(&other));
    let c = p.committee.as_ref().unwrap();
    assert_eq!((c.total, c.updates_card.clone()), (1, None));
    assert_eq!(c.account_key, "globex.com");
}
