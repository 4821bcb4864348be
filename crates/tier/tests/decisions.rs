//! Table-driven tests of the whole decision: every rule of POLICY.md, with the edges the
//! issue names (Friday 17:59, 16:30 arrivals, holidays, negative personas, low confidence, DST,
//! weekends, early mornings, the hql-mql SLAs).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use leadflow_events::{
    HandoffKind, HandoffTrigger, LeadLevel, OutOfScopeCategory, Persona, ScoredLead, SlaKind,
    TierDecision, Timestamp, samples,
};
use leadflow_tier::{PolicyPreset, TierSettings, decide};

use HandoffKind::{Capture, Escalation};
use HandoffTrigger as T;
use SlaKind::{Assignment, FirstContact, Qualification};

fn ts(rfc3339: &str) -> Timestamp {
    Timestamp::parse_rfc3339(rfc3339).unwrap()
}

/// The sample lead, at `at`, with `score`, and with authority not confirmed (so no hot-lead trigger
/// unless a case adds it back).
fn lead(score: i32, at: &str) -> ScoredLead {
    let mut s = samples::scored_lead();
    s.score = score;
    s.enriched.lead.occurred_at = ts(at);
    s.enriched
        .lead
        .chat
        .as_mut()
        .unwrap()
        .qualification
        .authority
        .confirmed = false;
    s
}

fn hot(mut s: ScoredLead) -> ScoredLead {
    s.enriched
        .lead
        .chat
        .as_mut()
        .unwrap()
        .qualification
        .authority
        .confirmed = true;
    s
}

fn authority_at(mut s: ScoredLead, c: f64) -> ScoredLead {
    s.enriched
        .lead
        .chat
        .as_mut()
        .unwrap()
        .qualification
        .authority
        .confidence = c;
    s
}

fn asks_human(mut s: ScoredLead) -> ScoredLead {
    s.enriched.lead.chat.as_mut().unwrap().human_requested = true;
    s
}

fn out_of_scope(mut s: ScoredLead, c: OutOfScopeCategory) -> ScoredLead {
    s.enriched.lead.chat.as_mut().unwrap().out_of_scope = Some(c);
    s
}

fn stalled(mut s: ScoredLead) -> ScoredLead {
    s.enriched.lead.chat.as_mut().unwrap().stalled = true;
    s
}

fn frustrated(mut s: ScoredLead) -> ScoredLead {
    s.enriched.lead.chat.as_mut().unwrap().frustrated = true;
    s
}

fn persona(mut s: ScoredLead, p: Persona) -> ScoredLead {
    s.enriched.persona = p;
    s
}

fn confidence(mut s: ScoredLead, c: f64) -> ScoredLead {
    s.confidence = c;
    s
}

fn no_chat(mut s: ScoredLead) -> ScoredLead {
    s.enriched.lead.chat = None;
    s
}

/// What a case expects.
struct Want {
    tier: &'static str,
    level: LeadLevel,
    handoff: HandoffKind,
    trigger: HandoffTrigger,
    team: &'static str,
    open: bool,
    sla: &'static [(SlaKind, &'static str)],
    commitment: Option<&'static str>,
}

fn decide_with(preset: PolicyPreset, s: &ScoredLead) -> TierDecision {
    let settings = TierSettings {
        policy: preset,
        ..TierSettings::default()
    };
    let (policy, calendar) = settings.build().unwrap();
    decide(s, &policy, &calendar)
}

fn check(name: &str, d: &TierDecision, w: &Want) {
    let ctx = format!("{name}\nreasons: {:#?}", d.reasons);
    assert_eq!(d.tier, w.tier, "tier: {ctx}");
    assert_eq!(d.lead_level, w.level, "lead level: {ctx}");
    assert_eq!(d.handoff, w.handoff, "handoff: {ctx}");
    assert_eq!(d.trigger, w.trigger, "trigger: {ctx}");
    assert_eq!(d.target_team, w.team, "team: {ctx}");
    assert_eq!(d.within_business_hours, w.open, "business hours: {ctx}");
    let sla: Vec<(SlaKind, String)> = d
        .sla
        .iter()
        .map(|s| (s.kind, s.due_at.to_rfc3339()))
        .collect();
    let want: Vec<(SlaKind, String)> = w
        .sla
        .iter()
        .map(|(k, t)| (*k, ts(t).to_rfc3339()))
        .collect();
    assert_eq!(sla, want, "sla: {ctx}");
    assert_eq!(d.commitment.as_deref(), w.commitment, "commitment: {ctx}");
    assert_eq!(
        d.decided_at, d.scored.enriched.lead.occurred_at,
        "decided_at: {ctx}"
    );
    assert!(
        d.reasons.len() >= 2,
        "at least the band and the business-hours lines: {ctx}"
    );
}

const MONDAY_10: &str =
    "Someone from the team will reach out before 10:00 CET on Monday 23 November.";
const TODAY_18: &str =
    "Someone from the team will reach out before 18:00 CET today, Friday 20 November.";

/// 2026-11-20 is a Friday; Paris is UTC+1 (CET) in November.
const FRI_1030: &str = "2026-11-20T09:30:00Z";

