#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Table tests of assignment: territory, segment, cap, out of office, working hours, account owner,
//! manager fallback, no manager, ties, and the packet's contents.

mod common;

use std::sync::Arc;

use common::*;
use leadflow_events::{
    HandoffKind, HandoffPacket, RepActivity, RepActivityKind, RepStatus, SlaEscalation, SlaKind,
    Timestamp,
};
use leadflow_route::{Reassigned, Routed, Router, RouterConfig};

fn router(reps: Vec<leadflow_events::RepState>) -> Router {
    let r = Router::new(RouterConfig {
        booking_url: "https://meet.example.com/{rep_id}".into(),
    });
    for rep in reps {
        r.apply_rep(rep).unwrap();
    }
    r
}

fn packet(r: &Routed) -> Arc<HandoffPacket> {
    match r {
        Routed::Packet(p) | Routed::Redelivered(p) => p.clone(),
        other => panic!("expected a packet, got {other:?}"),
    }
}

fn assignee(r: &Routed) -> String {
    packet(r).assignee.as_ref().unwrap().rep_id.clone()
}

#[test]
fn table_of_single_rules() {
    struct Case {
        name: &'static str,
        reps: Vec<leadflow_events::RepState>,
        country: &'static str,
        employees: i32,
        expect: &'static str,
    }
    let us_only = {
        let mut r = rep("a-us", "ae");
        r.territories = vec!["US".into()];
        r
    };
    let emea = {
        let mut r = rep("b-emea", "ae");
        r.territories = vec!["EMEA".into()];
        r
    };
    let smb = {
        let mut r = rep("a-smb", "ae");
        r.segments = vec!["1-10".into(), "11-50".into()];
        r
    };
    let ooo = {
        let mut r = rep("a-ooo", "ae");
        r.status = RepStatus::OutOfOffice;
        r.status_until = Some(Timestamp(T0.0 + 3_600_000));
        r
    };
    let ooo_over = {
        let mut r = rep("a-back", "ae");
        r.status = RepStatus::OutOfOffice;
        r.status_until = Some(Timestamp(T0.0 - 1));
        r
    };
    let busy = {
        let mut r = rep("a-busy", "ae");
        r.status = RepStatus::Busy;
        r
    };
    let inactive = {
        let mut r = rep("a-inactive", "ae");
        r.status = RepStatus::Inactive;
        r
    };
    let zero_cap = {
        let mut r = rep("a-cap0", "ae");
        r.max_open_leads = 0;
        r
    };
    let cases = vec![
        Case {
            name: "territory: US-only rep skipped for a French lead",
            reps: vec![us_only.clone(), emea.clone()],
            country: "FR",
            employees: 420,
            expect: "b-emea",
        },
        Case {
            name: "territory: region NA covers Canada",
            reps: vec![
                {
                    let mut r = rep("a-na", "ae");
                    r.territories = vec!["NA".into()];
                    r
                },
                emea.clone(),
            ],
            country: "CA",
            employees: 420,
            expect: "a-na",
        },
        Case {
            name: "segment: SMB rep skipped for a 420-person company",
            reps: vec![smb.clone(), rep("b-any", "ae")],
            country: "FR",
            employees: 420,
            expect: "b-any",
        },
        Case {
            name: "segment: SMB rep takes a 30-person company",
            reps: vec![smb, zero_cap.clone()],
            country: "FR",
            employees: 30,
            expect: "a-smb",
        },
        Case {
            name: "cap: a rep with cap 0 never gets a lead",
            reps: vec![zero_cap, rep("b-open", "ae")],
            country: "FR",
            employees: 30,
            expect: "b-open",
        },
        Case {
            name: "out of office until later: skipped",
            reps: vec![ooo, rep("b-in", "ae")],
            country: "FR",
            employees: 30,
            expect: "b-in",
        },
        Case {
            name: "out of office that ended: eligible again (and first in rotation by id)",
            reps: vec![ooo_over, rep("b-in", "ae")],
            country: "FR",
            employees: 30,
            expect: "a-back",
        },
        Case {
            name: "busy and inactive reps are skipped",
            reps: vec![busy, inactive, rep("c-ok", "ae")],
            country: "FR",
            employees: 30,
            expect: "c-ok",
        },
        Case {
            name: "working hours: New York rep is asleep at 04:30 local, Paris rep at work",
            reps: vec![
                with_hours(rep("a-ny", "ae"), "America/New_York"),
                with_hours(rep("b-paris", "ae"), "Europe/Paris"),
            ],
            country: "FR",
            employees: 30,
            expect: "b-paris",
        },
        Case {
            name: "a rep of another team is not in the pool",
            reps: vec![rep("a-sdr", "sdr"), rep("b-ae", "ae")],
            country: "FR",
            employees: 30,
            expect: "b-ae",
        },
    ];
    for c in cases {
        let r = router(c.reps);
        let out = r.route(&decision("lead-1", None, c.country, c.employees));
        assert_eq!(assignee(&out), c.expect, "{}", c.name);
        assert!(packet(&out).unassigned_reason.is_none(), "{}", c.name);
    }
}

