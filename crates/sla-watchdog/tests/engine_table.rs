//! Table tests of the timer engine with an injected clock (no broker): met, breached, breached twice,
//! contacted late with an earlier event time, weekend and holiday deadlines, NURTURE_24H never
//! escalated, replay without a storm.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use chrono::Duration;
use leadflow_events::{
    HandoffKind, HandoffPacket, RepActivity, RepActivityKind, SlaDeadline, SlaEscalation, SlaKind,
    Timestamp, samples,
};
use leadflow_sla_watchdog::{DeadlineState, Engine, EngineRules, Outcome};
use leadflow_tier::CalendarSettings;

const MIN: i64 = 60_000;
const LATENESS: i64 = 30_000;

fn ts(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

fn engine() -> Engine {
    Engine::new(
        EngineRules::default(),
        CalendarSettings::default().build().unwrap(),
    )
}

fn all(_: &str) -> bool {
    true
}

fn packet(
    lead: &str,
    packet_id: &str,
    decided: Timestamp,
    created: Timestamp,
    sla: &[(SlaKind, Timestamp)],
    owner: &str,
) -> HandoffPacket {
    let mut p = samples::handoff_packet();
    p.packet_id = packet_id.into();
    p.decision.scored.enriched.lead.lead_id = lead.into();
    p.decision.decided_at = decided;
    p.decision.tier = "HOT".into();
    p.decision.target_team = "ae".into();
    p.decision.handoff = HandoffKind::Escalation;
    p.decision.sla = sla
        .iter()
        .map(|(kind, due_at)| SlaDeadline {
            kind: *kind,
            due_at: *due_at,
        })
        .collect();
    p.created_at = created;
    let assignee = p.assignee.as_mut().expect("the sample packet is assigned");
    assignee.rep_id = owner.into();
    // a v2 packet carries its own deadlines (the same as the decision's on a first assignment)
    p.sla = p.decision.sla.clone();
    p
}

fn hot(lead: &str, t0: Timestamp) -> HandoffPacket {
    packet(
        lead,
        &format!("pkt-{lead}"),
        t0,
        t0,
        &[(SlaKind::FirstContact, Timestamp(t0.0 + 5 * MIN))],
        "rep-1",
    )
}

fn activity(id: &str, lead: &str, kind: RepActivityKind, at: Timestamp) -> RepActivity {
    RepActivity {
        activity_id: id.into(),
        lead_id: lead.into(),
        packet_id: None,
        rep_id: "rep-1".into(),
        kind,
        reason: None,
        reassigned_to: None,
        occurred_at: at,
    }
}

/// Runs the engine's clock from `from` to `to` in 200 ms ticks (as the timer task does), acknowledging
/// every escalation it raises; returns them with the tick time each fired at.
fn run(
    e: &mut Engine,
    from: Timestamp,
    to: Timestamp,
) -> (Vec<(Timestamp, SlaEscalation)>, Vec<Outcome>) {
    let mut fired = Vec::new();
    let mut outcomes = Vec::new();
    let mut now = from;
    while now <= to {
        let (esc, out) = e.due(now, &all);
        outcomes.extend(out);
        for x in esc {
            outcomes.extend(e.apply_escalation(&x));
            fired.push((now, x));
        }
        now = Timestamp(now.0 + 200);
    }
    (fired, outcomes)
}

#[test]
fn met_contact_never_escalates() {
    let t0 = samples::T0;
    let mut e = engine();
    e.apply_packet(&hot("L1", t0));
    let out = e.apply_activity(&activity(
        "a1",
        "L1",
        RepActivityKind::Contacted,
        Timestamp(t0.0 + 3 * MIN),
    ));
    assert!(out.contains(&Outcome::Met {
        tier: "HOT".into(),
        kind: SlaKind::FirstContact
    }));
    assert!(out.iter().any(
        |o| matches!(o, Outcome::FirstContact { business_seconds, .. } if *business_seconds == 180.0)
    ));
    let (fired, _) = run(&mut e, t0, Timestamp(t0.0 + 60 * MIN));
    assert!(fired.is_empty(), "{fired:?}");
    assert!(matches!(
        e.deadlines("L1")[0].state,
        DeadlineState::Met { .. }
    ));
}

#[test]
fn breach_fires_once_after_the_allowed_lateness() {
    let t0 = samples::T0;
    let due = Timestamp(t0.0 + 5 * MIN);
    let mut e = engine();
    e.apply_packet(&hot("L2", t0));
    // before the deadline plus the allowed lateness: nothing
    let (early, _) = run(&mut e, t0, Timestamp(due.0 + LATENESS - 1));
    assert!(early.is_empty());
    let (fired, _) = run(
        &mut e,
        Timestamp(due.0 + LATENESS),
        Timestamp(due.0 + 60 * MIN),
    );
    assert_eq!(fired.len(), 1, "{fired:?}");
    let (at, esc) = &fired[0];
    // fires on the first tick at or after due + lateness
    assert_eq!(at.0, due.0 + LATENESS);
    assert_eq!(esc.level, 1);
    assert_eq!(esc.to, "pool:ae");
    assert_eq!(esc.target_team.as_deref(), Some("ae"));
    assert_eq!(esc.from_rep_id.as_deref(), Some("rep-1"));
    assert_eq!(esc.sla_kind, SlaKind::FirstContact);
    assert_eq!(esc.due_at, due);
    assert_eq!(esc.late_by_ms, Some(LATENESS));
    assert_eq!(esc.tier.as_deref(), Some("HOT"));
    assert_eq!(esc.escalation_id, "pkt-L2:first_contact:L1");
    assert_eq!(esc.packet_id, "pkt-L2");
    assert!(matches!(
        e.deadlines("L2")[0].state,
        DeadlineState::Escalated { level: 1 }
    ));
}

#[test]
fn a_send_that_was_not_acknowledged_fires_again() {
    let t0 = samples::T0;
    let mut e = engine();
    e.apply_packet(&hot("L3", t0));
    let late = Timestamp(t0.0 + 6 * MIN);
    let (first, _) = e.due(late, &all);
    assert_eq!(first.len(), 1);
    // not applied (the broker did not ack): the next tick raises the same escalation again
    let (again, _) = e.due(Timestamp(late.0 + 200), &all);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].escalation_id, first[0].escalation_id);
    e.apply_escalation(&again[0]);
    assert!(e.due(Timestamp(late.0 + 400), &all).0.is_empty());
}

