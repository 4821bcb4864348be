//! POLICY.md rules T4 (stall derived from the conversation), T5 (soft escalation of a warm lead after
//! several exchanges) and R1 (the resource offered to the visitor), as whole decisions.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use leadflow_events::{
    ChatSignals, HandoffKind, HandoffTrigger, Persona, ScoredLead, SlaKind, TierDecision,
    Timestamp, samples,
};
use leadflow_tier::{PolicyPreset, TierSettings, decide};

use HandoffKind::{Capture, SoftEscalation};
use HandoffTrigger as T;
use SlaKind::{Assignment, FirstContact, Qualification};

/// Friday 20 November 2026 10:30 CET.
const FRI_1030: &str = "2026-11-20T09:30:00Z";
/// Saturday 21 November 2026 11:00 CET.
const SAT_1100: &str = "2026-11-21T10:00:00Z";
const TODAY_18: &str =
    "Someone from the team will reach out before 18:00 CET today, Friday 20 November.";
const MONDAY_10: &str =
    "Someone from the team will reach out before 10:00 CET on Monday 23 November.";

/// The sample lead at `score` and `at`, not a hot lead (authority unconfirmed), with the chat edited.
fn lead(score: i32, at: &str, edit: impl FnOnce(&mut ChatSignals)) -> ScoredLead {
    let mut s = samples::scored_lead();
    s.score = score;
    s.enriched.lead.occurred_at = Timestamp::parse_rfc3339(at).unwrap();
    let chat = s.enriched.lead.chat.as_mut().unwrap();
    chat.qualification.authority.confirmed = false;
    chat.topic = Some("lead-routing".into());
    edit(chat);
    s
}

fn exchanges(n: i32, proposal: Option<bool>) -> impl FnOnce(&mut ChatSignals) {
    move |c| {
        c.exchange_count = n;
        c.proposal_made = proposal;
    }
}

fn decide_with(preset: PolicyPreset, s: &ScoredLead) -> TierDecision {
    let settings = TierSettings {
        policy: preset,
        ..TierSettings::default()
    };
    let (policy, calendar) = settings.build().unwrap();
    decide(s, &policy, &calendar)
}

struct Want {
    handoff: HandoffKind,
    trigger: HandoffTrigger,
    team: &'static str,
    sla: &'static [(SlaKind, &'static str)],
    commitment: Option<&'static str>,
    /// Topic of the resource offered, if any.
    resource: Option<&'static str>,
    /// A reason that must be present.
    reason: &'static str,
}

fn check(name: &str, d: &TierDecision, w: &Want) {
    let ctx = format!("{name}\n{:#?}", d.reasons);
    assert_eq!(d.handoff, w.handoff, "handoff: {ctx}");
    assert_eq!(d.trigger, w.trigger, "trigger: {ctx}");
    assert_eq!(d.target_team, w.team, "team: {ctx}");
    let got: Vec<(SlaKind, String)> = d
        .sla
        .iter()
        .map(|s| (s.kind, s.due_at.to_rfc3339()))
        .collect();
    let want: Vec<(SlaKind, String)> = w
        .sla
        .iter()
        .map(|(k, t)| (*k, Timestamp::parse_rfc3339(t).unwrap().to_rfc3339()))
        .collect();
    assert_eq!(got, want, "sla: {ctx}");
    assert_eq!(d.commitment.as_deref(), w.commitment, "commitment: {ctx}");
    assert_eq!(
        d.recommended_resource.as_ref().map(|r| r.topic.as_str()),
        w.resource,
        "resource: {ctx}"
    );
    assert!(
        d.reasons.iter().any(|r| r.contains(w.reason)),
        "no reason contains {:?}: {ctx}",
        w.reason
    );
}

