//! The pure decision: a scored lead, the policy and the calendar in; a [`TierDecision`] out.
//!
//! Order of rules:
//! 1. The score band gives the tier and the default lead level.
//! 2. The triggers of `POLICY.md` in priority order; the first one that is not gated decides the
//!    handoff: T1 hot lead (escalation), T2 explicit request for a human (escalation, for any persona
//!    or score), T3 out-of-scope question (capture, routed by category), T4 stall or frustration
//!    (capture, a human is offered), T5 warm lead after several exchanges (soft escalation).
//! 3. Otherwise the band's action (B): escalate (HOT/HQL), queue (WARM/MQL, a capture), an automated
//!    sequence or nurture (no handoff).
//!
//! Gates: G1 negative personas (N1 competitor, N2 researcher) never reach a human unless they ask
//! for one; G2 below the confidence threshold the score band puts nobody in front of a human, while
//! T1 is gated by the confidence of the dimensions that fired it; E1 missing firmographics are
//! always named in the reasons.
//! Outside business hours an escalation becomes a capture with a commitment; a capture's first-contact
//! deadline is the earlier of the band's SLA and the commitment.
//!
//! Time is the event's own (`occurred_at`), never the wall clock: replaying a topic reproduces every
//! decision.

use chrono::{DateTime, Datelike, Duration, Utc};
use leadflow_events::{
    ChatSignals, EnrichmentStatus, HandoffKind, HandoffTrigger, LeadLevel, Persona,
    RecommendedResource, ScoredLead, SlaDeadline, SlaKind, TierDecision, Timestamp,
};

use crate::calendar::Calendar;
use crate::commitment::{Commitment, CommitmentRules, CommitmentSlot, commit};
use crate::conversation::{normalise_topic, pick_resource};
use crate::nurture_reply::{Enrolment, engagement};
use crate::policy::{Band, BandAction, SlaMinutes, TierPolicy};
use crate::triggers::{Signals, category_text};

/// An input the stage refuses (it goes to the exceptions topic).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InputError {
    #[error("score {0} is outside 0..=100")]
    ScoreOutOfRange(i32),
    #[error("confidence {0} is not a number between 0 and 1")]
    ConfidenceOutOfRange(f64),
}

/// Checks what the decision relies on: a score in 0..=100 and a confidence in 0..=1.
pub fn check_input(scored: &ScoredLead) -> Result<(), InputError> {
    if !(0..=100).contains(&scored.score) {
        return Err(InputError::ScoreOutOfRange(scored.score));
    }
    if !(0.0..=1.0).contains(&scored.confidence) {
        return Err(InputError::ConfidenceOutOfRange(scored.confidence));
    }
    Ok(())
}

/// Decides the tier and handoff of `scored` (cloned into the decision).
pub fn decide(scored: &ScoredLead, policy: &TierPolicy, calendar: &Calendar) -> TierDecision {
    decide_owned(scored.clone(), policy, calendar)
}

/// [`decide`] taking the lead by value (no clone).
pub fn decide_owned(scored: ScoredLead, policy: &TierPolicy, calendar: &Calendar) -> TierDecision {
    decide_with(scored, policy, calendar, None)
}

/// [`decide_owned`] knowing the lead's nurture enrolment, if it has one (rule N1).
pub fn decide_with(
    scored: ScoredLead,
    policy: &TierPolicy,
    calendar: &Calendar,
    enrolment: Option<&Enrolment>,
) -> TierDecision {
    let v = evaluate(&scored, policy, calendar, enrolment);
    let decided_at = scored.enriched.lead.occurred_at;
    let model_version = scored.model_version.clone();
    TierDecision {
        scored,
        tier: v.tier,
        lead_level: v.lead_level,
        handoff: v.handoff,
        trigger: v.trigger,
        target_team: v.team,
        within_business_hours: v.within_business_hours,
        sla: v.sla,
        commitment: v.commitment,
        recommended_resource: v.recommended_resource,
        reasons: v.reasons,
        policy_version: policy.version.clone(),
        model_version,
        decided_at,
    }
}