#[test]
fn least_loaded_then_longest_waiting_then_id() {
    let r = router(vec![rep("a", "ae"), rep("b", "ae"), rep("c", "ae")]);
    // never-assigned reps first, by id
    let order: Vec<String> = (0..6)
        .map(|i| {
            let d = at(
                decision(&format!("l{i}"), None, "FR", 30),
                Timestamp(T0.0 + i * 1000),
            );
            assignee(&r.route(&d))
        })
        .collect();
    assert_eq!(order, ["a", "b", "c", "a", "b", "c"]);
    // b releases one lead: b is now least loaded and goes next, whoever waited longer
    let l1 = r.route(&decision("l1", None, "FR", 30));
    assert_eq!(assignee(&l1), "b", "redelivery keeps the owner");
    assert!(r.apply_activity(&RepActivity {
        activity_id: "x".into(),
        lead_id: "l1".into(),
        packet_id: None,
        rep_id: "b".into(),
        kind: RepActivityKind::Contacted,
        reason: None,
        reassigned_to: None,
        occurred_at: Timestamp(T0.0 + 10_000),
    }));
    assert_eq!(r.load("b"), 1);
    let d = at(decision("l9", None, "FR", 30), Timestamp(T0.0 + 20_000));
    assert_eq!(assignee(&r.route(&d)), "b");
}

#[test]
fn cap_is_respected_then_manager_is_flagged() {
    let mut a = rep("a", "ae");
    a.max_open_leads = 2;
    let r = router(vec![a, manager("mgr", "ae")]);
    for i in 0..2 {
        let out = r.route(&decision(&format!("l{i}"), None, "FR", 30));
        assert_eq!(assignee(&out), "a");
    }
    let out = r.route(&decision("l3", None, "FR", 30));
    let p = packet(&out);
    assert_eq!(p.assignee.as_ref().unwrap().rep_id, "mgr");
    assert_eq!(p.manager_cc.as_ref().unwrap().rep_id, "mgr");
    let why = p.unassigned_reason.as_deref().unwrap();
    assert!(why.contains("1 at_cap"), "{why}");
    assert_eq!(r.load("a"), 2);
}

#[test]
fn manager_named_by_reps_is_the_fallback_and_no_manager_is_an_exception() {
    let mut a = rep("a", "ae");
    a.status = RepStatus::OutOfOffice;
    a.manager_id = Some("boss".into());
    let mut boss = manager("boss", "leadership");
    boss.teams = vec![];
    let r = router(vec![a.clone(), boss]);
    let p = packet(&r.route(&decision("l1", None, "FR", 30)));
    assert_eq!(p.assignee.as_ref().unwrap().rep_id, "boss");
    assert!(
        p.unassigned_reason
            .as_deref()
            .unwrap()
            .contains("1 out_of_office")
    );

    let mut a2 = a;
    a2.manager_id = None;
    let r = router(vec![a2]);
    match r.route(&decision("l1", None, "FR", 30)) {
        Routed::Unroutable(reason) => assert!(reason.contains("no manager"), "{reason}"),
        other => panic!("expected unroutable, got {other:?}"),
    }
    let empty = router(vec![]);
    assert!(matches!(
        empty.route(&decision("l1", None, "FR", 30)),
        Routed::Unroutable(_)
    ));
}

