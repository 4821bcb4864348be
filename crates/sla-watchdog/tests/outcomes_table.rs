//! Table tests of the `sla.outcomes` records the engine decides, with an injected clock (no
//! broker): every outcome kind with its owner, tier and times; escalated, then reassigned, then met
//! by the new owner (the breach stays the first owner's); a contact stamped in time but recorded
//! after the escalation fired (reconciled, before or after the reassigned packet arrives, and
//! nothing escalates further).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use leadflow_events::{
    HandoffKind, HandoffPacket, RepActivity, RepActivityKind, SlaDeadline, SlaEscalation, SlaKind,
    SlaOutcome, SlaOutcomeKind, Timestamp, samples,
};
use leadflow_sla_watchdog::{Engine, EngineRules};
use leadflow_tier::CalendarSettings;

use SlaOutcomeKind::*;

const MIN: i64 = 60_000;
const LATENESS: i64 = 30_000;

fn engine() -> Engine {
    Engine::new(
        EngineRules::default(),
        CalendarSettings::default().build().unwrap(),
    )
}

fn all(_: &str) -> bool {
    true
}

/// A packet of `lead` held by `owner`, created at `created`, with these deadlines.
fn packet(
    lead: &str,
    packet_id: &str,
    created: Timestamp,
    sla: &[(SlaKind, Timestamp)],
    owner: &str,
    level: i32,
) -> HandoffPacket {
    let mut p = samples::handoff_packet();
    p.packet_id = packet_id.into();
    p.decision.scored.enriched.lead.lead_id = lead.into();
    p.decision.decided_at = samples::T0;
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
    p.escalation_level = level;
    p.assignee.as_mut().unwrap().rep_id = owner.into();
    p.sla = p.decision.sla.clone();
    p
}

fn contact(id: &str, lead: &str, rep: &str, at: Timestamp) -> RepActivity {
    RepActivity {
        activity_id: id.into(),
        lead_id: lead.into(),
        packet_id: None,
        rep_id: rep.into(),
        kind: RepActivityKind::Contacted,
        reason: None,
        reassigned_to: None,
        occurred_at: at,
    }
}

/// Runs the clock from `from` to `to` in 200 ms ticks, acknowledging every escalation raised.
fn run(e: &mut Engine, from: Timestamp, to: Timestamp) -> Vec<SlaEscalation> {
    let mut fired = Vec::new();
    let mut now = from;
    while now <= to {
        let (esc, _) = e.due(now, &all);
        for x in esc {
            e.apply_escalation(&x);
            fired.push(x);
        }
        now = Timestamp(now.0 + 200);
    }
    fired
}

/// (packet, kind, outcome, owner) of each record, in order.
fn summary(records: &[SlaOutcome]) -> Vec<(String, SlaKind, SlaOutcomeKind, Option<String>)> {
    records
        .iter()
        .map(|o| (o.packet_id.clone(), o.sla_kind, o.outcome, o.owner.clone()))
        .collect()
}

fn row(
    packet: &str,
    kind: SlaKind,
    outcome: SlaOutcomeKind,
    owner: Option<&str>,
) -> (String, SlaKind, SlaOutcomeKind, Option<String>) {
    (packet.into(), kind, outcome, owner.map(str::to_owned))
}

const FC: SlaKind = SlaKind::FirstContact;

#[test]
fn every_outcome_is_recorded_with_its_owner_tier_and_times() {
    let t0 = samples::T0;
    let due = Timestamp(t0.0 + 5 * MIN);
    struct Case {
        name: &'static str,
        /// Minutes after t0 of a contact by rep-1, if any.
        contact_at: Option<i64>,
        /// Minutes after t0 when the clock stops running.
        run_to: i64,
        rules: EngineRules,
        want: Vec<SlaOutcomeKind>,
    }
    let stale = EngineRules {
        stale_after_ms: MIN,
        ..EngineRules::default()
    };
    let cases = [
        Case {
            name: "met: contact before the deadline",
            contact_at: Some(4),
            run_to: 60,
            rules: EngineRules::default(),
            want: vec![Opened, Met],
        },
        Case {
            name: "closed late: contact after the deadline, before the timer",
            contact_at: Some(5),
            run_to: 60,
            rules: EngineRules::default(),
            want: vec![Opened, ClosedLate],
        },
        Case {
            name: "escalated: nobody acted",
            contact_at: None,
            run_to: 60,
            rules: EngineRules::default(),
            want: vec![Opened, Escalated],
        },
        Case {
            name: "expired: too old when first due",
            contact_at: None,
            run_to: 60,
            rules: stale,
            want: vec![Opened, Expired],
        },
    ];
    for c in cases {
        let stale_case = c.rules.stale_after_ms == MIN;
        let mut e = Engine::new(c.rules, CalendarSettings::default().build().unwrap());
        e.apply_packet(&packet("L", "p1", t0, &[(FC, due)], "rep-1", 0));
        if let Some(m) = c.contact_at {
            // recorded at the deadline (inside the allowed lateness), stamped at `m`
            run(&mut e, t0, due);
            e.apply_activity(&contact("a", "L", "rep-1", Timestamp(t0.0 + m * MIN + 1)));
        }
        let from = if stale_case {
            // the watchdog first sees it an hour late
            Timestamp(t0.0 + 60 * MIN)
        } else {
            t0
        };
        run(&mut e, from, Timestamp(t0.0 + c.run_to * MIN));
        let records = e.take_journal();
        let kinds: Vec<SlaOutcomeKind> = records.iter().map(|o| o.outcome).collect();
        assert_eq!(kinds, c.want, "{}", c.name);
        let last = records.last().unwrap();
        assert_eq!(last.owner.as_deref(), Some("rep-1"), "{}", c.name);
        assert_eq!(last.tier, "HOT");
        assert_eq!(last.due_at, due);
        assert_eq!(last.breach, last.outcome != Met, "{}", c.name);
        assert_eq!(
            last.outcome_id,
            format!("p1:first_contact:{}", last.outcome.symbol())
        );
        if last.outcome == Escalated {
            assert_eq!(last.decided_at, Timestamp(due.0 + LATENESS));
            assert_eq!(last.escalation_id.as_deref(), Some("p1:first_contact:L1"));
        }
    }
}