/// Everything of a decision but the lead itself.
struct Verdict {
    tier: String,
    lead_level: LeadLevel,
    handoff: HandoffKind,
    trigger: HandoffTrigger,
    team: String,
    within_business_hours: bool,
    sla: Vec<SlaDeadline>,
    commitment: Option<String>,
    recommended_resource: Option<RecommendedResource>,
    reasons: Vec<String>,
}

/// What the rules chose before business hours are applied.
enum Plan {
    Escalate {
        trigger: HandoffTrigger,
        team: String,
        sla: SlaMinutes,
    },
    Capture {
        trigger: HandoffTrigger,
        team: String,
        sla: SlaMinutes,
    },
    /// A resource offered now instead of a call; `sla` is the band's queue.
    Soft {
        team: String,
        sla: SlaMinutes,
    },
    NoHandoff {
        team: String,
        sla: SlaMinutes,
    },
}

impl Plan {
    fn trigger(&self) -> HandoffTrigger {
        match self {
            Plan::Escalate { trigger, .. } | Plan::Capture { trigger, .. } => *trigger,
            Plan::Soft { .. } => HandoffTrigger::WarmConversation,
            Plan::NoHandoff { .. } => HandoffTrigger::None,
        }
    }
}

/// What every rule of a decision looks at, read once from the lead, the policy and the calendar.
struct Facts<'a> {
    scored: &'a ScoredLead,
    policy: &'a TierPolicy,
    calendar: &'a Calendar,
    at: DateTime<Utc>,
    score: i32,
    band: Band,
    /// The band a hot lead or an explicit request is escalated to.
    escalation: Band,
    open: bool,
    negative: bool,
    confident: bool,
    /// Neither a negative persona (G1) nor below the confidence threshold (G2).
    eligible: bool,
    chat: Option<&'a ChatSignals>,
    signals: Signals,
    gaps: Vec<String>,
    /// The lead's nurture enrolment (rule N1).
    enrolment: Option<&'a Enrolment>,
}

impl<'a> Facts<'a> {
    fn read(
        scored: &'a ScoredLead,
        policy: &'a TierPolicy,
        calendar: &'a Calendar,
        enrolment: Option<&'a Enrolment>,
    ) -> Self {
        let score = scored.score.clamp(0, 100);
        let band = policy
            .band_for(score)
            .cloned()
            .unwrap_or_else(catch_all_band);
        let negative = scored.enriched.persona.is_negative();
        let confident = scored.confidence >= policy.confidence_threshold;
        let chat = scored.enriched.lead.chat.as_ref();
        let at = scored.enriched.lead.occurred_at.to_datetime();
        Self {
            scored,
            policy,
            calendar,
            at,
            score,
            escalation: policy
                .escalation_band()
                .cloned()
                .unwrap_or_else(|| band.clone()),
            band,
            open: calendar.is_open(at),
            negative,
            confident,
            eligible: !negative && confident,
            chat,
            signals: Signals::detect(chat, &policy.stall),
            gaps: evidence_gaps(scored),
            enrolment,
        }
    }

    /// Why a lead is kept from a human: its persona (G1) or its score confidence (G2).
    fn gate(&self) -> String {
        let persona = self.scored.enriched.persona;
        if self.negative {
            format!(
                "persona {} ({}) is never escalated or queued for a human unless they ask for one",
                persona.symbol(),
                persona_text(persona)
            )
        } else {
            format!(
                "score confidence {:.2} is below the {:.2} threshold{}",
                self.scored.confidence,
                self.policy.confidence_threshold,
                gaps_text(&self.gaps)
            )
        }
    }

    /// The band's own team and SLA when the lead qualifies for its human queue.
    fn band_queue(&self) -> Option<(String, SlaMinutes)> {
        (self.band.action.is_human() && self.eligible)
            .then(|| (self.band.team.clone(), self.band.sla))
    }
}