#[test]
fn a_second_breach_of_the_same_lead_goes_to_the_manager() {
    let t0 = samples::T0;
    let mut e = engine();
    e.apply_packet(&hot("L4", t0));
    let (first, _) = run(&mut e, t0, Timestamp(t0.0 + 6 * MIN));
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].1.level, 1);
    // route reassigns: a new packet for the next rep with re-based deadlines
    let t1 = Timestamp(t0.0 + 6 * MIN);
    let reassigned = packet(
        "L4",
        "pkt-L4-r1",
        t0,
        t1,
        &[(SlaKind::FirstContact, Timestamp(t1.0 + 5 * MIN))],
        "rep-2",
    );
    e.apply_packet(&reassigned);
    let (second, _) = run(&mut e, t1, Timestamp(t1.0 + 30 * MIN));
    assert_eq!(second.len(), 1, "{second:?}");
    let esc = &second[0].1;
    assert_eq!(esc.level, 2);
    assert_eq!(esc.to, "manager:ae");
    assert_eq!(esc.from_rep_id.as_deref(), Some("rep-2"));
    assert_eq!(esc.packet_id, "pkt-L4-r1");
}

#[test]
fn a_reassigned_packet_supersedes_the_old_clocks() {
    let t0 = samples::T0;
    let mut e = engine();
    let mut p = hot("L5", t0);
    p.sla.push(SlaDeadline {
        kind: SlaKind::Qualification,
        due_at: Timestamp(t0.0 + 240 * MIN),
    });
    e.apply_packet(&p);
    let newer = packet(
        "L5",
        "pkt-L5-r1",
        t0,
        Timestamp(t0.0 + MIN),
        &[(SlaKind::FirstContact, Timestamp(t0.0 + 20 * MIN))],
        "rep-2",
    );
    let out = e.apply_packet(&newer);
    assert_eq!(
        out.iter()
            .filter(|o| matches!(o, Outcome::Superseded { .. }))
            .count(),
        2
    );
    // the old packet arriving again (redelivery) changes nothing
    assert!(e.apply_packet(&p).is_empty());
    let (fired, _) = run(&mut e, t0, Timestamp(t0.0 + 15 * MIN));
    assert!(fired.is_empty(), "old deadline fired: {fired:?}");
}