#[test]
fn four_band_decisions() {
    let cases: Vec<(&str, ScoredLead, Want)> = vec![
        (
            "the sample hot lead, Friday 10:30: escalation to an AE within 5 min",
            samples::scored_lead(),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: Escalation,
                trigger: T::HotLead,
                team: "ae",
                open: true,
                sla: &[(FirstContact, "2026-11-20T09:35:00Z")],
                commitment: None,
            },
        ),
        (
            "HOT score without hot-lead signals: the band escalates",
            lead(90, FRI_1030),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: Escalation,
                trigger: T::ScoreBand,
                team: "ae",
                open: true,
                sla: &[(FirstContact, "2026-11-20T09:35:00Z")],
                commitment: None,
            },
        ),
        (
            "hot-lead signals on a WARM score: escalated as hot, level HOT, tier stays WARM",
            hot(lead(72, FRI_1030)),
            Want {
                tier: "WARM",
                level: LeadLevel::Hot,
                handoff: Escalation,
                trigger: T::HotLead,
                team: "ae",
                open: true,
                sla: &[(FirstContact, "2026-11-20T09:35:00Z")],
                commitment: None,
            },
        ),
        (
            "Friday 17:59 hot lead: still an escalation, the 5 min SLA runs into Monday 09:04",
            hot(lead(91, "2026-11-20T16:59:00Z")),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: Escalation,
                trigger: T::HotLead,
                team: "ae",
                open: true,
                sla: &[(FirstContact, "2026-11-23T08:04:00Z")],
                commitment: None,
            },
        ),
        (
            "Friday 16:30 hot lead: inside hours, an escalation needs no promise",
            hot(lead(91, "2026-11-20T15:30:00Z")),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: Escalation,
                trigger: T::HotLead,
                team: "ae",
                open: true,
                sla: &[(FirstContact, "2026-11-20T15:35:00Z")],
                commitment: None,
            },
        ),
        (
            "WARM Friday 10:30: SDR queue, 4 h SLA, same-day promise",
            lead(75, FRI_1030),
            Want {
                tier: "WARM",
                level: LeadLevel::Warm,
                handoff: Capture,
                trigger: T::ScoreBand,
                team: "sdr",
                open: true,
                sla: &[(FirstContact, "2026-11-20T13:30:00Z")],
                commitment: Some(TODAY_18),
            },
        ),
        (
            "WARM Friday 16:30: no same-day promise; Monday 10:00 is promised and is the SDR's deadline (the 4 h SLA would end 11:30)",
            lead(75, "2026-11-20T15:30:00Z"),
            Want {
                tier: "WARM",
                level: LeadLevel::Warm,
                handoff: Capture,
                trigger: T::ScoreBand,
                team: "sdr",
                open: true,
                sla: &[(FirstContact, "2026-11-23T09:00:00Z")],
                commitment: Some(
                    "Someone from the team will reach out before 10:00 CET on Monday 23 November.",
                ),
            },
        ),
        (
            "out-of-scope question Friday 16:30: capture, next business morning",
            out_of_scope(
                lead(60, "2026-11-20T15:30:00Z"),
                OutOfScopeCategory::LegalCompliance,
            ),
            Want {
                tier: "NURTURE_24H",
                level: LeadLevel::Cold,
                handoff: Capture,
                trigger: T::OutOfScope,
                team: "legal",
                open: true,
                sla: &[(FirstContact, "2026-11-23T09:00:00Z")],
                commitment: Some(MONDAY_10),
            },
        ),
        (
            "NURTURE_24H: automated sequence within 24 business hours, no human",
            no_chat(lead(60, FRI_1030)),
            Want {
                tier: "NURTURE_24H",
                level: LeadLevel::Cold,
                handoff: HandoffKind::None,
                trigger: T::None,
                team: "nurture",
                open: true,
                sla: &[(FirstContact, "2026-11-24T15:30:00Z")],
                commitment: None,
            },
        ),
        (
            "below 50: nurture only",
            no_chat(lead(30, FRI_1030)),
            Want {
                tier: "NURTURE",
                level: LeadLevel::Cold,
                handoff: HandoffKind::None,
                trigger: T::None,
                team: "nurture",
                open: true,
                sla: &[],
                commitment: None,
            },
        ),
        (
            "Saturday hot lead: capture, promised before 10:00 CET Monday; the rep's deadline is the 5 min SLA from Monday's opening (09:05)",
            hot(lead(91, "2026-11-21T10:00:00Z")),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: Capture,
                trigger: T::HotLead,
                team: "ae",
                open: false,
                sla: &[(FirstContact, "2026-11-23T08:05:00Z")],
                commitment: Some(MONDAY_10),
            },
        ),
        (
            "Sunday evening HOT band: capture, Monday morning",
            lead(88, "2026-11-22T20:00:00Z"),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: Capture,
                trigger: T::ScoreBand,
                team: "ae",
                open: false,
                sla: &[(FirstContact, "2026-11-23T08:05:00Z")],
                commitment: Some(MONDAY_10),
            },
        ),
        (
            "Friday 18:30 hot lead: after closing, capture for Monday",
            hot(lead(91, "2026-11-20T17:30:00Z")),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: Capture,
                trigger: T::HotLead,
                team: "ae",
                open: false,
                sla: &[(FirstContact, "2026-11-23T08:05:00Z")],
                commitment: Some(MONDAY_10),
            },
        ),
        (
            "Tuesday 07:30 hot lead (before opening): capture, before 10:00 the same morning",
            hot(lead(91, "2026-11-24T06:30:00Z")),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: Capture,
                trigger: T::HotLead,
                team: "ae",
                open: false,
                sla: &[(FirstContact, "2026-11-24T08:05:00Z")],
                commitment: Some(
                    "Someone from the team will reach out before 10:00 CET on Tuesday 24 November.",
                ),
            },
        ),
        (
            "Christmas Day (a Friday) hot lead: the next business morning skips the weekend too",
            hot(lead(91, "2026-12-25T10:00:00Z")),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: Capture,
                trigger: T::HotLead,
                team: "ae",
                open: false,
                sla: &[(FirstContact, "2026-12-28T08:05:00Z")],
                commitment: Some(
                    "Someone from the team will reach out before 10:00 CET on Monday 28 December.",
                ),
            },
        ),
        (
            "Christmas Eve 19:00: the holiday is skipped",
            hot(lead(91, "2026-12-24T18:00:00Z")),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: Capture,
                trigger: T::HotLead,
                team: "ae",
                open: false,
                sla: &[(FirstContact, "2026-12-28T08:05:00Z")],
                commitment: Some(
                    "Someone from the team will reach out before 10:00 CET on Monday 28 December.",
                ),
            },
        ),
        (
            "Armistice Day (Wednesday 11 November) WARM: capture, Thursday 10:00 (promise and deadline)",
            lead(75, "2026-11-11T10:00:00Z"),
            Want {
                tier: "WARM",
                level: LeadLevel::Warm,
                handoff: Capture,
                trigger: T::ScoreBand,
                team: "sdr",
                open: false,
                sla: &[(FirstContact, "2026-11-12T09:00:00Z")],
                commitment: Some(
                    "Someone from the team will reach out before 10:00 CET on Thursday 12 November.",
                ),
            },
        ),
        (
            "a competitor (N1) who asks for a human is escalated",
            asks_human(persona(lead(20, FRI_1030), Persona::N1)),
            Want {
                tier: "NURTURE",
                level: LeadLevel::Cold,
                handoff: Escalation,
                trigger: T::ExplicitRequest,
                team: "sales",
                open: true,
                sla: &[(FirstContact, "2026-11-20T09:35:00Z")],
                commitment: None,
            },
        ),
        (
            "a researcher (N2) who asks for a human on Saturday: capture with a commitment",
            asks_human(persona(lead(20, "2026-11-21T10:00:00Z"), Persona::N2)),
            Want {
                tier: "NURTURE",
                level: LeadLevel::Cold,
                handoff: Capture,
                trigger: T::ExplicitRequest,
                team: "sales",
                open: false,
                sla: &[(FirstContact, "2026-11-23T08:05:00Z")],
                commitment: Some(MONDAY_10),
            },
        ),
        (
            "a cold lead who asks for a human is escalated",
            asks_human(lead(20, FRI_1030)),
            Want {
                tier: "NURTURE",
                level: LeadLevel::Cold,
                handoff: Escalation,
                trigger: T::ExplicitRequest,
                team: "sales",
                open: true,
                sla: &[(FirstContact, "2026-11-20T09:35:00Z")],
                commitment: None,
            },
        ),
        (
            "a WARM lead who asks for a human goes to its SDR, escalated",
            asks_human(lead(75, FRI_1030)),
            Want {
                tier: "WARM",
                level: LeadLevel::Warm,
                handoff: Escalation,
                trigger: T::ExplicitRequest,
                team: "sdr",
                open: true,
                sla: &[(FirstContact, "2026-11-20T09:35:00Z")],
                commitment: None,
            },
        ),
        (
            "N2 with a hot score and hot-lead signals, no request: nobody is queued",
            hot(persona(lead(95, FRI_1030), Persona::N2)),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: HandoffKind::None,
                trigger: T::None,
                team: "nurture",
                open: true,
                sla: &[],
                commitment: None,
            },
        ),
        (
            "N1 out-of-scope question: not routed to a human",
            out_of_scope(
                persona(lead(75, FRI_1030), Persona::N1),
                OutOfScopeCategory::CommercialTerms,
            ),
            Want {
                tier: "WARM",
                level: LeadLevel::Warm,
                handoff: HandoffKind::None,
                trigger: T::None,
                team: "nurture",
                open: true,
                sla: &[],
                commitment: None,
            },
        ),
        (
            "N1 stall: no human offered",
            stalled(persona(lead(40, FRI_1030), Persona::N1)),
            Want {
                tier: "NURTURE",
                level: LeadLevel::Cold,
                handoff: HandoffKind::None,
                trigger: T::None,
                team: "nurture",
                open: true,
                sla: &[],
                commitment: None,
            },
        ),
        (
            "confident hot-lead signals, low score confidence: escalated (the dimensions gate the trigger)",
            hot(confidence(lead(95, FRI_1030), 0.62)),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: Escalation,
                trigger: T::HotLead,
                team: "ae",
                open: true,
                sla: &[(FirstContact, "2026-11-20T09:35:00Z")],
                commitment: None,
            },
        ),
        (
            "hot-lead signals with authority at 0.70 and low score confidence: not queued",
            authority_at(hot(confidence(lead(95, FRI_1030), 0.62)), 0.70),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: HandoffKind::None,
                trigger: T::None,
                team: "nurture",
                open: true,
                sla: &[],
                commitment: None,
            },
        ),
        (
            "confidence exactly at the threshold is enough",
            confidence(lead(95, FRI_1030), 0.80),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: Escalation,
                trigger: T::ScoreBand,
                team: "ae",
                open: true,
                sla: &[(FirstContact, "2026-11-20T09:35:00Z")],
                commitment: None,
            },
        ),
        (
            "low confidence but an explicit request still wins (fallback team)",
            asks_human(confidence(lead(95, FRI_1030), 0.5)),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: Escalation,
                trigger: T::ExplicitRequest,
                team: "sales",
                open: true,
                sla: &[(FirstContact, "2026-11-20T09:35:00Z")],
                commitment: None,
            },
        ),
        (
            "low confidence does not stop an out-of-scope capture",
            out_of_scope(
                confidence(lead(95, FRI_1030), 0.5),
                OutOfScopeCategory::TechnicalScoping,
            ),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: Capture,
                trigger: T::OutOfScope,
                team: "solutions",
                open: true,
                sla: &[(FirstContact, "2026-11-20T17:00:00Z")],
                commitment: Some(TODAY_18),
            },
        ),
        (
            "hot lead beats an explicit request",
            asks_human(hot(lead(91, FRI_1030))),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: Escalation,
                trigger: T::HotLead,
                team: "ae",
                open: true,
                sla: &[(FirstContact, "2026-11-20T09:35:00Z")],
                commitment: None,
            },
        ),
        (
            "explicit request beats out of scope and stall",
            frustrated(out_of_scope(
                asks_human(lead(30, FRI_1030)),
                OutOfScopeCategory::LegalCompliance,
            )),
            Want {
                tier: "NURTURE",
                level: LeadLevel::Cold,
                handoff: Escalation,
                trigger: T::ExplicitRequest,
                team: "sales",
                open: true,
                sla: &[(FirstContact, "2026-11-20T09:35:00Z")],
                commitment: None,
            },
        ),
        (
            "out of scope beats a stall",
            stalled(out_of_scope(
                lead(30, FRI_1030),
                OutOfScopeCategory::ExistingClientSupport,
            )),
            Want {
                tier: "NURTURE",
                level: LeadLevel::Cold,
                handoff: Capture,
                trigger: T::OutOfScope,
                team: "account_management",
                open: true,
                sla: &[(FirstContact, "2026-11-20T17:00:00Z")],
                commitment: Some(TODAY_18),
            },
        ),
        (
            "out of scope beats the HOT band (routed by category) but keeps the HOT 5 min SLA",
            out_of_scope(lead(90, FRI_1030), OutOfScopeCategory::CommercialTerms),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: Capture,
                trigger: T::OutOfScope,
                team: "sales",
                open: true,
                sla: &[(FirstContact, "2026-11-20T09:35:00Z")],
                commitment: Some(TODAY_18),
            },
        ),
        (
            "stalled WARM lead: a human is offered by its SDR with the band's SLA",
            stalled(lead(75, FRI_1030)),
            Want {
                tier: "WARM",
                level: LeadLevel::Warm,
                handoff: Capture,
                trigger: T::StallOrFrustration,
                team: "sdr",
                open: true,
                sla: &[(FirstContact, "2026-11-20T13:30:00Z")],
                commitment: Some(TODAY_18),
            },
        ),
        (
            "frustrated cold visitor: a human is offered by sales",
            frustrated(lead(30, FRI_1030)),
            Want {
                tier: "NURTURE",
                level: LeadLevel::Cold,
                handoff: Capture,
                trigger: T::StallOrFrustration,
                team: "sales",
                open: true,
                sla: &[(FirstContact, "2026-11-20T17:00:00Z")],
                commitment: Some(TODAY_18),
            },
        ),
        (
            "frustrated visitor on Saturday: capture for Monday",
            frustrated(lead(30, "2026-11-21T10:00:00Z")),
            Want {
                tier: "NURTURE",
                level: LeadLevel::Cold,
                handoff: Capture,
                trigger: T::StallOrFrustration,
                team: "sales",
                open: false,
                sla: &[(FirstContact, "2026-11-23T09:00:00Z")],
                commitment: Some(MONDAY_10),
            },
        ),
        (
            "a form (no chat) with a HOT score: the band escalates",
            no_chat(lead(86, FRI_1030)),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: Escalation,
                trigger: T::ScoreBand,
                team: "ae",
                open: true,
                sla: &[(FirstContact, "2026-11-20T09:35:00Z")],
                commitment: None,
            },
        ),
    ];
    for (name, lead, want) in &cases {
        check(name, &decide_with(PolicyPreset::FourBand, lead), want);
    }
}