fn evaluate(
    scored: &ScoredLead,
    policy: &TierPolicy,
    calendar: &Calendar,
    enrolment: Option<&Enrolment>,
) -> Verdict {
    let facts = Facts::read(scored, policy, calendar, enrolment);
    let mut reasons = opening_reasons(&facts);
    let mut plan = hot_lead(&facts, &mut reasons);
    human_request(&facts, &mut plan, &mut reasons);
    nurture_reply(&facts, &mut plan, &mut reasons);
    out_of_scope(&facts, &mut plan, &mut reasons);
    stall_or_frustration(&facts, &mut plan, &mut reasons);
    let nurture_resource = warm_conversation(&facts, &mut plan, &mut reasons);
    let plan = plan.unwrap_or_else(|| band_plan(&facts, &mut reasons));

    // Rule E1: a lead kept from a human while its firmographics are missing says so.
    let unenriched = scored.enriched.enrichment != EnrichmentStatus::Enriched;
    if matches!(plan, Plan::NoHandoff { .. }) && unenriched {
        reasons.push(format!(
            "no handoff while the firmographics are missing ({}): company fit could not be scored, so the score may understate the lead",
            facts.gaps.join("; ")
        ));
    }
    let lead_level = match plan.trigger() {
        HandoffTrigger::HotLead => LeadLevel::Hot,
        // N1: a lead that answered its sequence is warm, whatever its band
        HandoffTrigger::NurtureReply => LeadLevel::Warm,
        _ => facts.band.lead_level,
    };
    let scheduled = schedule(&facts, plan, &mut reasons);
    let recommended_resource = resource(&facts, &scheduled, nurture_resource, &mut reasons);
    Verdict {
        tier: facts.band.tier,
        lead_level,
        handoff: scheduled.handoff,
        trigger: scheduled.trigger,
        team: scheduled.team,
        within_business_hours: facts.open,
        sla: scheduled.sla,
        commitment: scheduled.commitment,
        recommended_resource,
        reasons,
    }
}

/// The band, the business hours and a calendar without the event's year.
fn opening_reasons(f: &Facts) -> Vec<String> {
    let mut reasons: Vec<String> = rescore_reason(f.scored).into_iter().collect();
    reasons.extend([
        band_reason(f.score, &f.band, f.policy),
        hours_reason(f.at, f.open, f.calendar),
    ]);
    let year = f.calendar.local(f.at).year();
    if !f.calendar.knows_year(year) {
        reasons.push(format!(
            "the calendar knows no public holidays for {year} ({}): every working day counts as a business day",
            f.calendar.holidays().describe()
        ));
    }
    reasons
}

/// The lead event attribute the rescore stage sets on a re-entered lead (`intent` / `scheduled`).
pub const RESCORE_ATTRIBUTE: &str = "leadflow.rescore";
/// The score of the lead's previous decision, on a re-entered lead.
pub const RESCORE_PREVIOUS_SCORE_ATTRIBUTE: &str = "leadflow.rescore.previous_score";

/// Rule RS1: a lead the rescore stage sent back through scoring says so first, with its old score.
fn rescore_reason(scored: &ScoredLead) -> Option<String> {
    let attributes = &scored.enriched.lead.attributes;
    let why = attributes.get(RESCORE_ATTRIBUTE)?.trim();
    let why = if why.is_empty() { "re-entry" } else { why };
    Some(match attributes.get(RESCORE_PREVIOUS_SCORE_ATTRIBUTE) {
        Some(was) => format!(
            "re-scored ({why}): score {}, was {}",
            scored.score,
            was.trim()
        ),
        None => format!("re-scored ({why}): score {}", scored.score),
    })
}

/// Trigger T1: hot lead, gated by the confidence of the dimensions that fired it, not by the
/// score's confidence (which is largely profile completeness).
fn hot_lead(f: &Facts, reasons: &mut Vec<String>) -> Option<Plan> {
    let hot = f.signals.hot_lead.as_ref()?;
    let weak = hot.below(f.policy.confidence_threshold);
    if f.negative {
        reasons.push(format!(
            "hot-lead signals ({}) not acted on: {}",
            hot.describe(),
            f.gate()
        ));
        return None;
    }
    if !weak.is_empty() {
        let list: Vec<String> = weak
            .iter()
            .map(|(name, c)| format!("{name} {c:.2}"))
            .collect();
        reasons.push(format!(
            "hot-lead signals ({}) not acted on: the qualifier's confidence in {} is below the {:.2} threshold",
            hot.describe(),
            list.join(", "),
            f.policy.confidence_threshold
        ));
        return None;
    }
    reasons.push(format!(
        "hot lead: {}: escalate immediately to {}",
        hot.describe(),
        f.escalation.team
    ));
    if f.band.tier != f.escalation.tier || !f.confident {
        reasons.push(format!(
            "the score band is low for a hot lead ({} at score {}, score confidence {:.2}): the conversation qualifies the lead, the profile is thin{}",
            f.band.tier,
            f.score,
            f.scored.confidence,
            gaps_text(&f.gaps)
        ));
    }
    Some(Plan::Escalate {
        trigger: HandoffTrigger::HotLead,
        team: f.escalation.team.clone(),
        sla: f.escalation.sla,
    })
}

