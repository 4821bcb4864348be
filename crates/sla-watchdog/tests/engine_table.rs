//! Table tests of the timer engine with an injected clock (no broker): met, breached, breached twice,
//! contacted late with an earlier event time, weekend and holiday deadlines, NURTURE_24H never
//! escalated, NURTURE_24H's first touch met by nurture's `ENROLLED` activity (and a human's clocks
//! not), replay without a storm.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use chrono::Duration;
use leadflow_events::{
    HandoffKind, HandoffPacket, HandoffTrigger, RepActivity, RepActivityKind, SlaDeadline,
    SlaEscalation, SlaKind, SlaOutcome, SlaOutcomeKind, TierDecision, Timestamp, samples,
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

// ---------------------------------------------------------------------------------------------
// NURTURE_24H's automated first touch: nurture's `ENROLLED` activity (crates/nurture/RULES.md E4)
// through the engine's activity path (RULES.md, "What closes a deadline").

const HOUR: i64 = 60 * MIN;

/// A NURTURE_24H decision of `lead` as tier emits it (no handoff: nurture's automated sequence,
/// team `nurture`), decided at `t0`, with these deadlines (tier's: first contact 24 h).
fn nurture_24h(lead: &str, t0: Timestamp, sla: &[(SlaKind, Timestamp)]) -> TierDecision {
    let mut d = samples::tier_decision();
    d.tier = "NURTURE_24H".into();
    d.handoff = HandoffKind::None;
    d.trigger = HandoffTrigger::None;
    d.target_team = "nurture".into();
    d.decided_at = t0;
    d.sla = sla
        .iter()
        .map(|(kind, due_at)| SlaDeadline {
            kind: *kind,
            due_at: *due_at,
        })
        .collect();
    d.scored.enriched.lead.lead_id = lead.into();
    d
}

/// The id the watchdog gives the clocks of a no-handoff decision (nurture's receipt and activity
/// carry it as their `packet_id`).
fn sequence_id(lead: &str, decided_at: Timestamp) -> String {
    format!("sequence:{lead}:{}", decided_at.0)
}

/// nurture's `ENROLLED` activity (crates/nurture/RULES.md E4): rep id `automation`, `reason` = the
/// tier, the decision's sequence id, the time the enrolment happened.
fn enrolment(lead: &str, decided_at: Timestamp, at: Timestamp) -> RepActivity {
    RepActivity {
        activity_id: format!("enrol-{lead}-{}", decided_at.0),
        lead_id: lead.into(),
        packet_id: Some(sequence_id(lead, decided_at)),
        rep_id: "automation".into(),
        kind: RepActivityKind::Enrolled,
        reason: Some("NURTURE_24H".into()),
        reassigned_to: None,
        occurred_at: at,
    }
}

/// What a `sla.outcomes` record says (OPENED left out): packet, kind, outcome, owner, breach,
/// event time.
type Settled = (
    String,
    SlaKind,
    SlaOutcomeKind,
    Option<String>,
    bool,
    Option<Timestamp>,
);

fn settled(records: &[SlaOutcome]) -> Vec<Settled> {
    records
        .iter()
        .filter(|o| o.outcome != SlaOutcomeKind::Opened)
        .map(|o| {
            (
                o.packet_id.clone(),
                o.sla_kind,
                o.outcome,
                o.owner.clone(),
                o.breach,
                o.event_at,
            )
        })
        .collect()
}

/// Ticks the engine's clock at `now` (the timer task's round), acknowledging what it raises.
fn tick(e: &mut Engine, now: Timestamp) -> (Vec<SlaEscalation>, Vec<Outcome>) {
    let (esc, mut out) = e.due(now, &all);
    for x in &esc {
        out.extend(e.apply_escalation(x));
    }
    (esc, out)
}

#[test]
fn an_enrolment_settles_the_nurture_24h_first_touch_by_its_event_time() {
    use SlaOutcomeKind::{ClosedLate, Met, Missed};
    let t0 = samples::T0;
    let due = Timestamp(t0.0 + 24 * HOUR);
    let fires = Timestamp(due.0 + LATENESS);
    struct Case {
        name: &'static str,
        /// The enrolment: (its event time, when the watchdog reads it), ms after t0; none: nurture
        /// never enrolled the lead (no email: a MISSING_FIELD exception for marketing-ops).
        enrolled: Option<(i64, i64)>,
        /// The records after OPENED: (outcome, event time of the closing enrolment, ms after t0).
        want: Vec<(SlaOutcomeKind, Option<i64>)>,
        /// What the activity path reports when the enrolment is applied.
        on_enrolment: Option<Outcome>,
    }
    let met = |kind| Outcome::Met {
        tier: "NURTURE_24H".into(),
        kind,
    };
    let d = due.0 - t0.0;
    let cases = [
        Case {
            name: "enrolled a second after the decision: met",
            enrolled: Some((1_000, 1_000)),
            want: vec![(Met, Some(1_000))],
            on_enrolment: Some(met(SlaKind::FirstContact)),
        },
        Case {
            name: "enrolled at the deadline exactly: met",
            enrolled: Some((d, d)),
            want: vec![(Met, Some(d))],
            on_enrolment: Some(met(SlaKind::FirstContact)),
        },
        Case {
            name: "enrolled after the deadline, before the timer fired: closed late (a breach)",
            enrolled: Some((d + 10_000, d + 10_000)),
            want: vec![(ClosedLate, Some(d + 10_000))],
            on_enrolment: Some(Outcome::ClosedLate {
                tier: "NURTURE_24H".into(),
                kind: SlaKind::FirstContact,
            }),
        },
        Case {
            name: "never enrolled: missed when the timer fires",
            enrolled: None,
            want: vec![(Missed, None)],
            on_enrolment: None,
        },
        Case {
            name: "enrolled after the timer fired: stays missed, the late enrolment adds nothing",
            enrolled: Some((d + 5 * MIN, d + 5 * MIN)),
            want: vec![(Missed, None)],
            on_enrolment: None,
        },
        Case {
            name: "enrolled in time, read after the timer fired: met after all",
            enrolled: Some((d - 1_000, d + 5 * MIN)),
            want: vec![(Missed, None), (Met, Some(d - 1_000))],
            on_enrolment: Some(Outcome::ContestedEscalation {
                tier: "NURTURE_24H".into(),
                kind: SlaKind::FirstContact,
            }),
        },
    ];
    for c in cases {
        let name = c.name;
        let lead = "N-enrol";
        let seq = sequence_id(lead, t0);
        let mut e = engine();
        e.apply_decision(&nurture_24h(lead, t0, &[(SlaKind::FirstContact, due)]));
        let opened = e.take_journal();
        assert_eq!(opened.len(), 1, "{name}: {opened:?}");
        assert_eq!(opened[0].outcome, SlaOutcomeKind::Opened, "{name}");
        assert_eq!(opened[0].packet_id, seq, "{name}");
        assert_eq!(
            opened[0].owner, None,
            "{name}: nobody holds an automated sequence"
        );
        let mut escalations = Vec::new();
        if let Some((at, read_at)) = c.enrolled {
            // the timer has run up to the moment the enrolment is read (its rounds at the firing
            // time and then)
            let read = Timestamp(t0.0 + read_at);
            for now in [fires, read].into_iter().filter(|now| *now <= read) {
                let (esc, _) = tick(&mut e, now);
                escalations.extend(esc);
            }
            let out = e.apply_activity(&enrolment(lead, t0, Timestamp(t0.0 + at)));
            let closed: Vec<&Outcome> = out
                .iter()
                .filter(|o| !matches!(o, Outcome::FirstContact { .. }))
                .collect();
            match &c.on_enrolment {
                Some(want) => assert_eq!(closed, [want], "{name}"),
                None => assert!(closed.is_empty(), "{name}: {closed:?}"),
            }
        }
        for now in [Timestamp(fires.0 - 1), fires, Timestamp(due.0 + HOUR)] {
            let (esc, _) = tick(&mut e, now);
            escalations.extend(esc);
        }
        assert!(
            escalations.is_empty(),
            "{name}: never escalated: {escalations:?}"
        );
        let want: Vec<Settled> = c
            .want
            .iter()
            .map(|(outcome, at)| {
                (
                    seq.clone(),
                    SlaKind::FirstContact,
                    *outcome,
                    None,
                    outcome.is_breach(),
                    at.map(|ms| Timestamp(t0.0 + ms)),
                )
            })
            .collect();
        let journal = e.take_journal();
        assert_eq!(settled(&journal), want, "{name}");
        // a MISSED is decided when the timer fires (due + allowed lateness), never before
        for r in journal.iter().filter(|r| r.outcome == Missed) {
            assert_eq!(r.decided_at, fires, "{name}");
            assert_eq!(
                r.outcome_id,
                format!("{seq}:first_contact:MISSED"),
                "{name}"
            );
        }
        assert_eq!(
            e.open_counts()
                .get(&("NURTURE_24H".to_owned(), SlaKind::FirstContact)),
            Some(&0),
            "{name}"
        );
    }
}

#[test]
fn an_enrolment_read_before_its_decision_still_meets_it() {
    // the watchdog replays leads.tiered and handoff.activity concurrently: nurture's enrolment can be
    // read before the decision it answers
    let t0 = samples::T0;
    let due = Timestamp(t0.0 + 24 * HOUR);
    let lead = "N-early";
    let at = Timestamp(t0.0 + 800);
    let mut e = engine();
    assert!(e.apply_activity(&enrolment(lead, t0, at)).is_empty());
    let out = e.apply_decision(&nurture_24h(lead, t0, &[(SlaKind::FirstContact, due)]));
    assert!(
        out.contains(&Outcome::Met {
            tier: "NURTURE_24H".into(),
            kind: SlaKind::FirstContact
        }),
        "{out:?}"
    );
    let (esc, missed) = tick(&mut e, Timestamp(due.0 + LATENESS));
    assert!(esc.is_empty() && missed.is_empty(), "{esc:?} {missed:?}");
    let records: Vec<(SlaOutcomeKind, Option<Timestamp>)> = e
        .take_journal()
        .into_iter()
        .map(|o| (o.outcome, o.event_at))
        .collect();
    assert_eq!(
        records,
        [
            (SlaOutcomeKind::Opened, None),
            (SlaOutcomeKind::Met, Some(at))
        ]
    );
}

#[test]
fn an_enrolment_closes_the_assignment_and_first_contact_of_a_no_handoff_decision_not_its_qualification()
 {
    let t0 = samples::T0;
    let mut e = engine();
    let sla = [
        (SlaKind::Assignment, Timestamp(t0.0 + HOUR)),
        (SlaKind::FirstContact, Timestamp(t0.0 + 24 * HOUR)),
        (SlaKind::Qualification, Timestamp(t0.0 + 48 * HOUR)),
    ];
    e.apply_decision(&nurture_24h("N-kinds", t0, &sla));
    e.take_journal();
    let at = Timestamp(t0.0 + 2_000);
    e.apply_activity(&enrolment("N-kinds", t0, at));
    let seq = sequence_id("N-kinds", t0);
    assert_eq!(
        settled(&e.take_journal()),
        [
            (
                seq.clone(),
                SlaKind::Assignment,
                SlaOutcomeKind::Met,
                None,
                false,
                Some(at)
            ),
            (
                seq.clone(),
                SlaKind::FirstContact,
                SlaOutcomeKind::Met,
                None,
                false,
                Some(at)
            ),
        ]
    );
    // qualifying the lead is not the automation's: that clock runs on (and is missed)
    let (esc, out) = tick(&mut e, Timestamp(t0.0 + 49 * HOUR));
    assert!(esc.is_empty());
    assert_eq!(
        out,
        [Outcome::Missed {
            tier: "NURTURE_24H".into(),
            kind: SlaKind::Qualification
        }]
    );
}

#[test]
fn a_nurture_24h_decision_never_enrolled_is_missed_and_charged_to_automation() {
    // two NURTURE_24H decisions; nurture enrols the first and cannot enrol the second (no email:
    // a MISSING_FIELD exception, crates/nurture/RULES.md E3)
    let t0 = samples::T0;
    let due = Timestamp(t0.0 + 24 * HOUR);
    let mut e = engine();
    for lead in ["N-ok", "N-no-email"] {
        e.apply_decision(&nurture_24h(lead, t0, &[(SlaKind::FirstContact, due)]));
    }
    e.apply_activity(&enrolment("N-ok", t0, Timestamp(t0.0 + 1_500)));
    let (esc, out) = tick(&mut e, Timestamp(due.0 + LATENESS));
    assert!(esc.is_empty(), "an automated sequence is never escalated");
    assert_eq!(
        out,
        [Outcome::Missed {
            tier: "NURTURE_24H".into(),
            kind: SlaKind::FirstContact
        }]
    );
    let journal = e.take_journal();
    let decided: Vec<(&str, SlaOutcomeKind, Option<&str>, bool)> = journal
        .iter()
        .filter(|o| o.outcome != SlaOutcomeKind::Opened)
        .map(|o| (o.lead_id.as_str(), o.outcome, o.owner.as_deref(), o.breach))
        .collect();
    assert_eq!(
        decided,
        [
            ("N-ok", SlaOutcomeKind::Met, None, false),
            ("N-no-email", SlaOutcomeKind::Missed, None, true),
        ]
    );
    // the report charges a deadline nobody held on a never-escalated decision to `automation`
    // (crates/cli/src/sla_report.rs): no owner, not escalatable
    let mut views = e.snapshot();
    views.sort_by(|a, b| a.lead_id.cmp(&b.lead_id));
    let views: Vec<(&str, Option<&str>, bool, DeadlineState)> = views
        .iter()
        .map(|v| {
            (
                v.lead_id.as_str(),
                v.owner.as_deref(),
                v.escalatable,
                v.deadline.state,
            )
        })
        .collect();
    assert_eq!(
        views,
        [
            ("N-no-email", None, false, DeadlineState::Missed),
            (
                "N-ok",
                None,
                false,
                DeadlineState::Met {
                    at: Timestamp(t0.0 + 1_500)
                }
            ),
        ]
    );
}

#[test]
fn an_enrolment_does_not_close_a_human_s_clocks() {
    let t0 = samples::T0;
    let due = Timestamp(t0.0 + 5 * MIN);
    // (case, whether the enrolment is read before the human's packet)
    for (name, enrolment_first) in [
        ("enrolment read after the packet", false),
        ("enrolment read before the packet", true),
    ] {
        let mut e = engine();
        let lead = "H-enrol";
        // the lead was also enrolled in a sequence (an earlier nurture decision) a minute in
        let enrolled = enrolment(lead, Timestamp(t0.0 - HOUR), Timestamp(t0.0 + MIN));
        let mut out = Vec::new();
        if enrolment_first {
            out.extend(e.apply_activity(&enrolled));
            out.extend(e.apply_packet(&hot(lead, t0)));
        } else {
            out.extend(e.apply_packet(&hot(lead, t0)));
            out.extend(e.apply_activity(&enrolled));
        }
        assert!(
            !out.iter().any(|o| matches!(
                o,
                Outcome::Met { .. } | Outcome::ClosedLate { .. } | Outcome::FirstContact { .. }
            )),
            "{name}: {out:?}"
        );
        assert_eq!(e.deadlines(lead)[0].state, DeadlineState::Open, "{name}");
        // nobody called: the human's deadline escalates as any other
        let (esc, _) = tick(&mut e, Timestamp(due.0 + LATENESS));
        assert_eq!(esc.len(), 1, "{name}");
        assert_eq!(esc[0].level, 1, "{name}");
        assert_eq!(esc[0].from_rep_id.as_deref(), Some("rep-1"), "{name}");
        assert_eq!(esc[0].to, "pool:ae", "{name}");
        let escalated: Vec<(SlaOutcomeKind, Option<String>)> = e
            .take_journal()
            .into_iter()
            .filter(|o| o.outcome != SlaOutcomeKind::Opened)
            .map(|o| (o.outcome, o.owner))
            .collect();
        assert_eq!(
            escalated,
            [(SlaOutcomeKind::Escalated, Some("rep-1".to_owned()))],
            "{name}"
        );
    }
}

#[test]
fn a_nurtured_lead_that_replied_keeps_the_human_s_clocks_running() {
    // NURTURE_24H's sequence met by the enrolment; the lead replies two hours later and tier hands it
    // to a human (trigger NURTURE_REPLY, tier POLICY.md N1): the enrolment does not close the new
    // owner's first contact
    let t0 = samples::T0;
    let lead = "N-replied";
    let mut e = engine();
    e.apply_decision(&nurture_24h(
        lead,
        t0,
        &[(SlaKind::FirstContact, Timestamp(t0.0 + 24 * HOUR))],
    ));
    e.apply_activity(&enrolment(lead, t0, Timestamp(t0.0 + 1_000)));
    let t1 = Timestamp(t0.0 + 2 * HOUR);
    let due = Timestamp(t1.0 + 4 * HOUR);
    let mut p = packet(
        lead,
        "pkt-N-replied",
        t1,
        t1,
        &[(SlaKind::FirstContact, due)],
        "sdr-1",
    );
    p.decision.tier = "NURTURE_24H".into();
    p.decision.handoff = HandoffKind::Capture;
    p.decision.trigger = HandoffTrigger::NurtureReply;
    p.decision.target_team = "sdr".into();
    let out = e.apply_packet(&p);
    assert!(
        !out.iter()
            .any(|o| matches!(o, Outcome::Met { .. } | Outcome::ClosedLate { .. })),
        "{out:?}"
    );
    let (esc, _) = tick(&mut e, Timestamp(due.0 + LATENESS));
    assert_eq!(esc.len(), 1, "{esc:?}");
    assert_eq!(esc[0].from_rep_id.as_deref(), Some("sdr-1"));
    assert_eq!(esc[0].packet_id, "pkt-N-replied");
    let records: Vec<(String, SlaOutcomeKind, Option<String>)> = e
        .take_journal()
        .into_iter()
        .filter(|o| o.outcome != SlaOutcomeKind::Opened)
        .map(|o| (o.packet_id, o.outcome, o.owner))
        .collect();
    assert_eq!(
        records,
        [
            // the automated first touch stays met (a settled clock is not superseded)
            (sequence_id(lead, t0), SlaOutcomeKind::Met, None),
            (
                "pkt-N-replied".to_owned(),
                SlaOutcomeKind::Escalated,
                Some("sdr-1".to_owned())
            ),
        ]
    );
}