#[test]
fn account_owner_first_unless_out_of_office() {
    let r = router(vec![rep("a", "ae"), rep("b", "ae"), manager("mgr", "ae")]);
    let first = r.route(&decision("l1", Some("northwind.io"), "FR", 420));
    assert_eq!(assignee(&first), "a");
    // b is now less loaded, but the buying committee stays with a
    let second = r.route(&at(
        decision("l2", Some("northwind.io"), "FR", 420),
        Timestamp(T0.0 + 1000),
    ));
    assert_eq!(assignee(&second), "a");
    assert!(
        packet(&second)
            .assignment_reason
            .starts_with("account owner")
    );
    assert_eq!(r.owner("northwind.io", "ae").as_deref(), Some("a"));
    // another account goes to the least loaded
    let other = r.route(&decision("l3", Some("contoso.com"), "FR", 420));
    assert_eq!(assignee(&other), "b");

    // a goes out of office: the pool decides and the packet says why
    let mut a_ooo = rep("a", "ae");
    a_ooo.status = RepStatus::OutOfOffice;
    a_ooo.status_until = Some(Timestamp(T0.0 + 86_400_000));
    r.apply_rep(a_ooo).unwrap();
    let third = r.route(&at(
        decision("l4", Some("northwind.io"), "FR", 420),
        Timestamp(T0.0 + 2000),
    ));
    assert_eq!(assignee(&third), "b");
    let reason = &packet(&third).assignment_reason;
    assert!(
        reason.contains("account owner a is out of office until"),
        "{reason}"
    );
}

#[test]
fn no_handoff_decisions_make_no_packet() {
    let r = router(vec![rep("a", "ae")]);
    let mut d = decision("l1", None, "FR", 30);
    d.handoff = HandoffKind::None;
    d.tier = "NURTURE".into();
    assert!(matches!(r.route(&d), Routed::NoHandoff));
    assert_eq!(r.load("a"), 0);
}

#[test]
fn redelivery_yields_the_same_packet_and_key() {
    let r = router(vec![rep("a", "ae"), rep("b", "ae")]);
    let d = decision("l1", None, "FR", 30);
    let first = packet(&r.route(&d));
    let again = r.route(&d);
    assert!(matches!(again, Routed::Redelivered(_)));
    let again = packet(&again);
    assert_eq!(first.idempotency_key, again.idempotency_key);
    assert_eq!(first.packet_id, again.packet_id);
    assert_eq!(first, again);
    assert_eq!(r.load("a"), 1, "counted once");
    // a restarted router (state rebuilt from the packets topic) reproduces it too
    let restarted = router(vec![rep("a", "ae"), rep("b", "ae")]);
    restarted.apply_packet(first.clone());
    assert_eq!(packet(&restarted.route(&d)).packet_id, first.packet_id);
    // a new decision for the same lead (another event) gets a new key
    let mut d2 = d.clone();
    d2.scored.enriched.lead.event_id = "evt-other".into();
    d2.decided_at = Timestamp(T0.0 + 1);
    assert_ne!(packet(&r.route(&d2)).idempotency_key, first.idempotency_key);
}

