//! Building the context packet (RULES.md §5): summary, qualification, visitor and session data,
//! top factors, next step, booking link, commitment, SLA deadlines, idempotency key.

use std::fmt::Write as _;

use leadflow_events::{
    ActivityKind, Assignee, HandoffKind, HandoffPacket, HandoffTrigger, LeadEventType, LeadLevel,
    OutOfScopeCategory, QualificationDimension, ResourceLink, SessionData, SlaDeadline, SlaKind,
    TierDecision, Timestamp, VisitorData,
};

use crate::roster::Rep;

/// Stable key of a packet: lead id + the decision's identity (event id, tier, trigger) + level.
/// A redelivery or replay of the same decision reproduces it; a reassignment (new level) changes it.
pub fn idempotency_key(decision: &TierDecision, escalation_level: i32) -> String {
    let lead = &decision.scored.enriched.lead;
    format!(
        "{}|{}|{}|{}|{}",
        lead.lead_id,
        lead.event_id,
        decision.tier,
        trigger_code(decision.trigger),
        escalation_level
    )
}

/// Packet id: a UUID v5 of the idempotency key (unique per packet, reproducible).
pub fn packet_id(idempotency_key: &str) -> String {
    format!(
        "pkt-{}",
        uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, idempotency_key.as_bytes())
    )
}

fn trigger_code(t: HandoffTrigger) -> &'static str {
    match t {
        HandoffTrigger::HotLead => "HOT_LEAD",
        HandoffTrigger::ExplicitRequest => "EXPLICIT_REQUEST",
        HandoffTrigger::OutOfScope => "OUT_OF_SCOPE",
        HandoffTrigger::StallOrFrustration => "STALL_OR_FRUSTRATION",
        HandoffTrigger::ScoreBand => "SCORE_BAND",
        HandoffTrigger::None => "NONE",
        HandoffTrigger::WarmConversation => "WARM_CONVERSATION",
        HandoffTrigger::NurtureReply => "NURTURE_REPLY",
    }
}

/// A roster entry as the packet names it.
pub fn assignee(rep: &Rep, team: &str) -> Assignee {
    Assignee {
        rep_id: rep.state.rep_id.clone(),
        name: rep.state.name.clone(),
        email: rep.state.email.clone(),
        team: team.to_owned(),
        role: rep.state.role.as_str().to_owned(),
        slack_user_id: rep.state.slack_user_id.clone(),
        crm_owner_id: rep.state.crm_owner_id.clone(),
    }
}

/// Who the packet goes to and why.
#[derive(Clone, Debug, Default)]
pub struct Addressing {
    pub assignee: Option<Assignee>,
    pub manager_cc: Option<Assignee>,
    pub previous_assignee: Option<Assignee>,
    pub assignment_reason: String,
    pub unassigned_reason: Option<String>,
    pub escalation_level: i32,
}

/// Builds the packet of `decision`. `created_at` is the decision's event time for a first
/// assignment and the escalation's for a reassignment; `sla` the deadlines to carry.
pub fn build(
    decision: &TierDecision,
    addressing: Addressing,
    booking_url: &str,
    created_at: Timestamp,
    sla: Vec<SlaDeadline>,
) -> HandoffPacket {
    let key = idempotency_key(decision, addressing.escalation_level);
    let booking_link = (decision.handoff == HandoffKind::Escalation
        && decision.lead_level == LeadLevel::Hot
        && !booking_url.is_empty())
    .then(|| {
        let rep = addressing
            .assignee
            .as_ref()
            .map_or("", |a| a.rep_id.as_str());
        booking_url.replace("{rep_id}", rep)
    });
    HandoffPacket {
        packet_id: packet_id(&key),
        idempotency_key: key,
        summary: summary(decision),
        qualification: qualification(decision),
        visitor: visitor(decision),
        session: session(decision),
        top_factors: top_factors(decision),
        next_step: next_step(decision, booking_link.is_some()),
        recommended_resource: decision
            .recommended_resource
            .as_ref()
            .map(|r| ResourceLink {
                topic: r.topic.clone(),
                title: r.title.clone(),
                url: r.url.clone(),
            }),
        booking_link,
        commitment: decision.commitment.clone(),
        sla,
        priority: decision.scored.score,
        created_at,
        assignee: addressing.assignee,
        manager_cc: addressing.manager_cc,
        previous_assignee: addressing.previous_assignee,
        assignment_reason: addressing.assignment_reason,
        unassigned_reason: addressing.unassigned_reason,
        escalation_level: addressing.escalation_level,
        decision: decision.clone(),
        withdraws: None,
        committee: None,
    }
}