#[test]
fn out_of_scope_routing_table() {
    let cases = [
        (
            OutOfScopeCategory::ExistingClientSupport,
            "account_management",
        ),
        (OutOfScopeCategory::CommercialTerms, "sales"),
        (OutOfScopeCategory::SensitiveInternal, "sales"),
        (OutOfScopeCategory::LegalCompliance, "legal"),
        (OutOfScopeCategory::TechnicalScoping, "solutions"),
    ];
    for (category, team) in cases {
        let d = decide_with(
            PolicyPreset::FourBand,
            &out_of_scope(lead(60, FRI_1030), category),
        );
        assert_eq!(
            (d.handoff, d.trigger),
            (Capture, T::OutOfScope),
            "{category:?}"
        );
        assert_eq!(d.target_team, team, "{category:?}");
        assert_eq!(d.commitment.as_deref(), Some(TODAY_18), "{category:?}");
    }

    // The routing is configuration.
    let mut settings = TierSettings::default();
    settings.out_of_scope.sensitive_internal = "leadership".into();
    let (policy, calendar) = settings.build().unwrap();
    let d = decide(
        &out_of_scope(lead(60, FRI_1030), OutOfScopeCategory::SensitiveInternal),
        &policy,
        &calendar,
    );
    assert_eq!(d.target_team, "leadership");
}