#[test]
fn a_contact_arriving_late_with_an_earlier_event_time_wins() {
    let t0 = samples::T0;
    let due = Timestamp(t0.0 + 5 * MIN);
    let mut e = engine();
    e.apply_packet(&hot("L6", t0));
    // the timer is past the deadline (inside the allowed lateness) when the event arrives, stamped
    // before the deadline
    let (none, _) = run(&mut e, t0, Timestamp(due.0 + 20_000));
    assert!(none.is_empty());
    let out = e.apply_activity(&activity(
        "a6",
        "L6",
        RepActivityKind::Contacted,
        Timestamp(due.0 - 1_000),
    ));
    assert!(out.contains(&Outcome::Met {
        tier: "HOT".into(),
        kind: SlaKind::FirstContact
    }));
    let (fired, _) = run(
        &mut e,
        Timestamp(due.0 + 20_000),
        Timestamp(due.0 + 60 * MIN),
    );
    assert!(fired.is_empty(), "{fired:?}");
}

#[test]
fn a_contact_arriving_after_the_escalation_with_an_earlier_time_is_counted_and_stops_further_escalation()
 {
    let t0 = samples::T0;
    let due = Timestamp(t0.0 + 5 * MIN);
    let mut e = engine();
    let mut p = hot("L7", t0);
    p.sla.push(SlaDeadline {
        kind: SlaKind::Qualification,
        due_at: Timestamp(t0.0 + 60 * MIN),
    });
    e.apply_packet(&p);
    let (fired, _) = run(&mut e, t0, Timestamp(due.0 + MIN));
    assert_eq!(fired.len(), 1);
    let out = e.apply_activity(&activity(
        "a7",
        "L7",
        RepActivityKind::Qualified,
        Timestamp(due.0 - 1_000),
    ));
    assert!(out.contains(&Outcome::ContestedEscalation {
        tier: "HOT".into(),
        kind: SlaKind::FirstContact
    }));
    // the qualification clock is closed by the same event: no second escalation
    let (more, _) = run(&mut e, Timestamp(due.0 + MIN), Timestamp(t0.0 + 120 * MIN));
    assert!(more.is_empty(), "{more:?}");
}

#[test]
fn a_contact_after_the_deadline_but_before_the_timer_is_a_breach_without_escalation() {
    let t0 = samples::T0;
    let due = Timestamp(t0.0 + 5 * MIN);
    let mut e = engine();
    e.apply_packet(&hot("L8", t0));
    let out = e.apply_activity(&activity(
        "a8",
        "L8",
        RepActivityKind::Contacted,
        Timestamp(due.0 + 10_000),
    ));
    assert!(out.contains(&Outcome::ClosedLate {
        tier: "HOT".into(),
        kind: SlaKind::FirstContact
    }));
    assert!(run(&mut e, t0, Timestamp(due.0 + 60 * MIN)).0.is_empty());
}

#[test]
fn activity_read_before_its_packet_still_closes_the_deadline() {
    let t0 = samples::T0;
    let mut e = engine();
    e.apply_activity(&activity(
        "a9",
        "L9",
        RepActivityKind::Contacted,
        Timestamp(t0.0 + MIN),
    ));
    let out = e.apply_packet(&hot("L9", t0));
    assert!(out.contains(&Outcome::Met {
        tier: "HOT".into(),
        kind: SlaKind::FirstContact
    }));
    assert!(run(&mut e, t0, Timestamp(t0.0 + 60 * MIN)).0.is_empty());
}