/// Three to five sentences from the chat or form signals, no LLM: who, from where, through which
/// channel; what they said (the chat's own summary or initiative, else their strongest activity);
/// the qualification state; the score and tier with the top factor; and why a human is needed (the
/// trigger), when there is one.
pub fn summary(decision: &TierDecision) -> String {
    let e = &decision.scored.enriched;
    let lead = &e.lead;
    let mut out = String::new();

    let name = full_name(decision).unwrap_or_else(|| "An anonymous visitor".into());
    let mut who = name;
    let role_company: Vec<&str> = [lead.contact.title.as_deref(), company_name(decision)]
        .into_iter()
        .flatten()
        .collect();
    if !role_company.is_empty() {
        let _ = write!(who, " ({})", role_company.join(", "));
    }
    let channel = match (lead.event_type, &lead.chat) {
        (_, Some(chat)) if chat.exchange_count > 0 => {
            format!("chatted with us ({} exchanges)", chat.exchange_count)
        }
        (LeadEventType::ChatConversation, _) => "started a chat".into(),
        (LeadEventType::FormSubmission, _) => "submitted a form".into(),
        (LeadEventType::ContentDownload, _) => "downloaded content".into(),
        (LeadEventType::Webinar, _) => "attended a webinar".into(),
        (LeadEventType::ProductSignup, _) => "signed up for the product".into(),
        (LeadEventType::IntentSurge, _) => "showed an intent surge".into(),
        (LeadEventType::CrmUpdate, _) => "was updated in the CRM".into(),
        (LeadEventType::EmailReply, _) => "replied to a nurture email".into(),
        (LeadEventType::Other, _) => format!("came in through {}", lead.source_system),
    };
    let _ = write!(out, "{who} {channel}");
    if let Some(c) = country(decision) {
        let _ = write!(out, " from {c}");
    }
    out.push('.');

    let said = lead
        .chat
        .as_ref()
        .and_then(|c| {
            c.summary
                .clone()
                .or_else(|| c.initiative.as_ref().map(|i| format!("Initiative: {i}")))
        })
        .or_else(|| strongest_activity(decision));
    if let Some(s) = said {
        out.push(' ');
        out.push_str(sentence(&s).as_str());
    }

    let dims = qualification(decision);
    let confirmed: Vec<&str> = dims
        .iter()
        .filter(|d| d.confirmed)
        .map(|d| d.dimension.as_str())
        .collect();
    let open: Vec<&str> = dims
        .iter()
        .filter(|d| !d.confirmed)
        .map(|d| d.dimension.as_str())
        .collect();
    if lead.chat.is_some() {
        match (confirmed.is_empty(), open.is_empty()) {
            (false, false) => {
                let _ = write!(
                    out,
                    " Confirmed: {}; still open: {}.",
                    confirmed.join(", "),
                    open.join(", ")
                );
            }
            (false, true) => {
                let _ = write!(
                    out,
                    " All four dimensions confirmed: {}.",
                    confirmed.join(", ")
                );
            }
            _ => out.push_str(" No qualification dimension confirmed yet."),
        }
    } else {
        out.push_str(" Not qualified in conversation yet (no chat).");
    }

    let _ = write!(
        out,
        " Score {} ({}, {} lead)",
        decision.scored.score,
        decision.tier,
        level_word(decision.lead_level)
    );
    let strongest = decision
        .scored
        .factors
        .iter()
        .max_by(|a, b| a.points.abs().total_cmp(&b.points.abs()));
    match strongest {
        Some(f) => {
            let _ = write!(out, "; strongest signal: {}.", trim_period(&f.explanation));
        }
        None => out.push('.'),
    }

    let why = match decision.trigger {
        HandoffTrigger::HotLead => {
            Some("Hot lead: escalated for an immediate conversation.".to_owned())
        }
        HandoffTrigger::ExplicitRequest => Some("They asked to talk to a person.".to_owned()),
        HandoffTrigger::OutOfScope => Some(format!(
            "They asked about {}, which the assistant does not handle.",
            out_of_scope_words(decision)
        )),
        HandoffTrigger::StallOrFrustration => {
            Some("The conversation stalled or the visitor got frustrated.".to_owned())
        }
        HandoffTrigger::WarmConversation => Some(
            "A warm lead still talking after several exchanges: offered a resource instead of a call."
                .to_owned(),
        ),
        HandoffTrigger::NurtureReply => Some(
            "They replied to the automated nurture sequence: a human takes the conversation over."
                .to_owned(),
        ),
        HandoffTrigger::ScoreBand | HandoffTrigger::None => None,
    };
    if let Some(w) = why {
        out.push(' ');
        out.push_str(&w);
    }
    out
}