#[test]
fn stalls_derived_from_the_conversation() {
    let cases: Vec<(&str, ScoredLead, Want)> = vec![
        (
            "cold lead, 9 exchanges without a proposal: a human is offered by sales",
            lead(30, FRI_1030, exchanges(9, Some(false))),
            Want {
                handoff: Capture,
                trigger: T::StallOrFrustration,
                team: "sales",
                sla: &[(FirstContact, "2026-11-20T17:00:00Z")],
                commitment: Some(TODAY_18),
                resource: None,
                reason: "conversation stalled (9 exchanges without a proposal (more than 8)): a human is offered, capture handoff to sales",
            },
        ),
        (
            "WARM lead, two short answers in a row: its SDR, the band's 4 h SLA before the same-day promise",
            lead(75, FRI_1030, |c| {
                c.exchange_count = 3;
                c.short_answer_streak = 2;
            }),
            Want {
                handoff: Capture,
                trigger: T::StallOrFrustration,
                team: "sdr",
                sla: &[(FirstContact, "2026-11-20T13:30:00Z")],
                commitment: Some(TODAY_18),
                resource: None,
                reason: "conversation stalled (2 consecutive short non-committal answers (threshold 2))",
            },
        ),
        (
            "a repeated question is a stall",
            lead(30, FRI_1030, |c| c.repeated_question = true),
            Want {
                handoff: Capture,
                trigger: T::StallOrFrustration,
                team: "sales",
                sla: &[(FirstContact, "2026-11-20T17:00:00Z")],
                commitment: Some(TODAY_18),
                resource: None,
                reason: "conversation stalled (the visitor repeated a question)",
            },
        ),
        (
            "stall on Saturday: capture for Monday, with a resource (rule R1)",
            lead(30, SAT_1100, |c| c.short_answer_streak = 3),
            Want {
                handoff: Capture,
                trigger: T::StallOrFrustration,
                team: "sales",
                sla: &[(FirstContact, "2026-11-23T09:00:00Z")],
                commitment: Some(MONDAY_10),
                resource: Some("lead-routing"),
                reason: "resource offered to the visitor: \"Case study: a 30-person SDR team answering every inbound lead within 5 minutes\" (topic lead-routing)",
            },
        ),
        (
            "8 exchanges without a proposal is not yet a stall",
            lead(30, FRI_1030, exchanges(8, Some(false))),
            Want {
                handoff: HandoffKind::None,
                trigger: T::None,
                team: "nurture",
                sla: &[],
                commitment: None,
                resource: None,
                reason: "score 30 is in band NURTURE",
            },
        ),
        (
            "an old event (no proposal reported) with 14 exchanges: no stall from the count",
            lead(30, FRI_1030, exchanges(14, None)),
            Want {
                handoff: HandoffKind::None,
                trigger: T::None,
                team: "nurture",
                sla: &[],
                commitment: None,
                resource: None,
                reason: "score 30 is in band NURTURE",
            },
        ),
    ];
    for (name, s, want) in cases {
        check(name, &decide_with(PolicyPreset::FourBand, &s), &want);
    }
}

#[test]
fn warm_leads_after_several_exchanges_get_a_soft_escalation() {
    let cases: Vec<(&str, PolicyPreset, ScoredLead, Want)> = vec![
        (
            "WARM, 6 exchanges, in hours: a resource now, the SDR queue's 4 h SLA still runs",
            PolicyPreset::FourBand,
            lead(75, FRI_1030, exchanges(6, Some(true))),
            Want {
                handoff: SoftEscalation,
                trigger: T::WarmConversation,
                team: "sdr",
                sla: &[(FirstContact, "2026-11-20T13:30:00Z")],
                commitment: None,
                resource: Some("lead-routing"),
                reason: "warm lead after 6 exchanges (at least 6): soft escalation, a resource is offered instead of a call; the band's queue for sdr still applies",
            },
        ),
        (
            "WARM, 7 exchanges on Saturday: capture with a commitment and the resource",
            PolicyPreset::FourBand,
            lead(75, SAT_1100, exchanges(7, Some(true))),
            Want {
                handoff: Capture,
                trigger: T::WarmConversation,
                team: "sdr",
                sla: &[(FirstContact, "2026-11-23T09:00:00Z")],
                commitment: Some(MONDAY_10),
                resource: Some("lead-routing"),
                reason: "outside business hours: the soft escalation becomes a capture handoff",
            },
        ),
        (
            "WARM, unknown topic: the fallback resource",
            PolicyPreset::FourBand,
            lead(75, FRI_1030, |c| {
                c.exchange_count = 6;
                c.topic = Some("quantum computing".into());
            }),
            Want {
                handoff: SoftEscalation,
                trigger: T::WarmConversation,
                team: "sdr",
                sla: &[(FirstContact, "2026-11-20T13:30:00Z")],
                commitment: None,
                resource: Some("general"),
                reason: "(topic general)",
            },
        ),
        (
            "WARM, 5 exchanges: the band's queue, no soft escalation",
            PolicyPreset::FourBand,
            lead(75, FRI_1030, exchanges(5, Some(true))),
            Want {
                handoff: Capture,
                trigger: T::ScoreBand,
                team: "sdr",
                sla: &[(FirstContact, "2026-11-20T13:30:00Z")],
                commitment: Some(TODAY_18),
                resource: None,
                reason: "score 75 is in band WARM",
            },
        ),
        (
            "WARM, 10 exchanges without a proposal: the stall wins, a human is offered",
            PolicyPreset::FourBand,
            lead(75, FRI_1030, exchanges(10, Some(false))),
            Want {
                handoff: Capture,
                trigger: T::StallOrFrustration,
                team: "sdr",
                sla: &[(FirstContact, "2026-11-20T13:30:00Z")],
                commitment: Some(TODAY_18),
                resource: None,
                reason: "warm lead after 10 exchanges (at least 6): no soft escalation (the stall takes priority)",
            },
        ),
        (
            "COLD lead with 9 exchanges and a proposal: not warm, nothing",
            PolicyPreset::FourBand,
            lead(55, FRI_1030, exchanges(9, Some(true))),
            Want {
                handoff: HandoffKind::None,
                trigger: T::None,
                team: "nurture",
                sla: &[(FirstContact, "2026-11-24T15:30:00Z")],
                commitment: None,
                resource: None,
                reason: "score 55 is in band NURTURE_24H",
            },
        ),
        (
            "MQL (hql-mql's warm band), 6 exchanges: soft escalation with the MQL clocks",
            PolicyPreset::HqlMql,
            lead(65, FRI_1030, exchanges(6, Some(true))),
            Want {
                handoff: SoftEscalation,
                trigger: T::WarmConversation,
                team: "sdr",
                sla: &[
                    (Assignment, "2026-11-20T09:45:00Z"),
                    (FirstContact, "2026-11-20T13:30:00Z"),
                    (Qualification, "2026-11-24T15:30:00Z"),
                ],
                commitment: None,
                resource: Some("lead-routing"),
                reason: "soft escalation",
            },
        ),
    ];
    for (name, preset, s, want) in cases {
        check(name, &decide_with(preset, &s), &want);
    }

    // Low score confidence: nobody is queued (no handoff, no packet), the resource goes with the
    // nurture.
    let mut s = lead(75, FRI_1030, exchanges(6, Some(true)));
    s.confidence = 0.5;
    check(
        "WARM, low confidence",
        &decide_with(PolicyPreset::FourBand, &s),
        &Want {
            handoff: HandoffKind::None,
            trigger: T::None,
            team: "nurture",
            sla: &[],
            commitment: None,
            resource: Some("lead-routing"),
            reason: "warm lead after 6 exchanges (at least 6): a resource is offered with the nurture, no handoff: score confidence 0.50 is below the 0.80 threshold",
        },
    );
    // A researcher gets no soft escalation.
    let mut s = lead(75, FRI_1030, exchanges(7, Some(true)));
    s.enriched.persona = Persona::N2;
    check(
        "N2",
        &decide_with(PolicyPreset::FourBand, &s),
        &Want {
            handoff: HandoffKind::None,
            trigger: T::None,
            team: "nurture",
            sla: &[],
            commitment: None,
            resource: None,
            reason: "warm lead after 7 exchanges (at least 6): no soft escalation: persona N2 (researcher)",
        },
    );
}

