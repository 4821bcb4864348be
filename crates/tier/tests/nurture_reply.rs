//! Rule N1 of POLICY.md as a table: an enrolled lead that replies, or sends a form again, within its
//! sequence's window is captured for the WARM queue; after the window, before the enrolment, for a
//! negative persona or for a lead nobody enrolled, it stays where its band puts it.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use leadflow_events::{
    HandoffKind, HandoffTrigger, LeadEventType, LeadLevel, Persona, ScoredLead, SlaKind, Timestamp,
    samples,
};
use leadflow_tier::{Enrolment, TierSettings, decide_with};

const HOUR: i64 = 3_600_000;

fn ts(rfc3339: &str) -> Timestamp {
    Timestamp::parse_rfc3339(rfc3339).unwrap()
}

/// Enrolled on Tuesday 1 December 2026 at 10:00 Paris time.
fn enrolled(tier: &str) -> Enrolment {
    Enrolment {
        tier: tier.into(),
        enrolled_at: ts("2026-12-01T09:00:00Z"),
    }
}

/// A lead scored `score`, its event `hours` after the enrolment, of `event_type`; no chat (so no
/// chat trigger), a confirmed-free profile.
fn event(score: i32, hours: f64, event_type: LeadEventType, update: bool) -> ScoredLead {
    let mut s = samples::scored_lead();
    s.score = score;
    s.enriched.lead.chat = None;
    s.enriched.lead.event_type = event_type;
    s.enriched.is_update = update;
    s.enriched.lead.activities.clear();
    s.enriched.lead.occurred_at =
        Timestamp(ts("2026-12-01T09:00:00Z").0 + (hours * HOUR as f64) as i64);
    s
}

#[test]
fn a_reply_within_the_window_brings_a_human_and_otherwise_the_lead_stays_in_nurture() {
    let (policy, calendar) = TierSettings::default().build().unwrap();
    use HandoffKind::{Capture, None as NoHandoff};
    use LeadEventType::{EmailReply, FormSubmission, IntentSurge};
    // (case, score, hours after enrolment, event type, is_update, enrolment tier or none) →
    // (handoff, trigger, team)
    type Case<'a> = (
        &'a str,
        i32,
        f64,
        LeadEventType,
        bool,
        Option<&'a str>,
        HandoffKind,
        HandoffTrigger,
        &'a str,
    );
    let table: [Case; 11] = [
        (
            "NURTURE_24H reply after 2 h",
            60,
            2.0,
            EmailReply,
            true,
            Some("NURTURE_24H"),
            Capture,
            HandoffTrigger::NurtureReply,
            "sdr",
        ),
        (
            "NURTURE_24H reply at 23.9 h",
            60,
            23.9,
            EmailReply,
            true,
            Some("NURTURE_24H"),
            Capture,
            HandoffTrigger::NurtureReply,
            "sdr",
        ),
        (
            "NURTURE_24H reply at 24.5 h: too late",
            60,
            24.5,
            EmailReply,
            true,
            Some("NURTURE_24H"),
            NoHandoff,
            HandoffTrigger::None,
            "nurture",
        ),
        (
            "NURTURE reply on day 6 (168 h window)",
            30,
            6.0 * 24.0,
            EmailReply,
            true,
            Some("NURTURE"),
            Capture,
            HandoffTrigger::NurtureReply,
            "sdr",
        ),
        (
            "NURTURE reply on day 8",
            30,
            8.0 * 24.0,
            EmailReply,
            true,
            Some("NURTURE"),
            NoHandoff,
            HandoffTrigger::None,
            "nurture",
        ),
        (
            "form sent again within the window",
            55,
            3.0,
            FormSubmission,
            true,
            Some("NURTURE_24H"),
            Capture,
            HandoffTrigger::NurtureReply,
            "sdr",
        ),
        (
            "an intent surge is not a reply",
            55,
            3.0,
            IntentSurge,
            true,
            Some("NURTURE_24H"),
            NoHandoff,
            HandoffTrigger::None,
            "nurture",
        ),
        (
            "a reply of a lead nobody enrolled",
            55,
            3.0,
            EmailReply,
            false,
            None,
            NoHandoff,
            HandoffTrigger::None,
            "nurture",
        ),
        (
            "a reply older than the enrolment",
            55,
            -1.0,
            EmailReply,
            true,
            Some("NURTURE_24H"),
            NoHandoff,
            HandoffTrigger::None,
            "nurture",
        ),
        (
            "a reply that lifts the score into WARM: the band's own capture",
            75,
            2.0,
            EmailReply,
            true,
            Some("NURTURE_24H"),
            Capture,
            HandoffTrigger::ScoreBand,
            "sdr",
        ),
        (
            "a tier that is not a nurture band enrols nothing",
            60,
            2.0,
            EmailReply,
            true,
            Some("WARM"),
            NoHandoff,
            HandoffTrigger::None,
            "nurture",
        ),
    ];
    for (case, score, hours, ty, update, tier, handoff, trigger, team) in table {
        let e = tier.map(enrolled);
        let d = decide_with(
            event(score, hours, ty, update),
            &policy,
            &calendar,
            e.as_ref(),
        );
        assert_eq!(
            (d.handoff, d.trigger, d.target_team.as_str()),
            (handoff, trigger, team),
            "{case}: {:#?}",
            d.reasons
        );
        if trigger == HandoffTrigger::NurtureReply {
            assert_eq!(d.lead_level, LeadLevel::Warm, "{case}");
            // WARM's queue: first contact within 4 business hours
            let first = d
                .sla
                .iter()
                .find(|s| s.kind == SlaKind::FirstContact)
                .unwrap();
            assert!(first.due_at > d.decided_at, "{case}");
            assert!(
                d.reasons
                    .iter()
                    .any(|r| r.contains("within its") && r.contains("capture handoff to sdr")),
                "{case}: {:?}",
                d.reasons
            );
        }
    }
}

