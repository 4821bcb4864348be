#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! A lead its rep rejected goes back to the pool (RULES.md §6c): the next eligible rep who has not
//! rejected it, with the reason in the packet and the deadlines re-based to the rejection; rejected
//! by everyone eligible, the pool's manager; a click by someone else, a repeat, or an order of
//! arrival that differs (the activity side input first) changes nothing twice.

mod common;

use std::sync::Arc;

use common::*;
use leadflow_events::{AnyEvent, HandoffPacket, RepActivity, RepActivityKind, RepState, Timestamp};
use leadflow_route::{Reassigned, Routed, Router, RouterConfig};

fn router(reps: &[RepState]) -> Router {
    let r = Router::new(RouterConfig::default());
    for rep in reps {
        r.apply_rep(rep.clone()).unwrap();
    }
    r
}

fn routed(r: &Router, lead: &str) -> Arc<HandoffPacket> {
    match r.route(&at(decision(lead, Some("acme.example"), "FR", 30), T0)) {
        Routed::Packet(p) => p,
        other => panic!("{lead}: {other:?}"),
    }
}

fn rejection(p: &HandoffPacket, minute: i64, reason: Option<&str>) -> RepActivity {
    let rep = owner(p).to_owned();
    RepActivity {
        activity_id: format!("rej-{}-{rep}", p.packet_id),
        lead_id: p.lead_id().into(),
        packet_id: Some(p.packet_id.clone()),
        rep_id: rep,
        kind: RepActivityKind::Rejected,
        reason: reason.map(str::to_owned),
        reassigned_to: None,
        occurred_at: Timestamp(T0.0 + minute * 60_000),
    }
}

fn owner(p: &HandoffPacket) -> &str {
    &p.assignee.as_ref().unwrap().rep_id
}

fn packet(out: Reassigned) -> Arc<HandoffPacket> {
    match out {
        Reassigned::Packet(p) => p,
        other => panic!("expected a packet, got {other:?}"),
    }
}

#[test]
fn a_rejected_lead_goes_to_the_next_rep_with_the_reason_and_a_fresh_clock() {
    let r = router(&[rep("a", "ae"), rep("b", "ae"), manager("mgr", "ae")]);
    let first = routed(&r, "l1");
    assert_eq!(owner(&first), "a");
    let rej = rejection(&first, 10, Some("not_a_fit"));
    let second = packet(r.reassign_rejected(&rej));
    assert_eq!(owner(&second), "b");
    assert_eq!(second.previous_assignee.as_ref().unwrap().rep_id, "a");
    assert_eq!(second.manager_cc.as_ref().unwrap().rep_id, "mgr");
    assert!(
        second
            .assignment_reason
            .starts_with("reassigned after a rejected it (not_a_fit); least loaded eligible rep"),
        "{}",
        second.assignment_reason
    );
    assert_eq!(second.escalation_level, first.escalation_level + 1);
    assert_ne!(second.idempotency_key, first.idempotency_key);
    // the new owner's clock starts at the rejection
    assert_eq!(second.created_at, rej.occurred_at);
    assert_eq!(
        second.sla[0].due_at.0 - rej.occurred_at.0,
        first.sla[0].due_at.0 - first.created_at.0
    );
    assert_eq!((r.load("a"), r.load("b")), (0, 1));
    // b now owns the account: the next lead of acme goes to b, not to a
    assert_eq!(r.owner("acme.example", "ae").as_deref(), Some("b"));

    // the same rejection again (a Slack retry, a redelivery): nothing moves twice
    assert!(matches!(r.reassign_rejected(&rej), Reassigned::NotOpen));
    // a rejection by someone who does not hold the lead (a's click on b's packet) changes nothing
    let mut stranger = rejection(&second, 11, Some("bad_data"));
    stranger.rep_id = "a".into();
    assert!(matches!(
        r.reassign_rejected(&stranger),
        Reassigned::NotOpen
    ));
    assert_eq!((r.load("a"), r.load("b")), (0, 1));
}

#[test]
fn rejected_by_everyone_eligible_it_goes_to_the_manager_and_then_to_revops() {
    let r = router(&[rep("a", "ae"), rep("b", "ae"), manager("mgr", "ae")]);
    let first = routed(&r, "l1");
    let second = packet(r.reassign_rejected(&rejection(&first, 5, Some("not_a_fit"))));
    assert_eq!(owner(&second), "b");
    let third = packet(r.reassign_rejected(&rejection(&second, 6, None)));
    assert_eq!(owner(&third), "mgr", "{third:?}");
    assert_eq!(third.manager_cc.as_ref().unwrap().rep_id, "mgr");
    assert_eq!(
        third.assignment_reason,
        "reassigned after b rejected it (no reason given); to the manager: nobody else eligible"
    );
    assert_eq!(
        third.unassigned_reason.as_deref(),
        Some("no rep in team ae; rejected by a, b")
    );
    assert_eq!(third.escalation_level, 2);
    // the manager rejects too: nobody is left, an exception for RevOps
    match r.reassign_rejected(&rejection(&third, 7, Some("duplicate"))) {
        Reassigned::Unroutable(why) => {
            assert!(why.contains("rejected by a, b, mgr"), "{why}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_side_input_may_read_the_rejection_first_in_either_order() {
    // the stage's activity side input applies the REJECTED before the stage's input reaches it
    let r = router(&[rep("a", "ae"), rep("b", "ae")]);
    let first = routed(&r, "l1");
    let rej = rejection(&first, 3, Some("competitor"));
    r.apply(&AnyEvent::RepActivity(rej.clone())).unwrap();
    assert_eq!(r.load("a"), 0, "the rejection released a's load");
    assert_eq!(owner(&packet(r.reassign_rejected(&rej))), "b");

    // at start-up the activity topic replays before the packets topic: rejection, then packet
    let r = router(&[rep("a", "ae"), rep("b", "ae")]);
    r.apply(&AnyEvent::RepActivity(rej.clone())).unwrap();
    r.apply(&AnyEvent::HandoffPacket((*first).clone())).unwrap();
    assert_eq!(r.load("a"), 0);
    assert_eq!(owner(&packet(r.reassign_rejected(&rej))), "b");
}

#[test]
fn other_activity_and_a_lead_route_never_saw_do_not_reassign() {
    let r = router(&[rep("a", "ae"), rep("b", "ae")]);
    let first = routed(&r, "l1");
    let mut contacted = rejection(&first, 2, None);
    contacted.kind = RepActivityKind::Contacted;
    assert!(matches!(
        r.reassign_rejected(&contacted),
        Reassigned::NotOpen
    ));
    let mut unknown = rejection(&first, 2, None);
    unknown.lead_id = "never-routed".into();
    assert!(matches!(
        r.reassign_rejected(&unknown),
        Reassigned::UnknownLead(_)
    ));
    // a rejection after the lead was contacted: the lead is closed, nothing to move
    let r = router(&[rep("a", "ae"), rep("b", "ae")]);
    let first = routed(&r, "l1");
    let mut contacted = rejection(&first, 2, None);
    contacted.kind = RepActivityKind::Contacted;
    r.apply_activity(&contacted);
    assert!(matches!(
        r.reassign_rejected(&rejection(&first, 3, None)),
        Reassigned::NotOpen
    ));
}