#[test]
fn daylight_saving_changes() {
    let cases: Vec<(&str, ScoredLead, Want)> = vec![
        (
            "Saturday 28 March 2026 (CET): promise before 10:00 CEST on Monday 30 March",
            hot(lead(91, "2026-03-28T10:00:00Z")),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: Capture,
                trigger: T::HotLead,
                team: "ae",
                open: false,
                sla: &[(FirstContact, "2026-03-30T07:05:00Z")],
                commitment: Some(
                    "Someone from the team will reach out before 10:00 CEST on Monday 30 March.",
                ),
            },
        ),
        (
            "Sunday 29 March 2026, the change itself",
            hot(lead(91, "2026-03-29T12:00:00Z")),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: Capture,
                trigger: T::HotLead,
                team: "ae",
                open: false,
                sla: &[(FirstContact, "2026-03-30T07:05:00Z")],
                commitment: Some(
                    "Someone from the team will reach out before 10:00 CEST on Monday 30 March.",
                ),
            },
        ),
        (
            "Friday 27 March 17:59 CET: the SLA ends Monday 09:04 CEST (07:04 UTC)",
            hot(lead(91, "2026-03-27T16:59:00Z")),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: Escalation,
                trigger: T::HotLead,
                team: "ae",
                open: true,
                sla: &[(FirstContact, "2026-03-30T07:04:00Z")],
                commitment: None,
            },
        ),
        (
            "Saturday 24 October 2026 (CEST): promise before 10:00 CET on Monday 26 October",
            hot(lead(91, "2026-10-24T10:00:00Z")),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: Capture,
                trigger: T::HotLead,
                team: "ae",
                open: false,
                sla: &[(FirstContact, "2026-10-26T08:05:00Z")],
                commitment: Some(
                    "Someone from the team will reach out before 10:00 CET on Monday 26 October.",
                ),
            },
        ),
        (
            "Friday 23 October 16:00 CEST WARM: promised Monday 10:00 CET, the SDR's deadline too (4 h would end 11:00 CET)",
            lead(75, "2026-10-23T14:00:00Z"),
            Want {
                tier: "WARM",
                level: LeadLevel::Warm,
                handoff: Capture,
                trigger: T::ScoreBand,
                team: "sdr",
                open: true,
                sla: &[(FirstContact, "2026-10-26T09:00:00Z")],
                commitment: Some(
                    "Someone from the team will reach out before 10:00 CET on Monday 26 October.",
                ),
            },
        ),
        (
            "Wednesday 1 April 2026 10:30 CEST (08:30 UTC) is inside hours",
            lead(90, "2026-04-01T08:30:00Z"),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: Escalation,
                trigger: T::ScoreBand,
                team: "ae",
                open: true,
                sla: &[(FirstContact, "2026-04-01T08:35:00Z")],
                commitment: None,
            },
        ),
        (
            "Wednesday 1 April 2026 08:30 CEST (06:30 UTC) is before opening",
            lead(90, "2026-04-01T06:30:00Z"),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: Capture,
                trigger: T::ScoreBand,
                team: "ae",
                open: false,
                sla: &[(FirstContact, "2026-04-01T07:05:00Z")],
                commitment: Some(
                    "Someone from the team will reach out before 10:00 CEST on Wednesday 1 April.",
                ),
            },
        ),
        (
            "Easter Monday 2027 follows the 28 March 2027 change: Tuesday 30 March, CEST",
            hot(lead(91, "2027-03-27T10:00:00Z")),
            Want {
                tier: "HOT",
                level: LeadLevel::Hot,
                handoff: Capture,
                trigger: T::HotLead,
                team: "ae",
                open: false,
                sla: &[(FirstContact, "2027-03-30T07:05:00Z")],
                commitment: Some(
                    "Someone from the team will reach out before 10:00 CEST on Tuesday 30 March.",
                ),
            },
        ),
    ];
    for (name, lead, want) in &cases {
        check(name, &decide_with(PolicyPreset::FourBand, lead), want);
    }
}