#[test]
fn the_reason_says_why_a_late_reply_stays_in_nurture() {
    let (policy, calendar) = TierSettings::default().build().unwrap();
    let e = enrolled("NURTURE_24H");
    let d = decide_with(
        event(60, 30.0, LeadEventType::EmailReply, true),
        &policy,
        &calendar,
        Some(&e),
    );
    assert_eq!(d.handoff, HandoffKind::None);
    assert!(
        d.reasons.iter().any(|r| r
            == "replied to the nurture email 30.0 h after enrolment in the NURTURE_24H sequence, outside its 24 h window: stays in nurture"),
        "{:?}",
        d.reasons
    );
}

#[test]
fn a_negative_persona_that_replies_stays_in_nurture() {
    let (policy, calendar) = TierSettings::default().build().unwrap();
    let e = enrolled("NURTURE_24H");
    let mut s = event(60, 1.0, LeadEventType::EmailReply, true);
    s.enriched.persona = Persona::N1;
    let d = decide_with(s, &policy, &calendar, Some(&e));
    assert_eq!(d.handoff, HandoffKind::None, "{:?}", d.reasons);
    assert!(
        d.reasons.iter().any(|r| r.contains("no human: persona N1")),
        "{:?}",
        d.reasons
    );
}

#[test]
fn the_windows_are_settings() {
    let mut settings = TierSettings::default();
    settings.nurture_reply.sequence_window_hours = 48;
    let (policy, calendar) = settings.build().unwrap();
    let e = enrolled("NURTURE_24H");
    let d = decide_with(
        event(60, 30.0, LeadEventType::EmailReply, true),
        &policy,
        &calendar,
        Some(&e),
    );
    assert_eq!(d.trigger, HandoffTrigger::NurtureReply, "{:?}", d.reasons);
    settings.nurture_reply.nurture_window_hours = 0;
    assert!(
        settings
            .build()
            .unwrap_err()
            .0
            .contains("nurture_reply.nurture_window_hours must be at least 1")
    );
}