#[test]
fn packet_contents() {
    let r = router(vec![rep("a", "ae")]);
    let hot = packet(&r.route(&decision("l1", Some("northwind.io"), "FR", 420)));
    assert_eq!(
        hot.booking_link.as_deref(),
        Some("https://meet.example.com/a")
    );
    assert_eq!(hot.qualification.len(), 4);
    assert_eq!(hot.qualification[0].dimension, "problem");
    assert!((hot.qualification[0].confidence - 0.92).abs() < 1e-9);
    assert_eq!(hot.visitor.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(hot.visitor.country.as_deref(), Some("FR"));
    assert_eq!(hot.session.platform.as_deref(), Some("web-desktop"));
    assert_eq!(hot.top_factors.len(), 1);
    assert_eq!(hot.sla, hot.decision.sla);
    assert_eq!(hot.priority, 91);
    assert_eq!(hot.escalation_level, 0);
    let sentences = hot.summary.matches(". ").count() + 1;
    assert!((3..=5).contains(&sentences), "{}", hot.summary);
    assert!(hot.summary.contains("Rebuilding their data platform"));
    assert!(hot.next_step.contains("booking link"), "{}", hot.next_step);

    let cap = packet(&r.route(&capture(decision("l2", None, "FR", 30))));
    assert_eq!(cap.booking_link, None, "never on captures");
    assert_eq!(
        cap.commitment.as_deref(),
        Some("before 10:00 CET on Monday 23 November")
    );
    assert!(cap.next_step.contains("as promised"), "{}", cap.next_step);

    // a soft escalation (tier POLICY.md T5): the resource is copied, no booking link, no call
    let mut soft = decision("l4", None, "FR", 30);
    soft.handoff = HandoffKind::SoftEscalation;
    soft.trigger = leadflow_events::HandoffTrigger::WarmConversation;
    soft.recommended_resource = Some(leadflow_events::RecommendedResource {
        topic: "lead-routing".into(),
        title: "Routing case study".into(),
        url: "https://example.com/routing".into(),
    });
    let p = packet(&r.route(&soft));
    let res = p.recommended_resource.as_ref().expect("resource copied");
    assert_eq!(
        (res.topic.as_str(), res.title.as_str(), res.url.as_str()),
        (
            "lead-routing",
            "Routing case study",
            "https://example.com/routing"
        )
    );
    assert_eq!(p.booking_link, None);
    assert!(
        p.next_step.contains("Routing case study"),
        "{}",
        p.next_step
    );

    // a form lead without chat still gets 3-5 sentences
    let mut form = decision("l3", None, "FR", 30);
    form.scored.enriched.lead.chat = None;
    let p = packet(&r.route(&form));
    let sentences = p.summary.matches(". ").count() + 1;
    assert!((3..=5).contains(&sentences), "{}", p.summary);
}

#[test]
fn sla_breach_reassigns_then_escalates_to_the_manager() {
    let r = router(vec![rep("a", "ae"), rep("b", "ae"), manager("mgr", "ae")]);
    let first = packet(&r.route(&decision("l1", None, "FR", 30)));
    assert_eq!(first.assignee.as_ref().unwrap().rep_id, "a");
    let esc = |level: i32, from: &str, packet_id: &str| SlaEscalation {
        escalation_id: format!("esc-{level}"),
        lead_id: "l1".into(),
        packet_id: packet_id.into(),
        sla_kind: SlaKind::FirstContact,
        due_at: Timestamp(T0.0 + 300_000),
        escalated_at: Timestamp(T0.0 + 301_000),
        level,
        from_rep_id: Some(from.into()),
        to: "ae".into(),
        reason: "first contact SLA missed".into(),
        target_team: Some("ae".into()),
        tier: Some("HOT".into()),
        late_by_ms: Some(1_000),
    };
    let Reassigned::Packet(second) = r.reassign(&esc(1, "a", &first.packet_id)) else {
        panic!("level 1 reassigns")
    };
    assert_eq!(second.assignee.as_ref().unwrap().rep_id, "b");
    assert_eq!(second.previous_assignee.as_ref().unwrap().rep_id, "a");
    assert_eq!(second.manager_cc.as_ref().unwrap().rep_id, "mgr");
    assert_eq!(second.escalation_level, 1);
    assert_ne!(second.idempotency_key, first.idempotency_key);
    assert_eq!(
        second.sla[0].due_at,
        Timestamp(T0.0 + 300_000 + 301_000),
        "re-based"
    );
    assert_eq!((r.load("a"), r.load("b")), (0, 1), "load moved");
    // redelivered escalation: same packet
    assert!(matches!(
        r.reassign(&esc(1, "a", &first.packet_id)),
        Reassigned::Redelivered(_)
    ));
    let Reassigned::Packet(third) = r.reassign(&esc(2, "b", &second.packet_id)) else {
        panic!("level 2 escalates")
    };
    assert_eq!(third.assignee.as_ref().unwrap().rep_id, "mgr");
    assert_eq!(third.previous_assignee.as_ref().unwrap().rep_id, "b");
    assert_eq!(third.escalation_level, 2);
    // a contacted lead is not reassigned
    let p4 = packet(&r.route(&decision("l4", None, "FR", 30)));
    let holder = p4.assignee.as_ref().unwrap().rep_id.clone();
    r.apply_activity(&RepActivity {
        activity_id: "c".into(),
        lead_id: "l4".into(),
        packet_id: Some(p4.packet_id.clone()),
        rep_id: holder.clone(),
        kind: RepActivityKind::Contacted,
        reason: None,
        reassigned_to: None,
        occurred_at: Timestamp(T0.0 + 60_000),
    });
    let mut late = esc(1, &holder, &p4.packet_id);
    late.lead_id = "l4".into();
    assert!(matches!(r.reassign(&late), Reassigned::NotOpen));
    let mut unknown = esc(1, "a", "nope");
    unknown.lead_id = "never".into();
    assert!(matches!(r.reassign(&unknown), Reassigned::UnknownLead(_)));
}

#[test]
fn rebuilt_state_equals_live_state_in_any_replay_order() {
    let reps = vec![rep("a", "ae"), rep("b", "ae"), rep("c", "ae")];
    let live = router(reps.clone());
    let mut packets = Vec::new();
    for i in 0..9 {
        let account = format!("acct{}.io", i % 4);
        let d = at(
            decision(&format!("l{i}"), Some(&account), "FR", 30),
            Timestamp(T0.0 + i * 1000),
        );
        packets.push(packet(&live.route(&d)));
    }
    let contacted = RepActivity {
        activity_id: "c".into(),
        lead_id: "l0".into(),
        packet_id: None,
        rep_id: packets[0].assignee.as_ref().unwrap().rep_id.clone(),
        kind: RepActivityKind::Contacted,
        reason: None,
        reassigned_to: None,
        occurred_at: Timestamp(T0.0 + 100_000),
    };
    live.apply_activity(&contacted);
    // restart: activity replayed before the packets it answers, packets in reverse
    let rebuilt = router(reps);
    rebuilt.apply_activity(&contacted);
    for p in packets.iter().rev() {
        rebuilt.apply_packet(p.clone());
    }
    for id in ["a", "b", "c"] {
        assert_eq!(rebuilt.load(id), live.load(id), "load of {id}");
    }
    for i in 0..4 {
        let acct = format!("acct{i}.io");
        assert_eq!(
            rebuilt.owner(&acct, "ae"),
            live.owner(&acct, "ae"),
            "{acct}"
        );
    }
    // and the next lead goes to the same rep on both
    let d = at(decision("next", None, "FR", 30), Timestamp(T0.0 + 200_000));
    assert_eq!(assignee(&rebuilt.route(&d)), assignee(&live.route(&d)));
}

#[test]
fn replaying_a_reassigned_or_superseded_decision_makes_no_new_packet() {
    let r = router(vec![rep("a", "ae"), rep("b", "ae"), manager("mgr", "ae")]);
    let d = decision("l1", None, "FR", 30);
    let first = packet(&r.route(&d));
    let esc = SlaEscalation {
        escalation_id: "e".into(),
        lead_id: "l1".into(),
        packet_id: first.packet_id.clone(),
        sla_kind: SlaKind::FirstContact,
        due_at: Timestamp(T0.0 + 300_000),
        escalated_at: Timestamp(T0.0 + 301_000),
        level: 1,
        from_rep_id: Some("a".into()),
        to: "ae".into(),
        reason: "missed".into(),
        target_team: None,
        tier: None,
        late_by_ms: None,
    };
    assert!(matches!(r.reassign(&esc), Reassigned::Packet(_)));
    // leads.tiered replayed: the original decision must not take the lead back to a
    assert!(matches!(r.route(&d), Routed::AlreadyHandled));
    assert_eq!((r.load("a"), r.load("b")), (0, 1));
    // an older decision of the same lead replayed after a newer one
    let mut newer = d.clone();
    newer.scored.enriched.lead.event_id = "evt-newer".into();
    newer.decided_at = Timestamp(T0.0 + 600_000);
    assert!(matches!(r.route(&newer), Routed::Packet(_)));
    let mut older = d.clone();
    older.scored.enriched.lead.event_id = "evt-older".into();
    older.decided_at = Timestamp(T0.0 + 100_000);
    assert!(matches!(r.route(&older), Routed::AlreadyHandled));
}