#[test]
fn hql_mql_decisions() {
    let cases: Vec<(&str, ScoredLead, Want)> = vec![
        (
            "HQL Friday 10:30: straight to an AE, assignment now, contact 1 h, qualification 4 h",
            lead(85, FRI_1030),
            Want {
                tier: "HQL",
                level: LeadLevel::Hot,
                handoff: Escalation,
                trigger: T::ScoreBand,
                team: "ae",
                open: true,
                sla: &[
                    (Assignment, "2026-11-20T09:30:00Z"),
                    (FirstContact, "2026-11-20T10:30:00Z"),
                    (Qualification, "2026-11-20T13:30:00Z"),
                ],
                commitment: None,
            },
        ),
        (
            "HQL at exactly 80",
            lead(80, FRI_1030),
            Want {
                tier: "HQL",
                level: LeadLevel::Hot,
                handoff: Escalation,
                trigger: T::ScoreBand,
                team: "ae",
                open: true,
                sla: &[
                    (Assignment, "2026-11-20T09:30:00Z"),
                    (FirstContact, "2026-11-20T10:30:00Z"),
                    (Qualification, "2026-11-20T13:30:00Z"),
                ],
                commitment: None,
            },
        ),
        (
            "MQL Friday 10:30: SDR, assignment 15 min, contact 4 h, qualification 24 business hours",
            lead(65, FRI_1030),
            Want {
                tier: "MQL",
                level: LeadLevel::Warm,
                handoff: Capture,
                trigger: T::ScoreBand,
                team: "sdr",
                open: true,
                sla: &[
                    (Assignment, "2026-11-20T09:45:00Z"),
                    (FirstContact, "2026-11-20T13:30:00Z"),
                    (Qualification, "2026-11-24T15:30:00Z"),
                ],
                commitment: Some(TODAY_18),
            },
        ),
        (
            "HQL Saturday: capture, contact = Monday 10:00 commitment",
            lead(85, "2026-11-21T10:00:00Z"),
            Want {
                tier: "HQL",
                level: LeadLevel::Hot,
                handoff: Capture,
                trigger: T::ScoreBand,
                team: "ae",
                open: false,
                sla: &[
                    (Assignment, "2026-11-23T08:00:00Z"),
                    (FirstContact, "2026-11-23T09:00:00Z"),
                    (Qualification, "2026-11-23T12:00:00Z"),
                ],
                commitment: Some(MONDAY_10),
            },
        ),
        (
            "MQL Saturday: promised Monday 10:00, the contact deadline too (the 4 h SLA would end 13:00)",
            lead(65, "2026-11-21T10:00:00Z"),
            Want {
                tier: "MQL",
                level: LeadLevel::Warm,
                handoff: Capture,
                trigger: T::ScoreBand,
                team: "sdr",
                open: false,
                sla: &[
                    (Assignment, "2026-11-23T08:15:00Z"),
                    (FirstContact, "2026-11-23T09:00:00Z"),
                    (Qualification, "2026-11-25T14:00:00Z"),
                ],
                commitment: Some(
                    "Someone from the team will reach out before 10:00 CET on Monday 23 November.",
                ),
            },
        ),
        (
            "MQL Friday 16:30: no same-day promise; Monday 10:00 is promised and is the contact deadline",
            lead(65, "2026-11-20T15:30:00Z"),
            Want {
                tier: "MQL",
                level: LeadLevel::Warm,
                handoff: Capture,
                trigger: T::ScoreBand,
                team: "sdr",
                open: true,
                sla: &[
                    (Assignment, "2026-11-20T15:45:00Z"),
                    (FirstContact, "2026-11-23T09:00:00Z"),
                    (Qualification, "2026-11-25T12:30:00Z"),
                ],
                commitment: Some(
                    "Someone from the team will reach out before 10:00 CET on Monday 23 November.",
                ),
            },
        ),
        (
            "hot-lead signals on an MQL score: escalated with the HQL SLAs",
            hot(lead(65, FRI_1030)),
            Want {
                tier: "MQL",
                level: LeadLevel::Hot,
                handoff: Escalation,
                trigger: T::HotLead,
                team: "ae",
                open: true,
                sla: &[
                    (Assignment, "2026-11-20T09:30:00Z"),
                    (FirstContact, "2026-11-20T10:30:00Z"),
                    (Qualification, "2026-11-20T13:30:00Z"),
                ],
                commitment: None,
            },
        ),
        (
            "MEL 40-59: nurture, no SLA",
            lead(59, FRI_1030),
            Want {
                tier: "MEL",
                level: LeadLevel::Cold,
                handoff: HandoffKind::None,
                trigger: T::None,
                team: "nurture",
                open: true,
                sla: &[],
                commitment: None,
            },
        ),
        (
            "COLD below 40",
            lead(39, FRI_1030),
            Want {
                tier: "COLD",
                level: LeadLevel::Cold,
                handoff: HandoffKind::None,
                trigger: T::None,
                team: "nurture",
                open: true,
                sla: &[],
                commitment: None,
            },
        ),
        (
            "COLD lead asking for a human: escalated to sales with the HQL SLAs",
            asks_human(lead(10, FRI_1030)),
            Want {
                tier: "COLD",
                level: LeadLevel::Cold,
                handoff: Escalation,
                trigger: T::ExplicitRequest,
                team: "sales",
                open: true,
                sla: &[
                    (Assignment, "2026-11-20T09:30:00Z"),
                    (FirstContact, "2026-11-20T10:30:00Z"),
                    (Qualification, "2026-11-20T13:30:00Z"),
                ],
                commitment: None,
            },
        ),
    ];
    for (name, lead, want) in &cases {
        let d = decide_with(PolicyPreset::HqlMql, lead);
        check(name, &d, want);
        assert_eq!(d.policy_version, "hql-mql@1", "{name}");
    }
}

