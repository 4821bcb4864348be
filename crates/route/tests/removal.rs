#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! A rep removed from the roster (RULES.md §6b, §7): the tombstone drops them from a running route
//! at once (never assigned again, no longer an account owner), and their open leads move to the
//! next owner by the usual rules, at an injected instant, once.

mod common;

use std::sync::Arc;

use common::*;
use leadflow_events::{
    AnyEvent, EventKind, HandoffPacket, RepActivity, RepActivityKind, RepState, Timestamp,
    Tombstone,
};
use leadflow_route::{Reassigned, Routed, Router, RouterConfig};

fn router(reps: &[RepState]) -> Router {
    let r = Router::new(RouterConfig::default());
    for rep in reps {
        r.apply_rep(rep.clone()).unwrap();
    }
    r
}

fn routed(r: &Router, lead: &str, account: Option<&str>, minute: i64) -> Arc<HandoffPacket> {
    match r.route(&at(
        decision(lead, account, "FR", 30),
        Timestamp(T0.0 + minute * 60_000),
    )) {
        Routed::Packet(p) => p,
        other => panic!("{lead}: {other:?}"),
    }
}

fn tombstone(rep: &str) -> AnyEvent {
    AnyEvent::Tombstone(Tombstone {
        kind: EventKind::RepState,
        key: rep.into(),
    })
}

fn owner(p: &HandoffPacket) -> &str {
    &p.assignee.as_ref().unwrap().rep_id
}

/// One case: the roster, the leads `a` holds before the removal, who gets them after.
struct Case {
    name: &'static str,
    others: Vec<RepState>,
    /// (rep, outcome) per lead `a` held, in lead order: `Some(rep)` or `None` (unroutable).
    expect: Vec<Option<&'static str>>,
}

#[test]
fn a_removed_reps_open_leads_move_by_the_usual_rules() {
    let mut busy_b = rep("b", "ae");
    busy_b.max_open_leads = 1;
    let cases = [
        Case {
            name: "two other reps: least loaded, alternating",
            others: vec![rep("b", "ae"), rep("c", "ae"), manager("mgr", "ae")],
            expect: vec![Some("b"), Some("c")],
        },
        Case {
            name: "b has room for one, then the manager, flagged",
            others: vec![busy_b, manager("mgr", "ae")],
            expect: vec![Some("b"), Some("mgr")],
        },
        Case {
            name: "nobody and no manager: unroutable, left for the watchdog",
            others: vec![],
            expect: vec![None, None],
        },
    ];
    for case in cases {
        let mut all = vec![rep("a", "ae")];
        let r = router(&all);
        // a holds l1 and l2 open; l0 was contacted, so it is closed
        let l0 = routed(&r, "l0", None, 0);
        r.apply_activity(&RepActivity {
            activity_id: "c0".into(),
            lead_id: "l0".into(),
            packet_id: Some(l0.packet_id.clone()),
            rep_id: "a".into(),
            kind: RepActivityKind::Contacted,
            reason: None,
            reassigned_to: None,
            occurred_at: Timestamp(T0.0 + 60_000),
        });
        let held = [routed(&r, "l1", None, 1), routed(&r, "l2", None, 2)];
        assert!(held.iter().all(|p| owner(p) == "a"), "{}", case.name);
        for o in &case.others {
            r.apply_rep(o.clone()).unwrap();
        }
        all.extend(case.others.iter().cloned());
        r.apply(&tombstone("a")).unwrap();
        assert_eq!(
            r.roster_len(),
            all.len() - 1,
            "{}: a left the roster",
            case.name
        );

        let now = Timestamp(T0.0 + 3_600_000);
        let moved = r.reassign_removed("a", now);
        assert_eq!(moved.len(), case.expect.len(), "{}: {moved:?}", case.name);
        for ((out, want), before) in moved.iter().zip(&case.expect).zip(&held) {
            match (out, want) {
                (Reassigned::Packet(p), Some(rep)) => {
                    assert_eq!(owner(p), *rep, "{}", case.name);
                    assert_eq!(p.lead_id(), before.lead_id());
                    assert_eq!(p.previous_assignee.as_ref().unwrap().rep_id, "a");
                    assert_eq!(p.escalation_level, 1);
                    assert_ne!(p.idempotency_key, before.idempotency_key);
                    assert!(
                        p.assignment_reason
                            .starts_with("reassigned because a was removed from the roster"),
                        "{}",
                        p.assignment_reason
                    );
                    // deadlines re-based to the removal: the new owner gets the same durations
                    assert_eq!(
                        p.sla[0].due_at.0 - now.0,
                        before.sla[0].due_at.0 - before.created_at.0
                    );
                    assert_eq!(p.created_at, now);
                }
                (Reassigned::Unroutable(why), None) => {
                    assert!(why.contains("removed rep a"), "{why}");
                }
                other => panic!("{}: {other:?}", case.name),
            }
        }
        assert_eq!(r.load("a"), if case.expect[0].is_none() { 2 } else { 0 });
        // once applied, nothing is left to move: a repeated removal is a no-op
        if case.expect[0].is_some() {
            assert!(r.reassign_removed("a", now).is_empty(), "{}", case.name);
        }
    }
}

#[test]
fn a_tombstoned_rep_is_never_assigned_again_nor_an_account_owner() {
    let r = router(&[rep("a", "ae"), rep("b", "ae")]);
    let first = routed(&r, "l1", Some("acme.io"), 0);
    assert_eq!(owner(&first), "a");
    assert_eq!(r.owner("acme.io", "ae").as_deref(), Some("a"));
    r.apply(&tombstone("a")).unwrap();
    assert_eq!(r.owner("acme.io", "ae"), None, "ownership forgotten");
    // the account's next lead and every new lead go to b, although b is busier
    for (i, account) in [Some("acme.io"), None, None].into_iter().enumerate() {
        let p = routed(&r, &format!("n{i}"), account, 10 + i as i64);
        assert_eq!(owner(&p), "b");
    }
    // a tombstone of another topic's kind changes nothing
    r.apply(&AnyEvent::Tombstone(Tombstone {
        kind: EventKind::HandoffPacket,
        key: "b".into(),
    }))
    .unwrap();
    assert_eq!(r.roster_len(), 1);
}