#[test]
fn superseded_and_missed_are_recorded() {
    let t0 = samples::T0;
    let mut e = engine();
    e.apply_packet(&packet(
        "L",
        "p1",
        t0,
        &[(FC, Timestamp(t0.0 + 5 * MIN))],
        "rep-1",
        0,
    ));
    e.apply_packet(&packet(
        "L",
        "p2",
        Timestamp(t0.0 + MIN),
        &[(FC, Timestamp(t0.0 + 20 * MIN))],
        "rep-2",
        1,
    ));
    let mut nurture = packet(
        "N",
        "pn",
        t0,
        &[(FC, Timestamp(t0.0 + 5 * MIN))],
        "rep-3",
        0,
    );
    nurture.decision.handoff = HandoffKind::None;
    e.apply_packet(&nurture);
    run(&mut e, t0, Timestamp(t0.0 + 6 * MIN));
    assert_eq!(
        summary(&e.take_journal()),
        [
            row("p1", FC, Opened, Some("rep-1")),
            row("p1", FC, Superseded, Some("rep-1")),
            row("p2", FC, Opened, Some("rep-2")),
            row("pn", FC, Opened, Some("rep-3")),
            row("pn", FC, Missed, Some("rep-3")),
        ]
    );
}

#[test]
fn escalated_then_reassigned_then_met_by_the_new_owner() {
    let t0 = samples::T0;
    let due = Timestamp(t0.0 + 5 * MIN);
    let mut e = engine();
    e.apply_packet(&packet("L", "p1", t0, &[(FC, due)], "rep-1", 0));
    let fired = run(&mut e, t0, Timestamp(due.0 + MIN));
    assert_eq!(fired.len(), 1);
    // route reassigns: a new packet for rep-2 with a re-based deadline
    let due2 = Timestamp(due.0 + 20 * MIN);
    e.apply_packet(&packet(
        "L",
        "p2",
        Timestamp(due.0 + LATENESS + 500),
        &[(FC, due2)],
        "rep-2",
        1,
    ));
    e.apply_activity(&contact("a2", "L", "rep-2", Timestamp(due2.0 - MIN)));
    assert!(run(&mut e, Timestamp(due.0 + MIN), Timestamp(due2.0 + 60 * MIN)).is_empty());
    let records = e.take_journal();
    assert_eq!(
        summary(&records),
        [
            row("p1", FC, Opened, Some("rep-1")),
            row("p1", FC, Escalated, Some("rep-1")),
            row("p2", FC, Opened, Some("rep-2")),
            row("p2", FC, Met, Some("rep-2")),
        ],
        "the breach is rep-1's, the met deadline rep-2's"
    );
    assert!(records[1].breach && !records[3].breach);
    assert_eq!(records[2].level, 1, "the reassigned packet's level");
}

#[test]
fn a_contact_stamped_in_time_recorded_after_the_escalation_is_reconciled() {
    let t0 = samples::T0;
    let due = Timestamp(t0.0 + 5 * MIN);
    let due2 = Timestamp(due.0 + 20 * MIN);
    // the reassigned packet arrives before the late contact, or after it
    for reassigned_first in [true, false] {
        let mut e = engine();
        e.apply_packet(&packet("L", "p1", t0, &[(FC, due)], "rep-1", 0));
        assert_eq!(run(&mut e, t0, Timestamp(due.0 + MIN)).len(), 1);
        let p2 = packet(
            "L",
            "p2",
            Timestamp(due.0 + LATENESS + 500),
            &[(FC, due2)],
            "rep-2",
            1,
        );
        let late = contact("a1", "L", "rep-1", Timestamp(due.0 - MIN));
        if reassigned_first {
            e.apply_packet(&p2);
            e.apply_activity(&late);
        } else {
            e.apply_activity(&late);
            e.apply_packet(&p2);
        }
        let more = run(
            &mut e,
            Timestamp(due.0 + MIN),
            Timestamp(due2.0 + 120 * MIN),
        );
        assert!(
            more.is_empty(),
            "nothing escalates further ({reassigned_first}): {more:?}"
        );
        let records = e.take_journal();
        let reconciled: Vec<&SlaOutcome> =
            records.iter().filter(|o| o.outcome == Reconciled).collect();
        assert_eq!(reconciled.len(), 1, "{:?}", summary(&records));
        let r = reconciled[0];
        assert_eq!(r.packet_id, "p1");
        assert_eq!(r.owner.as_deref(), Some("rep-1"));
        assert!(!r.breach, "reported met");
        assert_eq!(r.event_at, Some(Timestamp(due.0 - MIN)));
        assert_eq!(r.escalation_id.as_deref(), Some("p1:first_contact:L1"));
        // the new owner's clock is closed by the same contact: no action needed from rep-2
        assert!(
            records
                .iter()
                .any(|o| o.packet_id == "p2" && o.outcome == Met),
            "{:?}",
            summary(&records)
        );
        // the deadline itself is met now
        assert!(
            !records
                .iter()
                .any(|o| o.packet_id == "p2" && o.outcome == Escalated)
        );
    }
}