#[test]
fn resources_on_after_hours_captures_follow_the_matrix() {
    // Hot lead on Saturday: capture + resource. Explicit request on Saturday: capture, no resource.
    let mut hot = lead(91, SAT_1100, |_| {});
    hot.enriched
        .lead
        .chat
        .as_mut()
        .unwrap()
        .qualification
        .authority
        .confirmed = true;
    let d = decide_with(PolicyPreset::FourBand, &hot);
    assert_eq!((d.handoff, d.trigger), (Capture, T::HotLead));
    assert_eq!(
        d.recommended_resource.map(|r| r.topic).as_deref(),
        Some("lead-routing")
    );
    let d = decide_with(PolicyPreset::FourBand, &{
        let mut s = hot.clone();
        s.enriched.lead.occurred_at = Timestamp::parse_rfc3339(FRI_1030).unwrap();
        s
    });
    assert_eq!(d.handoff, HandoffKind::Escalation);
    assert_eq!(
        d.recommended_resource, None,
        "in hours a hot lead gets a call"
    );
    let asks = lead(30, SAT_1100, |c| c.human_requested = true);
    let d = decide_with(PolicyPreset::FourBand, &asks);
    assert_eq!((d.handoff, d.trigger), (Capture, T::ExplicitRequest));
    assert_eq!(d.recommended_resource, None);
}

#[test]
fn thresholds_and_catalogue_are_configuration() {
    let mut settings = TierSettings::default();
    settings.stall.max_exchanges_without_proposal = 6;
    settings.soft_escalation.min_exchanges = 4;
    settings.resources.insert(
        "lead-routing".into(),
        leadflow_tier::Resource {
            title: "Our routing story".into(),
            url: "https://acme.example/routing".into(),
        },
    );
    let (policy, calendar) = settings.build().unwrap();
    let d = decide(
        &lead(30, FRI_1030, exchanges(7, Some(false))),
        &policy,
        &calendar,
    );
    assert_eq!(d.trigger, T::StallOrFrustration);
    let d = decide(
        &lead(75, FRI_1030, exchanges(4, Some(true))),
        &policy,
        &calendar,
    );
    assert_eq!(d.handoff, SoftEscalation);
    let r = d.recommended_resource.unwrap();
    assert_eq!(
        (r.title.as_str(), r.url.as_str()),
        ("Our routing story", "https://acme.example/routing")
    );
}