/// Trigger T2: an explicit request for a human, whatever the persona, score or confidence.
fn human_request(f: &Facts, plan: &mut Option<Plan>, reasons: &mut Vec<String>) {
    if !f.signals.human_requested {
        return;
    }
    if let Some(p) = plan {
        reasons.push(format!(
            "the visitor also asked for a human ({} takes priority)",
            trigger_text(p.trigger())
        ));
        return;
    }
    let team = f
        .band_queue()
        .map_or_else(|| f.policy.fallback_team.clone(), |(team, _)| team);
    reasons.push(format!(
        "the visitor asked for a human: escalated whatever the persona, score or confidence, to {team}"
    ));
    *plan = Some(Plan::Escalate {
        trigger: HandoffTrigger::ExplicitRequest,
        team,
        sla: f.escalation.sla,
    });
}

/// Trigger T3: an out-of-scope question, routed by category.
fn out_of_scope(f: &Facts, plan: &mut Option<Plan>, reasons: &mut Vec<String>) {
    let Some(category) = f.signals.out_of_scope else {
        return;
    };
    let team = f.policy.out_of_scope.team_for(category).to_owned();
    let what = category_text(category);
    if let Some(p) = plan {
        reasons.push(format!(
            "out-of-scope question ({what}) noted for {team} ({} takes priority)",
            trigger_text(p.trigger())
        ));
        return;
    }
    if f.negative {
        reasons.push(format!(
            "out-of-scope question ({what}) not routed to {team}: {}",
            f.gate()
        ));
        return;
    }
    // routed by category, but never slower than the lead's band: a HOT lead asking about contract
    // terms still gets the HOT first-contact SLA, from that team
    let sla = f.band_queue().map(|(_, sla)| sla).unwrap_or_default();
    reasons.push(format!(
        "out-of-scope question ({what}): capture handoff routed to {team}"
    ));
    *plan = Some(Plan::Capture {
        trigger: HandoffTrigger::OutOfScope,
        team,
        sla,
    });
}

/// Trigger T4: a stalled or frustrated conversation: a human is offered.
fn stall_or_frustration(f: &Facts, plan: &mut Option<Plan>, reasons: &mut Vec<String>) {
    if !(f.signals.stalled || f.signals.frustrated) {
        return;
    }
    let what = f.signals.stall_text(&f.policy.stall);
    if let Some(p) = plan {
        reasons.push(format!(
            "{what} ({} takes priority)",
            trigger_text(p.trigger())
        ));
        return;
    }
    if f.negative {
        reasons.push(format!("{what}: no human offered: {}", f.gate()));
        return;
    }
    let (team, sla) = f
        .band_queue()
        .unwrap_or_else(|| (f.policy.fallback_team.clone(), SlaMinutes::default()));
    reasons.push(format!(
        "{what}: a human is offered, capture handoff to {team}"
    ));
    *plan = Some(Plan::Capture {
        trigger: HandoffTrigger::StallOrFrustration,
        team,
        sla,
    });
}