#[test]
fn record_says_what_and_why() {
    let d = decide_with(PolicyPreset::FourBand, &samples::scored_lead());
    assert_eq!(d.policy_version, "four-band@1");
    assert_eq!(d.model_version, "default-1");
    assert_eq!(d.decided_at, samples::T0);
    assert_eq!(
        d.reasons[0],
        "score 91 is in band HOT (85–100) of four-band@1: escalate to a human now, team ae, first contact 5 min (business time)"
    );
    assert_eq!(
        d.reasons[1],
        "event time Friday 20 November 2026 10:30 CET: inside business hours (Mon–Fri 09:00–18:00 Europe/Paris)"
    );
    assert_eq!(
        d.reasons[2],
        "hot lead: problem (0.92) and authority (0.88) confirmed, plus timing fit (0.85): escalate immediately to ae"
    );
}

#[test]
fn reasons_name_every_rule_that_fired() {
    let cases: Vec<(&str, ScoredLead, &[&str])> = vec![
        (
            "low confidence",
            authority_at(hot(confidence(lead(95, FRI_1030), 0.62)), 0.7),
            &[
                "hot-lead signals (problem (0.92) and authority (0.70) confirmed, plus timing fit (0.85)) not acted on: the qualifier's confidence in authority 0.70 is below the 0.80 threshold",
                "band HOT would escalate to a human now, but score confidence 0.62 is below the 0.80 threshold: kept out of the human queue, nurture until more signals accumulate",
            ],
        ),
        (
            "competitor",
            hot(persona(lead(95, FRI_1030), Persona::N1)),
            &[
                "not acted on: persona N1 (competitor) is never escalated or queued for a human unless they ask for one",
            ],
        ),
        (
            "competitor asking",
            asks_human(persona(lead(95, FRI_1030), Persona::N1)),
            &[
                "the visitor asked for a human: escalated whatever the persona, score or confidence, to sales",
            ],
        ),
        (
            "lower-priority triggers are noted",
            stalled(out_of_scope(
                asks_human(lead(30, FRI_1030)),
                OutOfScopeCategory::LegalCompliance,
            )),
            &[
                "out-of-scope question (legal or compliance) noted for legal (the explicit request for a human takes priority)",
                "conversation stalled (the chat flagged a stall) (the explicit request for a human takes priority)",
            ],
        ),
        (
            "after hours",
            hot(lead(91, "2026-11-21T10:00:00Z")),
            &[
                "outside business hours: not a working day",
                "outside business hours: the escalation becomes a capture handoff with a specific commitment",
                "reply promised before 10:00 CET on Monday 23 November, the next business morning",
                "first-contact deadline 09:05 CET on Monday 23 November: the band's SLA, earlier than the promise",
            ],
        ),
        (
            "holiday",
            hot(lead(91, "2026-12-25T10:00:00Z")),
            &["outside business hours: a public holiday"],
        ),
        (
            "before opening",
            hot(lead(91, "2026-11-24T06:30:00Z")),
            &["outside business hours: before opening"],
        ),
        (
            "after the cutoff",
            out_of_scope(
                lead(60, "2026-11-20T15:30:00Z"),
                OutOfScopeCategory::LegalCompliance,
            ),
            &[
                "arrived after the 16:00 same-day cutoff: no same-day promise, reply promised before 10:00 CET on Monday 23 November",
            ],
        ),
        (
            "after the cutoff, the band's SLA would end after the promise",
            lead(75, "2026-11-20T15:30:00Z"),
            &[
                "arrived after the 16:00 same-day cutoff: no same-day promise, reply promised before 10:00 CET on Monday 23 November, the next business morning",
                "first-contact deadline 10:00 CET on Monday 23 November: the promise (the band's SLA would end later, at 11:30 CET on Monday 23 November;",
            ],
        ),
        (
            "in hours before the cutoff, the band's SLA ends tomorrow: the same-day promise is the deadline",
            lead(75, "2026-11-20T14:30:00Z"),
            &[
                "capture during business hours before the 16:00 cutoff: reply promised before closing today (18:00 CET on Friday 20 November)",
                "first-contact deadline 18:00 CET on Friday 20 November: the promise (the band's SLA would end later, at 10:30 CET on Monday 23 November;",
            ],
        ),
        (
            "same day",
            out_of_scope(lead(60, FRI_1030), OutOfScopeCategory::LegalCompliance),
            &[
                "capture during business hours before the 16:00 cutoff: reply promised before closing today (18:00 CET on Friday 20 November)",
                "first-contact deadline 18:00 CET on Friday 20 November: the promise",
            ],
        ),
    ];
    for (name, lead, expected) in cases {
        let d = decide_with(PolicyPreset::FourBand, &lead);
        for e in expected {
            assert!(
                d.reasons.iter().any(|r| r.contains(e)),
                "{name}: no reason contains {e:?}\n{:#?}",
                d.reasons
            );
        }
    }
}

#[test]
fn reasons_carry_no_personal_data() {
    let d = decide_with(PolicyPreset::FourBand, &asks_human(samples::scored_lead()));
    let all = d.reasons.join("\n");
    for pii in [
        "Ada",
        "Lovelace",
        "ada.lovelace@",
        "northwind",
        "Northwind",
        "+33",
    ] {
        assert!(!all.contains(pii), "{pii:?} in reasons:\n{all}");
    }
}

#[test]
fn replaying_reproduces_the_decision() {
    let leads = [
        samples::scored_lead(),
        lead(75, "2026-11-20T15:30:00Z"),
        hot(lead(91, "2026-12-25T10:00:00Z")),
    ];
    for l in &leads {
        let a = decide_with(PolicyPreset::FourBand, l);
        let b = decide_with(PolicyPreset::FourBand, l);
        assert_eq!(a, b);
    }
}

