//! POLICY.md rules T1 and E1 through the real scorer: a lead whose firmographics are missing (company
//! unknown to the provider, provider down, free-mail address) is scored by the default model and then
//! decided. A chat that confirmed a hot lead is escalated whatever the profile; a lead kept from a
//! human while its firmographics are missing says why.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use leadflow_events::{
    EnrichedLead, EnrichmentStatus, HandoffKind, HandoffTrigger, LeadLevel, ScoredLead, Timestamp,
    samples,
};
use leadflow_score::{Model, score};
use leadflow_tier::{TierSettings, decide};

/// The visitor: a VP whose chat confirmed problem, authority and timing at 0.90, no activity
/// history, a company the source gave only by name.
fn vp_chat(enrichment: EnrichmentStatus) -> EnrichedLead {
    let mut e = samples::enriched_lead();
    e.enrichment = enrichment;
    e.firmographics = None;
    e.lead.activities.clear();
    e.lead.company.industry = None;
    e.lead.company.employee_count = None;
    e.lead.company.annual_revenue_usd = None;
    e.lead.occurred_at = Timestamp::parse_rfc3339("2026-11-24T09:30:00Z").unwrap();
    let q = &mut e.lead.chat.as_mut().unwrap().qualification;
    for d in [&mut q.problem, &mut q.authority, &mut q.timing] {
        d.confirmed = true;
        d.confidence = 0.9;
    }
    q.company.confirmed = false;
    q.company.confidence = 0.3;
    e
}

fn free_mail(mut e: EnrichedLead) -> EnrichedLead {
    e.free_mail = true;
    e.email_domain = Some("gmail.com".into());
    e.company_domain = None;
    e.lead.contact.email = Some("vp.someone@gmail.com".into());
    e.lead.company.domain = None;
    e.lead.account_domain = None;
    e
}

fn no_chat(mut e: EnrichedLead) -> EnrichedLead {
    e.lead.chat = None;
    e
}

fn scored(e: &EnrichedLead) -> ScoredLead {
    score(e, &Model::embedded("lead-priority").unwrap())
}

#[test]
fn hot_chats_with_missing_firmographics_are_escalated() {
    let cases = [
        (
            "company unknown to the provider",
            vp_chat(EnrichmentStatus::NotFound),
            "the firmographics provider does not know the company; no activity history",
        ),
        (
            "provider down",
            vp_chat(EnrichmentStatus::ProviderUnavailable),
            "the firmographics provider was unavailable; no activity history",
        ),
        (
            "free-mail address",
            free_mail(vp_chat(EnrichmentStatus::Skipped)),
            "free-mail address, no company domain to look up; no activity history",
        ),
    ];
    let (policy, calendar) = TierSettings::default().build().unwrap();
    for (name, lead, gaps) in cases {
        let s = scored(&lead);
        assert!(
            s.confidence < policy.confidence_threshold,
            "{name}: the case needs a low score confidence, got {}",
            s.confidence
        );
        assert!(
            s.score < 85,
            "{name}: the case needs a score below HOT, got {}",
            s.score
        );
        let d = decide(&s, &policy, &calendar);
        let ctx = format!(
            "{name} (score {}, confidence {})\n{:#?}",
            s.score, s.confidence, d.reasons
        );
        assert_eq!(d.handoff, HandoffKind::Escalation, "{ctx}");
        assert_eq!(d.trigger, HandoffTrigger::HotLead, "{ctx}");
        assert_eq!(d.lead_level, LeadLevel::Hot, "{ctx}");
        assert_eq!(d.target_team, "ae", "{ctx}");
        assert!(
            d.reasons
                .iter()
                .any(|r| r.starts_with("the score band is low for a hot lead")
                    && r.ends_with(&format!("the profile is thin ({gaps})"))),
            "{ctx}"
        );
    }
}

#[test]
fn a_weak_dimension_still_blocks_the_hot_lead() {
    let mut lead = vp_chat(EnrichmentStatus::NotFound);
    lead.lead
        .chat
        .as_mut()
        .unwrap()
        .qualification
        .authority
        .confidence = 0.6;
    let (policy, calendar) = TierSettings::default().build().unwrap();
    let d = decide(&scored(&lead), &policy, &calendar);
    assert_eq!(d.handoff, HandoffKind::None, "{:#?}", d.reasons);
    assert!(
        d.reasons.iter().any(|r| r
            .contains("the qualifier's confidence in authority 0.60 is below the 0.80 threshold")),
        "{:#?}",
        d.reasons
    );
}

#[test]
fn no_handoff_with_missing_firmographics_says_why() {
    let cases = [
        (
            "form, company unknown",
            no_chat(vp_chat(EnrichmentStatus::NotFound)),
            "the firmographics provider does not know the company",
        ),
        (
            "form, provider down",
            no_chat(vp_chat(EnrichmentStatus::ProviderUnavailable)),
            "the firmographics provider was unavailable",
        ),
        (
            "form, free mail",
            no_chat(free_mail(vp_chat(EnrichmentStatus::Skipped))),
            "free-mail address, no company domain to look up",
        ),
    ];
    let (policy, calendar) = TierSettings::default().build().unwrap();
    for (name, lead, gap) in cases {
        let d = decide(&scored(&lead), &policy, &calendar);
        assert_eq!(d.handoff, HandoffKind::None, "{name}");
        assert!(
            d.reasons.iter().any(|r| r.starts_with(&format!(
                "no handoff while the firmographics are missing ({gap}"
            ))),
            "{name}: {:#?}",
            d.reasons
        );
    }
}

#[test]
fn a_human_band_kept_back_by_low_confidence_names_the_missing_enrichment() {
    // a WARM score from behaviour alone, the provider down: the score band stays gated by the score's
    // confidence, and the reason names the outage
    let mut s = scored(&no_chat(vp_chat(EnrichmentStatus::ProviderUnavailable)));
    s.score = 78;
    s.confidence = 0.55;
    let (policy, calendar) = TierSettings::default().build().unwrap();
    let d = decide(&s, &policy, &calendar);
    assert_eq!(d.handoff, HandoffKind::None);
    assert!(
        d.reasons.iter().any(|r| r.contains(
            "score confidence 0.55 is below the 0.80 threshold (the firmographics provider was unavailable; no activity history)"
        )),
        "{:#?}",
        d.reasons
    );
}