fn level_word(l: LeadLevel) -> &'static str {
    match l {
        LeadLevel::Hot => "hot",
        LeadLevel::Warm => "warm",
        LeadLevel::Cold => "cold",
    }
}

fn out_of_scope_words(decision: &TierDecision) -> &'static str {
    match decision
        .scored
        .enriched
        .lead
        .chat
        .as_ref()
        .and_then(|c| c.out_of_scope)
    {
        Some(OutOfScopeCategory::ExistingClientSupport) => "support as an existing client",
        Some(OutOfScopeCategory::CommercialTerms) => "commercial terms",
        Some(OutOfScopeCategory::SensitiveInternal) => "a sensitive internal matter",
        Some(OutOfScopeCategory::LegalCompliance) => "legal or compliance questions",
        Some(OutOfScopeCategory::TechnicalScoping) => "technical scoping",
        None => "a topic outside its scope",
    }
}

fn sentence(s: &str) -> String {
    let t = s.trim();
    if t.ends_with(['.', '!', '?']) {
        t.to_owned()
    } else {
        format!("{t}.")
    }
}

fn trim_period(s: &str) -> &str {
    s.trim().trim_end_matches('.')
}

fn strongest_activity(decision: &TierDecision) -> Option<String> {
    let acts = &decision.scored.enriched.lead.activities;
    let rank = |k: ActivityKind| match k {
        ActivityKind::DemoRequest => 0,
        ActivityKind::PricingPageView => 1,
        _ => 2,
    };
    let a = acts.iter().min_by_key(|a| rank(a.kind))?;
    let what = match a.kind {
        ActivityKind::DemoRequest => "Requested a demo".to_owned(),
        ActivityKind::PricingPageView => "Viewed the pricing page".to_owned(),
        other => format!("Latest activity: {other:?}"),
    };
    Some(format!("{what} at {}", a.occurred_at.to_rfc3339()))
}