/// Rule N1: an enrolled lead that engages again (a reply, a form sent again) within its sequence's
/// window, while its band hands it to nobody, is captured for the first band that queues for a human
/// (WARM), with that band's SLAs. After the window, or for a negative persona, it stays in nurture.
fn nurture_reply(f: &Facts, plan: &mut Option<Plan>, reasons: &mut Vec<String>) {
    let (Some(what), Some(enrolment)) = (engagement(f.scored), f.enrolment) else {
        return;
    };
    let at = f.scored.enriched.lead.occurred_at;
    let Some(window_h) = f.policy.nurture_window_hours(&enrolment.tier) else {
        return;
    };
    if at < enrolment.enrolled_at {
        return; // an engagement older than the enrolment answers nothing of it
    }
    let elapsed_h = (at.0 - enrolment.enrolled_at.0) as f64 / 3_600_000.0;
    let what = format!(
        "{what} {elapsed_h:.1} h after enrolment in the {} sequence",
        enrolment.tier
    );
    if elapsed_h > f64::from(window_h) {
        reasons.push(format!(
            "{what}, outside its {window_h} h window: stays in nurture"
        ));
        return;
    }
    if let Some(p) = plan {
        reasons.push(format!(
            "{what} ({} takes priority)",
            trigger_text(p.trigger())
        ));
        return;
    }
    if f.band_queue().is_some() {
        reasons.push(format!("{what}: the band's own handoff applies"));
        return;
    }
    if f.negative {
        reasons.push(format!("{what}: no human: {}", f.gate()));
        return;
    }
    let (team, sla) = f
        .policy
        .bands
        .iter()
        .find(|b| b.action == BandAction::Queue)
        .map_or_else(
            || (f.policy.fallback_team.clone(), SlaMinutes::default()),
            |b| (b.team.clone(), b.sla),
        );
    reasons.push(format!(
        "{what}, within its {window_h} h window: capture handoff to {team}"
    ));
    *plan = Some(Plan::Capture {
        trigger: HandoffTrigger::NurtureReply,
        team,
        sla,
    });
}

/// Trigger T5: a warm lead still talking after several exchanges: soft escalation (a resource now,
/// no call); the band's queue still applies when the lead qualifies for it. Returns whether the
/// resource goes with the nurture instead (nobody to hand over to).
fn warm_conversation(f: &Facts, plan: &mut Option<Plan>, reasons: &mut Vec<String>) -> bool {
    let exchanges = f.chat.map_or(0, |c| c.exchange_count);
    let min_exchanges = f.policy.soft_escalation.min_exchanges;
    let warm = f.chat.is_some()
        && f.band.lead_level == LeadLevel::Warm
        && u32::try_from(exchanges).is_ok_and(|e| e >= min_exchanges);
    if !warm {
        return false;
    }
    let what = format!("warm lead after {exchanges} exchanges (at least {min_exchanges})");
    if let Some(p) = plan {
        reasons.push(format!(
            "{what}: no soft escalation ({} takes priority)",
            trigger_text(p.trigger())
        ));
        return false;
    }
    if f.negative {
        reasons.push(format!("{what}: no soft escalation: {}", f.gate()));
        return false;
    }
    if let Some((team, sla)) = f.band_queue() {
        reasons.push(format!(
            "{what}: soft escalation, a resource is offered instead of a call; the band's queue for {team} still applies"
        ));
        *plan = Some(Plan::Soft { team, sla });
        return false;
    }
    // nobody to hand over to: no handoff, but the resource goes with the nurture
    reasons.push(format!(
        "{what}: a resource is offered with the nurture, no handoff: {}",
        if f.band.action.is_human() {
            f.gate()
        } else {
            format!("band {} does not queue for a human", f.band.tier)
        }
    ));
    *plan = Some(Plan::NoHandoff {
        team: NURTURE_TEAM.into(),
        sla: SlaMinutes::default(),
    });
    true
}

/// Rule B: no trigger decided, so the score band does (G2 keeps a gated lead out of the queue).
fn band_plan(f: &Facts, reasons: &mut Vec<String>) -> Plan {
    let band = &f.band;
    if band.action.is_human() && !f.eligible {
        reasons.push(format!(
            "band {} would {}, but {}: kept out of the human queue, nurture until more signals accumulate",
            band.tier,
            band.action.describe(),
            f.gate()
        ));
        return Plan::NoHandoff {
            team: NURTURE_TEAM.into(),
            sla: SlaMinutes::default(),
        };
    }
    let (team, sla) = (band.team.clone(), band.sla);
    match band.action {
        BandAction::Escalate => Plan::Escalate {
            trigger: HandoffTrigger::ScoreBand,
            team,
            sla,
        },
        BandAction::Queue => Plan::Capture {
            trigger: HandoffTrigger::ScoreBand,
            team,
            sla,
        },
        BandAction::Sequence | BandAction::Nurture => Plan::NoHandoff { team, sla },
    }
}