#[test]
fn weekend_and_holiday_deadlines_fire_on_the_next_business_morning() {
    let cal = CalendarSettings::default().build().unwrap();
    // (decided, what tier computes for 5 business minutes, a closed-day instant that must stay quiet)
    let cases = [
        // Friday 27 Nov 2026 17:58 CET -> Monday 30 Nov 09:03 CET; quiet on Saturday noon
        (
            "2026-11-27T16:58:00Z",
            "2026-11-30T08:03:00Z",
            "2026-11-28T11:00:00Z",
        ),
        // Thursday 24 Dec 2026 17:58 CET, Friday 25 Dec is Christmas Day -> Monday 28 Dec 09:03 CET
        (
            "2026-12-24T16:58:00Z",
            "2026-12-28T08:03:00Z",
            "2026-12-25T10:00:00Z",
        ),
    ];
    for (i, (decided, expected_due, quiet)) in cases.into_iter().enumerate() {
        let decided = ts(decided);
        let due: Timestamp = cal
            .add_business_time(decided.to_datetime(), Duration::minutes(5))
            .into();
        assert_eq!(
            due,
            ts(expected_due),
            "case {i}: tier's business-time deadline"
        );
        let lead = format!("W{i}");
        let mut e = engine();
        e.apply_packet(&packet(
            &lead,
            &format!("pkt-{lead}"),
            decided,
            decided,
            &[(SlaKind::FirstContact, due)],
            "rep-1",
        ));
        assert!(
            e.due(ts(quiet), &all).0.is_empty(),
            "case {i}: fired on a closed day"
        );
        assert!(
            e.due(Timestamp(due.0 + LATENESS - 1), &all).0.is_empty(),
            "case {i}"
        );
        let (esc, _) = e.due(Timestamp(due.0 + LATENESS), &all);
        assert_eq!(esc.len(), 1, "case {i}");
        // contacted Monday 09:02 instead: 4 business minutes, met
        let mut e = engine();
        e.apply_packet(&packet(
            &lead,
            "p",
            decided,
            decided,
            &[(SlaKind::FirstContact, due)],
            "rep-1",
        ));
        let out = e.apply_activity(&activity(
            "c",
            &lead,
            RepActivityKind::Contacted,
            Timestamp(due.0 - MIN),
        ));
        assert!(
            out.iter().any(|o| matches!(o, Outcome::FirstContact { business_seconds, .. } if *business_seconds == 240.0)),
            "case {i}: {out:?}"
        );
    }
}

#[test]
fn nurture_24h_is_tracked_but_never_escalated() {
    let t0 = samples::T0;
    let mut d = samples::tier_decision();
    d.tier = "NURTURE_24H".into();
    d.handoff = HandoffKind::None;
    d.target_team = "nurture".into();
    d.sla = vec![SlaDeadline {
        kind: SlaKind::FirstContact,
        due_at: Timestamp(t0.0 + 24 * 60 * MIN),
    }];
    d.scored.enriched.lead.lead_id = "N1".into();
    let mut e = engine();
    let out = e.apply_decision(&d);
    assert!(out.contains(&Outcome::Opened {
        tier: "NURTURE_24H".into(),
        kind: SlaKind::FirstContact
    }));
    assert_eq!(
        e.open_counts()[&("NURTURE_24H".to_owned(), SlaKind::FirstContact)],
        1
    );
    // a no-handoff packet is never escalated either
    let mut p = hot("N2", t0);
    p.decision.handoff = HandoffKind::None;
    p.decision.tier = "NURTURE_24H".into();
    e.apply_packet(&p);
    let (fired, outcomes) = run(
        &mut e,
        Timestamp(t0.0 + 24 * 60 * MIN),
        Timestamp(t0.0 + 24 * 60 * MIN + MIN),
    );
    assert!(fired.is_empty(), "{fired:?}");
    let (fired, more) = e.due(Timestamp(t0.0 + 25 * 60 * MIN), &all);
    assert!(fired.is_empty());
    let missed = outcomes
        .iter()
        .chain(more.iter())
        .filter(|o| matches!(o, Outcome::Missed { tier, .. } if tier == "NURTURE_24H"))
        .count();
    assert_eq!(missed, 2);
    // the automated sequence's contact closes it in time on another lead
    let mut d3 = d.clone();
    d3.scored.enriched.lead.lead_id = "N3".into();
    e.apply_decision(&d3);
    let out = e.apply_activity(&activity(
        "n3",
        "N3",
        RepActivityKind::Contacted,
        Timestamp(t0.0 + MIN),
    ));
    assert!(out.contains(&Outcome::Met {
        tier: "NURTURE_24H".into(),
        kind: SlaKind::FirstContact
    }));
}