fn full_name(decision: &TierDecision) -> Option<String> {
    let c = &decision.scored.enriched.lead.contact;
    let parts: Vec<&str> = [c.first_name.as_deref(), c.last_name.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn company_name(decision: &TierDecision) -> Option<&str> {
    let e = &decision.scored.enriched;
    e.lead
        .company
        .name
        .as_deref()
        .or(e.company_domain.as_deref())
}

fn country(decision: &TierDecision) -> Option<String> {
    let e = &decision.scored.enriched;
    e.lead
        .contact
        .country
        .clone()
        .or_else(|| e.lead.company.country.clone())
        .or_else(|| e.firmographics.as_ref().and_then(|f| f.country.clone()))
}

/// The four dimensions with confirmation and confidence (all unconfirmed at 0 without a chat).
pub fn qualification(decision: &TierDecision) -> Vec<QualificationDimension> {
    let q = decision
        .scored
        .enriched
        .lead
        .chat
        .as_ref()
        .map(|c| c.qualification.clone())
        .unwrap_or_default();
    [
        ("problem", q.problem),
        ("authority", q.authority),
        ("company", q.company),
        ("timing", q.timing),
    ]
    .into_iter()
    .map(|(d, s)| QualificationDimension {
        dimension: d.into(),
        confirmed: s.confirmed,
        confidence: s.confidence,
    })
    .collect()
}

fn visitor(decision: &TierDecision) -> VisitorData {
    let c = &decision.scored.enriched.lead.contact;
    VisitorData {
        email: c.email.clone(),
        name: full_name(decision),
        company: company_name(decision).map(str::to_owned),
        title: c.title.clone(),
        phone: c.phone.clone(),
        country: country(decision),
    }
}

fn session(decision: &TierDecision) -> SessionData {
    decision
        .scored
        .enriched
        .lead
        .session
        .as_ref()
        .map(|s| SessionData {
            platform: s.platform.clone(),
            page: s.page_url.clone(),
            started_at: s.started_at,
        })
        .unwrap_or_default()
}

/// The three strongest score factors (by absolute points), in words with their points.
pub fn top_factors(decision: &TierDecision) -> Vec<String> {
    let mut f: Vec<_> = decision.scored.factors.iter().collect();
    f.sort_by(|a, b| b.points.abs().total_cmp(&a.points.abs()));
    f.into_iter()
        .take(3)
        .map(|f| {
            let text = trim_period(&f.explanation);
            // score's explanations already end with their points, e.g. "... (+12.0)"
            if text.ends_with(')') && (text.contains("(+") || text.contains("(-")) {
                text.to_owned()
            } else {
                format!("{text} ({:+})", f.points)
            }
        })
        .collect()
}

/// The recommended next step, by handoff kind and trigger, with the first deadline.
pub fn next_step(decision: &TierDecision, with_booking_link: bool) -> String {
    let due = first_due(&decision.sla).map(|d| format!(" by {}", d.to_rfc3339()));
    let due = due.as_deref().unwrap_or("");
    match (decision.handoff, decision.trigger) {
        (HandoffKind::Escalation, HandoffTrigger::ExplicitRequest) => {
            format!("Join the conversation now{due}: the visitor asked for a person.")
        }
        (HandoffKind::Escalation, HandoffTrigger::OutOfScope) => {
            format!(
                "Answer their question ({}){due}.",
                out_of_scope_words(decision)
            )
        }
        (HandoffKind::Escalation, HandoffTrigger::StallOrFrustration) => {
            format!("Take over the conversation{due} and unblock it.")
        }
        (HandoffKind::Escalation, _) if with_booking_link => {
            format!("Call or message them{due}; offer the booking link for a first meeting.")
        }
        (HandoffKind::Escalation, _) => format!("Contact them{due}."),
        (HandoffKind::Capture, _) => match &decision.commitment {
            Some(c) => format!("Follow up as promised ({c}); they left their details."),
            None => format!("Follow up{due}; they left their details."),
        },
        (HandoffKind::SoftEscalation, _) => match &decision.recommended_resource {
            Some(r) => format!(
                "They were offered \"{}\"; follow up{due} to set the agenda, no call was proposed.",
                r.title
            ),
            None => format!("Follow up{due} to set the agenda; no call was proposed."),
        },
        (HandoffKind::None, _) => "No human step: automated sequence.".into(),
    }
}

fn first_due(sla: &[SlaDeadline]) -> Option<Timestamp> {
    sla.iter()
        .filter(|d| d.kind != SlaKind::Qualification)
        .map(|d| d.due_at)
        .min()
        .or_else(|| sla.iter().map(|d| d.due_at).min())
}