#[test]
fn configured_values_change_the_decision() {
    // A 15:00 cutoff: a 15:30 capture gets no same-day promise.
    let settings = TierSettings {
        same_day_cutoff: "15:00".into(),
        ..TierSettings::default()
    };
    let (policy, calendar) = settings.build().unwrap();
    let d = decide(
        &frustrated(lead(30, "2026-11-20T14:30:00Z")),
        &policy,
        &calendar,
    );
    assert_eq!(d.commitment.as_deref(), Some(MONDAY_10));

    // A higher confidence threshold gates the sample (0.9).
    let settings = TierSettings {
        confidence_threshold: 0.95,
        ..TierSettings::default()
    };
    let (policy, calendar) = settings.build().unwrap();
    let d = decide(&samples::scored_lead(), &policy, &calendar);
    assert_eq!(d.handoff, HandoffKind::None);

    // Saturday as a working day with a 10:00-16:00 window in New York.
    let mut settings = TierSettings::default();
    settings.calendar.timezone = "America/New_York".into();
    settings.calendar.working_days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        .map(String::from)
        .to_vec();
    settings.calendar.open = "10:00".into();
    settings.calendar.close = "16:00".into();
    settings.same_day_cutoff = "14:00".into();
    settings.next_morning_by = "11:00".into();
    settings.calendar.holiday_rules = leadflow_tier::HolidayRules::None;
    let (policy, calendar) = settings.build().unwrap();
    // Saturday 21 November 11:00 EST = 16:00 UTC.
    let d = decide(&hot(lead(91, "2026-11-21T16:00:00Z")), &policy, &calendar);
    assert_eq!(d.handoff, Escalation);
    assert!(d.within_business_hours);
    // Saturday 15:00 EST: inside hours but after the 14:00 cutoff; a capture gets Monday 11:00 EST.
    let d = decide(
        &frustrated(lead(30, "2026-11-21T20:00:00Z")),
        &policy,
        &calendar,
    );
    assert_eq!(
        d.commitment.as_deref(),
        Some("Someone from the team will reach out before 11:00 EST on Monday 23 November.")
    );

    // A band override: WARM answers within 1 h.
    let mut settings = TierSettings::default();
    settings.bands.insert(
        "WARM".into(),
        leadflow_tier::BandOverride {
            first_contact_minutes: Some(60),
            ..Default::default()
        },
    );
    let (policy, calendar) = settings.build().unwrap();
    let d = decide(&lead(75, FRI_1030), &policy, &calendar);
    assert_eq!(d.sla[0].due_at, ts("2026-11-20T10:30:00Z"));
    assert!(d.policy_version.starts_with("four-band@1+custom."));
}

/// POLICY.md rules S1–S4 for every band of both presets: a commercial-terms question (a capture) on
/// Tuesday 24 November 2026 at 10:30 CET (in hours, before the cutoff) and at 16:30 CET (after the
/// cutoff). The promise depends on the arrival time only, never on the band; the rep's first-contact
/// deadline is the band's when that is earlier, else the promise.
#[test]
fn capture_promises_follow_the_slots_for_every_band() {
    const TUE_1030: &str = "2026-11-24T09:30:00Z";
    const TUE_1630: &str = "2026-11-24T15:30:00Z";
    const TODAY: &str =
        "Someone from the team will reach out before 18:00 CET today, Tuesday 24 November.";
    const WEDNESDAY: &str =
        "Someone from the team will reach out before 10:00 CET on Wednesday 25 November.";
    type Sla = &'static [(SlaKind, &'static str)];
    // (preset, score, tier, arrival, commitment, deadlines)
    let cases: [(PolicyPreset, i32, &str, &str, &str, Sla); 16] = [
        (
            PolicyPreset::FourBand,
            90,
            "HOT",
            TUE_1030,
            TODAY,
            &[(FirstContact, "2026-11-24T09:35:00Z")],
        ),
        (
            PolicyPreset::FourBand,
            90,
            "HOT",
            TUE_1630,
            WEDNESDAY,
            &[(FirstContact, "2026-11-24T15:35:00Z")],
        ),
        (
            PolicyPreset::FourBand,
            75,
            "WARM",
            TUE_1030,
            TODAY,
            &[(FirstContact, "2026-11-24T13:30:00Z")],
        ),
        // the case: a WARM lead is promised the same as a cold one, the 4 h SLA (Wed 11:30)
        // does not push the SDR's deadline past the promise
        (
            PolicyPreset::FourBand,
            75,
            "WARM",
            TUE_1630,
            WEDNESDAY,
            &[(FirstContact, "2026-11-25T09:00:00Z")],
        ),
        (
            PolicyPreset::FourBand,
            60,
            "NURTURE_24H",
            TUE_1030,
            TODAY,
            &[(FirstContact, "2026-11-24T17:00:00Z")],
        ),
        (
            PolicyPreset::FourBand,
            60,
            "NURTURE_24H",
            TUE_1630,
            WEDNESDAY,
            &[(FirstContact, "2026-11-25T09:00:00Z")],
        ),
        (
            PolicyPreset::FourBand,
            30,
            "NURTURE",
            TUE_1030,
            TODAY,
            &[(FirstContact, "2026-11-24T17:00:00Z")],
        ),
        (
            PolicyPreset::FourBand,
            30,
            "NURTURE",
            TUE_1630,
            WEDNESDAY,
            &[(FirstContact, "2026-11-25T09:00:00Z")],
        ),
        (
            PolicyPreset::HqlMql,
            85,
            "HQL",
            TUE_1030,
            TODAY,
            &[
                (Assignment, "2026-11-24T09:30:00Z"),
                (FirstContact, "2026-11-24T10:30:00Z"),
                (Qualification, "2026-11-24T13:30:00Z"),
            ],
        ),
        (
            PolicyPreset::HqlMql,
            85,
            "HQL",
            TUE_1630,
            WEDNESDAY,
            &[
                (Assignment, "2026-11-24T15:30:00Z"),
                (FirstContact, "2026-11-24T16:30:00Z"),
                (Qualification, "2026-11-25T10:30:00Z"),
            ],
        ),
        (
            PolicyPreset::HqlMql,
            65,
            "MQL",
            TUE_1030,
            TODAY,
            &[
                (Assignment, "2026-11-24T09:45:00Z"),
                (FirstContact, "2026-11-24T13:30:00Z"),
                (Qualification, "2026-11-26T15:30:00Z"),
            ],
        ),
        (
            PolicyPreset::HqlMql,
            65,
            "MQL",
            TUE_1630,
            WEDNESDAY,
            &[
                (Assignment, "2026-11-24T15:45:00Z"),
                (FirstContact, "2026-11-25T09:00:00Z"),
                (Qualification, "2026-11-27T12:30:00Z"),
            ],
        ),
        (
            PolicyPreset::HqlMql,
            50,
            "MEL",
            TUE_1030,
            TODAY,
            &[(FirstContact, "2026-11-24T17:00:00Z")],
        ),
        (
            PolicyPreset::HqlMql,
            50,
            "MEL",
            TUE_1630,
            WEDNESDAY,
            &[(FirstContact, "2026-11-25T09:00:00Z")],
        ),
        (
            PolicyPreset::HqlMql,
            20,
            "COLD",
            TUE_1030,
            TODAY,
            &[(FirstContact, "2026-11-24T17:00:00Z")],
        ),
        (
            PolicyPreset::HqlMql,
            20,
            "COLD",
            TUE_1630,
            WEDNESDAY,
            &[(FirstContact, "2026-11-25T09:00:00Z")],
        ),
    ];
    for (preset, score, tier, at, commitment, sla) in cases {
        let name = format!("{preset} {tier} at {at}");
        let s = out_of_scope(lead(score, at), OutOfScopeCategory::CommercialTerms);
        let d = decide_with(preset, &s);
        assert_eq!(d.tier, tier, "{name}");
        assert_eq!(d.handoff, Capture, "{name}");
        assert_eq!(d.trigger, T::OutOfScope, "{name}");
        assert_eq!(d.target_team, "sales", "{name}");
        assert_eq!(d.commitment.as_deref(), Some(commitment), "{name}");
        let got: Vec<(SlaKind, String)> = d
            .sla
            .iter()
            .map(|s| (s.kind, s.due_at.to_rfc3339()))
            .collect();
        let want: Vec<(SlaKind, String)> =
            sla.iter().map(|(k, t)| (*k, ts(t).to_rfc3339())).collect();
        assert_eq!(got, want, "{name}\n{:#?}", d.reasons);
        // S3: the rep is never due after what the visitor was told
        let promise = if commitment == TODAY {
            ts("2026-11-24T17:00:00Z")
        } else {
            ts("2026-11-25T09:00:00Z")
        };
        let first_contact = d.sla.iter().find(|s| s.kind == FirstContact).unwrap();
        assert!(first_contact.due_at <= promise, "{name}");
    }
}