/// A plan placed in time: its deadlines, and outside business hours the capture with its
/// commitment that replaces an escalation.
struct Scheduled {
    handoff: HandoffKind,
    trigger: HandoffTrigger,
    team: String,
    sla: Vec<SlaDeadline>,
    commitment: Option<String>,
}

fn schedule(f: &Facts, plan: Plan, reasons: &mut Vec<String>) -> Scheduled {
    let (calendar, at, open) = (f.calendar, f.at, f.open);
    let rules = CommitmentRules {
        same_day_cutoff: f.policy.same_day_cutoff,
        next_morning_by: f.policy.next_morning_by,
    };
    let now = |handoff, trigger, team, sla: &SlaMinutes| Scheduled {
        handoff,
        trigger,
        team,
        sla: deadlines(calendar, at, sla),
        commitment: None,
    };
    let captured = |trigger, team, sla: &SlaMinutes, reasons: &mut Vec<String>| {
        let (sla, c) = capture(calendar, &rules, at, open, sla, reasons);
        Scheduled {
            handoff: HandoffKind::Capture,
            trigger,
            team,
            sla,
            commitment: Some(c.text),
        }
    };
    match plan {
        Plan::Escalate { trigger, team, sla } if open => {
            now(HandoffKind::Escalation, trigger, team, &sla)
        }
        Plan::Escalate { trigger, team, sla } => {
            reasons.push(
                "outside business hours: the escalation becomes a capture handoff with a specific commitment"
                    .into(),
            );
            captured(trigger, team, &sla, reasons)
        }
        Plan::Capture { trigger, team, sla } => captured(trigger, team, &sla, reasons),
        Plan::Soft { team, sla } if open || sla.is_empty() => now(
            HandoffKind::SoftEscalation,
            HandoffTrigger::WarmConversation,
            team,
            &sla,
        ),
        Plan::Soft { team, sla } => {
            reasons.push(
                "outside business hours: the soft escalation becomes a capture handoff with a specific commitment and the resource"
                    .into(),
            );
            captured(HandoffTrigger::WarmConversation, team, &sla, reasons)
        }
        Plan::NoHandoff { team, sla } => now(HandoffKind::None, HandoffTrigger::None, team, &sla),
    }
}

/// Rule R1: a resource for the visitor on a soft escalation (or with the nurture of a warm
/// conversation nobody is queued for), and on the after-hours capture of a hot lead or a stalled
/// conversation.
fn resource(
    f: &Facts,
    s: &Scheduled,
    nurture_resource: bool,
    reasons: &mut Vec<String>,
) -> Option<RecommendedResource> {
    let wants_resource = f.chat.is_some()
        && (s.trigger == HandoffTrigger::WarmConversation
            || nurture_resource
            || (!f.open
                && s.handoff == HandoffKind::Capture
                && matches!(
                    s.trigger,
                    HandoffTrigger::HotLead | HandoffTrigger::StallOrFrustration
                )));
    if !wants_resource {
        return None;
    }
    let topic = f.chat.and_then(|c| c.topic.as_deref());
    let r = pick_resource(&f.policy.resources, &f.policy.soft_escalation, topic);
    reasons.push(match &r {
        Some(r) => format!(
            "resource offered to the visitor: \"{}\" (topic {})",
            r.title, r.topic
        ),
        None => format!(
            "no resource offered: the catalogue has no entry for topic {} and no fallback topic",
            topic.map_or_else(|| "(none)".to_owned(), normalise_topic)
        ),
    });
    r
}