#[test]
fn replay_fires_nothing_that_was_met_or_already_escalated() {
    let t0 = samples::T0;
    let now = Timestamp(t0.0 + 3 * 60 * MIN); // replaying three hours later
    let mut e = engine();
    // the escalation is read back before its packet (side inputs are replayed concurrently)
    let mut old = samples::sla_escalation();
    old.lead_id = "R1".into();
    old.packet_id = "pkt-R1".into();
    old.sla_kind = SlaKind::FirstContact;
    old.escalated_at = Timestamp(t0.0 + 6 * MIN);
    e.apply_escalation(&old);
    e.apply_packet(&hot("R1", t0));
    // a met one
    e.apply_packet(&hot("R2", t0));
    e.apply_activity(&activity(
        "r2",
        "R2",
        RepActivityKind::Contacted,
        Timestamp(t0.0 + MIN),
    ));
    // one that breached while the watchdog was down and was never escalated: fires at start
    e.apply_packet(&hot("R3", t0));
    let (fired, _) = e.due(now, &all);
    assert_eq!(
        fired.iter().map(|x| x.lead_id.as_str()).collect::<Vec<_>>(),
        ["R3"]
    );
}

#[test]
fn a_deadline_older_than_stale_after_is_counted_not_escalated() {
    let t0 = samples::T0;
    let mut e = engine();
    e.apply_packet(&hot("S1", t0));
    let (fired, out) = e.due(Timestamp(t0.0 + 25 * 60 * MIN), &all);
    assert!(fired.is_empty());
    assert!(out.contains(&Outcome::Expired {
        tier: "HOT".into(),
        kind: SlaKind::FirstContact
    }));
}

#[test]
fn several_clocks_breached_at_once_raise_one_escalation() {
    let t0 = samples::T0;
    let mut e = engine();
    let p = packet(
        "M1",
        "pkt-M1",
        t0,
        t0,
        &[
            (SlaKind::Assignment, t0),
            (SlaKind::FirstContact, Timestamp(t0.0 + 5 * MIN)),
        ],
        "rep-1",
    );
    e.apply_packet(&p);
    // the watchdog was down for 10 minutes: both are due at start
    let (fired, _) = run(
        &mut e,
        Timestamp(t0.0 + 10 * MIN),
        Timestamp(t0.0 + 11 * MIN),
    );
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(fired[0].1.sla_kind, SlaKind::Assignment);
    assert!(
        e.deadlines("M1")
            .iter()
            .all(|d| matches!(d.state, DeadlineState::Escalated { level: 1 }))
    );
}

#[test]
fn only_the_owning_instance_fires() {
    let t0 = samples::T0;
    let mut e = engine();
    e.apply_packet(&hot("O1", t0));
    e.apply_packet(&hot("O2", t0));
    let (fired, _) = e.due(Timestamp(t0.0 + 6 * MIN), &|lead: &str| lead == "O2");
    assert_eq!(
        fired.iter().map(|x| x.lead_id.as_str()).collect::<Vec<_>>(),
        ["O2"]
    );
}

#[test]
fn a_packet_s_own_deadlines_win_and_a_reassigned_packet_breach_goes_to_the_manager() {
    let t0 = samples::T0;
    let mut e = engine();
    // route's reassigned packet (level 1) with re-based deadlines; its decision keeps the old ones
    let mut p = packet(
        "V1",
        "pkt-V1-r1",
        t0,
        t0,
        &[(SlaKind::FirstContact, Timestamp(t0.0 + 5 * MIN))],
        "rep-2",
    );
    p.escalation_level = 1;
    p.sla = vec![SlaDeadline {
        kind: SlaKind::FirstContact,
        due_at: Timestamp(t0.0 + 20 * MIN),
    }];
    e.apply_packet(&p);
    assert!(run(&mut e, t0, Timestamp(t0.0 + 19 * MIN)).0.is_empty());
    let (fired, _) = run(
        &mut e,
        Timestamp(t0.0 + 19 * MIN),
        Timestamp(t0.0 + 21 * MIN),
    );
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].1.level, 2);
    assert_eq!(fired[0].1.to, "manager:ae");
    assert_eq!(fired[0].1.due_at, Timestamp(t0.0 + 20 * MIN));
}