/// POLICY.md C2: the holidays of 2028 and 2035, Easter-based ones included, are closed days for the
/// default calendar; a hot lead on one is a capture for the next business morning.
#[test]
fn holidays_of_2028_and_2035() {
    // (why, arrival, commitment, first contact = 5 min from the next opening)
    let cases = [
        (
            "Easter Monday 2028 (17 April), 10:00 CEST",
            "2028-04-17T08:00:00Z",
            "Someone from the team will reach out before 10:00 CEST on Tuesday 18 April.",
            "2028-04-18T07:05:00Z",
        ),
        (
            "Ascension 2028 (Thursday 25 May)",
            "2028-05-25T08:00:00Z",
            "Someone from the team will reach out before 10:00 CEST on Friday 26 May.",
            "2028-05-26T07:05:00Z",
        ),
        (
            "Whit Monday 2028 (5 June)",
            "2028-06-05T08:00:00Z",
            "Someone from the team will reach out before 10:00 CEST on Tuesday 6 June.",
            "2028-06-06T07:05:00Z",
        ),
        (
            "Easter Monday 2035 (26 March, the day after the change to CEST), 11:00 CEST",
            "2035-03-26T09:00:00Z",
            "Someone from the team will reach out before 10:00 CEST on Tuesday 27 March.",
            "2035-03-27T07:05:00Z",
        ),
        (
            "Ascension 2035 (Thursday 3 May)",
            "2035-05-03T08:00:00Z",
            "Someone from the team will reach out before 10:00 CEST on Friday 4 May.",
            "2035-05-04T07:05:00Z",
        ),
        (
            "Whit Monday 2035 (14 May)",
            "2035-05-14T08:00:00Z",
            "Someone from the team will reach out before 10:00 CEST on Tuesday 15 May.",
            "2035-05-15T07:05:00Z",
        ),
        (
            "Christmas 2035 (a Tuesday)",
            "2035-12-25T09:00:00Z",
            "Someone from the team will reach out before 10:00 CET on Wednesday 26 December.",
            "2035-12-26T08:05:00Z",
        ),
    ];
    for (why, at, commitment, first_contact) in cases {
        let d = decide_with(PolicyPreset::FourBand, &hot(lead(91, at)));
        assert!(!d.within_business_hours, "{why}");
        assert_eq!(d.handoff, Capture, "{why}");
        assert_eq!(d.commitment.as_deref(), Some(commitment), "{why}");
        assert_eq!(
            d.sla.iter().map(|s| (s.kind, s.due_at)).collect::<Vec<_>>(),
            vec![(FirstContact, ts(first_contact))],
            "{why}"
        );
        assert!(
            d.reasons
                .iter()
                .any(|r| r.contains("outside business hours: a public holiday")),
            "{why}: {:#?}",
            d.reasons
        );
    }
    // the days after are ordinary business days
    let d = decide_with(
        PolicyPreset::FourBand,
        &hot(lead(91, "2035-03-27T09:00:00Z")),
    );
    assert_eq!(d.handoff, Escalation);
}

/// POLICY.md C3: with no computed holidays and a list for 2026 only, a 2028 decision says the
/// calendar knows no holidays for that year.
#[test]
fn a_year_the_calendar_does_not_know_is_named_in_the_reasons() {
    let mut settings = TierSettings::default();
    settings.calendar.holiday_rules = leadflow_tier::HolidayRules::None;
    settings
        .calendar
        .holidays
        .insert("2026".into(), vec!["2026-12-25".into()]);
    let (policy, calendar) = settings.build().unwrap();
    let d = decide(&lead(91, "2028-04-17T08:00:00Z"), &policy, &calendar);
    assert!(
        d.within_business_hours,
        "Easter Monday 2028 is unknown here"
    );
    assert!(
        d.reasons.iter().any(|r| r.starts_with(
            "the calendar knows no public holidays for 2028 (no computed holidays; lists from the config for 2026)"
        )),
        "{:#?}",
        d.reasons
    );
    let d = decide(&lead(91, "2026-11-20T09:30:00Z"), &policy, &calendar);
    assert!(
        !d.reasons
            .iter()
            .any(|r| r.contains("knows no public holidays"))
    );
}