/// What is missing behind a lead's score (rule E1): the firmographics and the activity history.
fn evidence_gaps(scored: &ScoredLead) -> Vec<String> {
    let e = &scored.enriched;
    let mut gaps = Vec::new();
    match e.enrichment {
        EnrichmentStatus::Enriched => {}
        EnrichmentStatus::NotFound => {
            gaps.push("the firmographics provider does not know the company".to_owned());
        }
        EnrichmentStatus::ProviderUnavailable => {
            gaps.push("the firmographics provider was unavailable".to_owned());
        }
        EnrichmentStatus::Skipped if e.free_mail => {
            gaps.push("free-mail address, no company domain to look up".to_owned());
        }
        EnrichmentStatus::Skipped => gaps.push("no company domain to look up".to_owned()),
    }
    if e.lead.activities.is_empty() {
        gaps.push("no activity history".to_owned());
    }
    gaps
}

/// ` (gap; gap)` or nothing.
fn gaps_text(gaps: &[String]) -> String {
    if gaps.is_empty() {
        String::new()
    } else {
        format!(" ({})", gaps.join("; "))
    }
}

/// Team of a lead kept away from humans.
const NURTURE_TEAM: &str = "nurture";

/// Used only if a policy was built by hand with no band at all.
fn catch_all_band() -> Band {
    Band {
        tier: "NURTURE".into(),
        min_score: 0,
        lead_level: LeadLevel::Cold,
        action: BandAction::Nurture,
        team: NURTURE_TEAM.into(),
        sla: SlaMinutes::default(),
    }
}

/// SLA deadlines from `at`, in business time.
fn deadlines(calendar: &Calendar, at: DateTime<Utc>, sla: &SlaMinutes) -> Vec<SlaDeadline> {
    [
        (SlaKind::Assignment, sla.assignment),
        (SlaKind::FirstContact, sla.first_contact),
        (SlaKind::Qualification, sla.qualification),
    ]
    .into_iter()
    .filter_map(|(kind, minutes)| {
        minutes.map(|m| SlaDeadline {
            kind,
            due_at: Timestamp::from(
                calendar.add_business_time(at, Duration::minutes(i64::from(m))),
            ),
        })
    })
    .collect()
}

/// The deadlines and commitment of a capture handoff (POLICY.md rules S1–S4): the promise follows
/// the arrival time only (same day before closing, else the next business morning); the rep's
/// first-contact deadline is the band's deadline when that is earlier, else the promise — never
/// after what the visitor was told.
fn capture(
    calendar: &Calendar,
    rules: &CommitmentRules,
    at: DateTime<Utc>,
    open: bool,
    sla: &SlaMinutes,
    reasons: &mut Vec<String>,
) -> (Vec<SlaDeadline>, Commitment) {
    let mut sla = deadlines(calendar, at, sla);
    let band_first_contact = sla
        .iter()
        .find(|d| d.kind == SlaKind::FirstContact)
        .map(|d| d.due_at.to_datetime());
    let c = commit(calendar, rules, at);
    let first_contact = band_first_contact.map_or(c.due, |d| d.min(c.due));
    match sla.iter_mut().find(|d| d.kind == SlaKind::FirstContact) {
        Some(d) => d.due_at = Timestamp::from(first_contact),
        None => {
            let idx = sla
                .iter()
                .position(|d| d.kind == SlaKind::Qualification)
                .unwrap_or(sla.len());
            sla.insert(
                idx,
                SlaDeadline {
                    kind: SlaKind::FirstContact,
                    due_at: Timestamp::from(first_contact),
                },
            );
        }
    }
    let when = |t: DateTime<Utc>| {
        calendar
            .local(t)
            .format("%H:%M %Z on %A %-d %B")
            .to_string()
    };
    let cutoff = rules.same_day_cutoff.format("%H:%M");
    let after_cutoff = calendar.local(at).time() >= rules.same_day_cutoff;
    reasons.push(match (c.slot, open) {
        (CommitmentSlot::SameDay, _) => format!(
            "capture during business hours before the {cutoff} cutoff: reply promised before closing today ({})",
            when(c.due)
        ),
        (CommitmentSlot::NextBusinessMorning, true) if after_cutoff => format!(
            "arrived after the {cutoff} same-day cutoff: no same-day promise, reply promised before {}, the next business morning",
            when(c.due)
        ),
        (CommitmentSlot::NextBusinessMorning, _) => format!(
            "reply promised before {}, the next business morning",
            when(c.due)
        ),
    });
    reasons.push(match band_first_contact {
        Some(d) if d < c.due => format!(
            "first-contact deadline {}: the band's SLA, earlier than the promise",
            when(d)
        ),
        Some(d) => format!(
            "first-contact deadline {}: the promise (the band's SLA would end later, at {}; the rep is never due after what the visitor was told)",
            when(c.due),
            when(d)
        ),
        None => format!(
            "first-contact deadline {}: the promise",
            when(c.due)
        ),
    });
    (sla, c)
}

fn band_reason(score: i32, band: &Band, policy: &TierPolicy) -> String {
    let sla = if band.sla.is_empty() {
        String::new()
    } else {
        format!(", {} (business time)", band.sla.describe())
    };
    format!(
        "score {score} is in band {} ({}–{}) of {}: {}, team {}{sla}",
        band.tier,
        band.min_score,
        policy.max_score_of(band),
        policy.version,
        band.action.describe(),
        band.team
    )
}

fn hours_reason(at: DateTime<Utc>, open: bool, calendar: &Calendar) -> String {
    let local = calendar.local(at);
    let date = local.date_naive();
    let why = if open {
        "inside business hours"
    } else if calendar.is_holiday(date) {
        "outside business hours: a public holiday"
    } else if !calendar.is_business_day(date) {
        "outside business hours: not a working day"
    } else if local.time() < calendar.open_time() {
        "outside business hours: before opening"
    } else {
        "outside business hours: after closing"
    };
    format!(
        "event time {}: {why} ({})",
        local.format("%A %-d %B %Y %H:%M %Z"),
        calendar.hours_text()
    )
}

fn trigger_text(t: HandoffTrigger) -> &'static str {
    match t {
        HandoffTrigger::HotLead => "the hot-lead trigger",
        HandoffTrigger::ExplicitRequest => "the explicit request for a human",
        HandoffTrigger::OutOfScope => "the out-of-scope question",
        HandoffTrigger::StallOrFrustration => "the stall",
        HandoffTrigger::ScoreBand => "the score band",
        HandoffTrigger::WarmConversation => "the soft escalation",
        HandoffTrigger::NurtureReply => "the reply to the nurture sequence",
        HandoffTrigger::None => "nothing",
    }
}

fn persona_text(p: Persona) -> &'static str {
    match p {
        Persona::N1 => "competitor",
        Persona::N2 => "researcher",
        _ => "visitor",
    }
}

#[cfg(test)]
mod tests {
    use leadflow_events::samples;

    use super::*;

    #[test]
    fn input_check_table() {
        let cases = [
            (91, 0.9, true),
            (0, 0.0, true),
            (100, 1.0, true),
            (101, 0.9, false),
            (-1, 0.9, false),
            (50, 1.2, false),
            (50, -0.1, false),
            (50, f64::NAN, false),
        ];
        for (score, confidence, ok) in cases {
            let mut s = samples::scored_lead();
            s.score = score;
            s.confidence = confidence;
            assert_eq!(
                check_input(&s).is_ok(),
                ok,
                "score {score} confidence {confidence}"
            );
        }
    }

    /// Rule RS1: a re-entered lead's first reason says it was re-scored and from what score; a lead
    /// without the attribute gets no such reason.
    #[test]
    fn a_rescored_lead_says_so_first() {
        let cases: [(Option<&str>, Option<&str>, Option<&str>); 4] = [
            (None, None, None),
            (
                Some("intent"),
                Some("48"),
                Some("re-scored (intent): score 74, was 48"),
            ),
            (
                Some("scheduled"),
                Some("30"),
                Some("re-scored (scheduled): score 74, was 30"),
            ),
            (Some("intent"), None, Some("re-scored (intent): score 74")),
        ];
        for (why, was, want) in cases {
            let mut s = samples::scored_lead();
            s.score = 74;
            let attributes = &mut s.enriched.lead.attributes;
            if let Some(why) = why {
                attributes.insert(RESCORE_ATTRIBUTE.into(), why.into());
            }
            if let Some(was) = was {
                attributes.insert(RESCORE_PREVIOUS_SCORE_ATTRIBUTE.into(), was.into());
            }
            assert_eq!(rescore_reason(&s).as_deref(), want, "{why:?} {was:?}");
        }
    }
}
