//! The default model's calibration against the leads the product cares about (RULES.md SC1, and the
//! bands of crates/tier/POLICY.md B1/B2).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use leadflow_events::{
    Activity, ActivityKind, Company, Contact, EnrichedLead, EnrichmentStatus, Firmographics,
    LeadEventType, Persona, ScoredLead, Timestamp, samples,
};
use leadflow_score::explain::factor_order;
use leadflow_score::{Model, score};

const DAY: i64 = 86_400_000;

fn model() -> Model {
    Model::embedded("lead-priority").expect("default model")
}

fn activity(lead: &EnrichedLead, kind: ActivityKind, age_ms: i64) -> Activity {
    Activity {
        kind,
        occurred_at: Timestamp(lead.lead.occurred_at.0 - age_ms),
        detail: None,
    }
}

/// A lead nobody knows anything about, whose only activity is a page view 90 days before.
fn cold_lead() -> EnrichedLead {
    let mut lead = samples::enriched_lead();
    lead.lead.event_type = LeadEventType::Other;
    lead.lead.contact = Contact {
        email: Some("someone@example.org".into()),
        ..Contact::default()
    };
    lead.lead.company = Company::default();
    lead.lead.chat = None;
    lead.lead.activities = vec![activity(&lead, ActivityKind::PageView, 90 * DAY)];
    lead.firmographics = None;
    lead.enrichment = EnrichmentStatus::NotFound;
    lead.persona = Persona::Unknown;
    lead
}

/// A director of operations at a 201-1000 manufacturer who read content, attended a webinar and
/// looked at pricing within the last week, no chat.
fn mid_lead() -> EnrichedLead {
    let mut lead = samples::enriched_lead();
    lead.lead.event_type = LeadEventType::ContentDownload;
    lead.lead.contact.title = Some("Director of Operations".into());
    lead.lead.contact.department = Some("Operations".into());
    lead.lead.chat = None;
    lead.firmographics = Some(Firmographics {
        provider: "local-dataset".into(),
        industry: Some("manufacturing".into()),
        employee_band: Some("201-1000".into()),
        revenue_band: Some("50M-250M".into()),
        country: Some("DE".into()),
    });
    lead.persona = Persona::P2;
    lead.lead.activities = vec![
        activity(&lead, ActivityKind::ContentDownload, 0),
        activity(&lead, ActivityKind::WebinarAttended, 3 * DAY),
        activity(&lead, ActivityKind::PricingPageView, 5 * DAY),
    ];
    lead
}

fn assert_well_formed(s: &ScoredLead, max_factors: usize) {
    assert!((0..=100).contains(&s.score), "score {}", s.score);
    assert!(
        (0.0..=1.0).contains(&s.confidence),
        "confidence {}",
        s.confidence
    );
    assert!(s.factors.len() <= max_factors);
    for pair in s.factors.windows(2) {
        assert_ne!(
            factor_order(&pair[0], &pair[1]),
            std::cmp::Ordering::Greater,
            "factors out of order: {:?}",
            s.factors
        );
    }
    for f in &s.factors {
        assert!(
            f.explanation.ends_with(&format!("({:+.1})", f.points)),
            "{f:?}"
        );
    }
}

#[test]
fn hot_sample_scores_85_plus_with_confidence() {
    let s = score(&samples::enriched_lead(), &model());
    assert_well_formed(&s, 6);
    assert!(s.score >= 85, "score {} {:#?}", s.score, s.factors);
    assert!(s.confidence >= 0.8, "confidence {}", s.confidence);
    assert_eq!(s.model_version, "default-1");
    assert_eq!(s.scored_at, samples::enriched_lead().lead.occurred_at);
    assert_eq!(s.negative, 0.0);
    assert_eq!(s.fit, 40.0, "fit is capped");
    assert_eq!(s.factors.len(), 6);
    assert_eq!(s.factors[0].code, "activity.DEMO_REQUEST");
    assert_eq!(
        s.factors[0].explanation,
        "Requested a demo 10 minutes before (+20.0)"
    );
    let pricing = s
        .factors
        .iter()
        .find(|f| f.code == "activity.PRICING_PAGE_VIEW")
        .expect("pricing factor");
    assert_eq!(
        pricing.explanation,
        "Viewed the pricing page 1 hour before (+12.0)"
    );
}

#[test]
fn competitor_and_researcher_score_well_below_50() {
    for (persona, code) in [
        (Persona::N1, "negative.competitor"),
        (Persona::N2, "negative.researcher"),
    ] {
        let mut lead = samples::enriched_lead();
        lead.persona = persona;
        let s = score(&lead, &model());
        assert_well_formed(&s, 6);
        assert!(s.score < 40, "{persona:?}: {} {:#?}", s.score, s.factors);
        assert_eq!(s.factors[0].code, code, "{persona:?}");
        assert!(s.factors[0].points < 0.0);
    }
}

#[test]
fn cold_lead_scores_below_30() {
    let s = score(&cold_lead(), &model());
    assert_well_formed(&s, 6);
    assert!(s.score < 30, "score {} {:#?}", s.score, s.factors);
    assert!(s.confidence < 0.3, "confidence {}", s.confidence);
}

#[test]
fn mid_leads_land_between_50_and_84() {
    // the hot sample before its chat: great fit and a demo request, nothing confirmed yet
    let mut no_chat = samples::enriched_lead();
    no_chat.lead.chat = None;
    for (name, lead) in [("director", mid_lead()), ("no chat yet", no_chat)] {
        let s = score(&lead, &model());
        assert_well_formed(&s, 6);
        assert!(
            (50..=84).contains(&s.score),
            "{name}: score {} {:#?}",
            s.score,
            s.factors
        );
        assert_eq!(s.qualification, 0.0, "{name}");
    }
}

#[test]
fn score_clamps_at_0_and_100() {
    let model = model();
    // everything at once: a hot lead with every activity fresh and every dimension confirmed
    let mut hot = samples::enriched_lead();
    hot.lead.activities = leadflow_score::codes::ACTIVITY_KINDS
        .iter()
        .map(|k| activity(&hot, *k, 0))
        .collect();
    if let Some(c) = &mut hot.lead.chat {
        c.human_requested = true;
        for d in [
            &mut c.qualification.problem,
            &mut c.qualification.authority,
            &mut c.qualification.company,
            &mut c.qualification.timing,
        ] {
            d.confirmed = true;
            d.confidence = 1.0;
        }
    }
    let s = score(&hot, &model);
    assert_eq!(s.score, 100);
    assert_eq!((s.fit, s.intent, s.qualification), (40.0, 40.0, 30.0));
    let factor_sum: f64 = s.factors.iter().map(|f| f.points).sum();
    assert!(factor_sum <= 110.0 + 0.5);

    // every disqualifier at once on the cold lead
    let mut bad = cold_lead();
    bad.persona = Persona::N1;
    bad.free_mail = true;
    bad.lead.contact.email = Some("not-an-email".into());
    bad.quality_warnings = vec!["free-mail address".into(), "missing company".into()];
    let s = score(&bad, &model);
    assert_eq!(s.score, 0);
    assert!(s.negative > 80.0, "{}", s.negative);
}

#[test]
fn same_input_and_model_give_the_same_output() {
    let model = model();
    for lead in [samples::enriched_lead(), cold_lead(), mid_lead()] {
        assert_eq!(score(&lead, &model), score(&lead, &model));
    }
}

#[test]
fn scored_lead_round_trips_the_avro_contract() {
    let s = score(&samples::enriched_lead(), &model());
    let json = leadflow_events::json::event_to_json(&s).expect("encodes through the schema");
    assert_eq!(json["model_version"], "default-1");
}

#[test]
fn older_activity_scores_less() {
    let model = model();
    let mut previous = i32::MAX;
    for age_days in [0, 7, 14, 28, 56] {
        let mut lead = mid_lead();
        lead.lead.activities = vec![activity(&lead, ActivityKind::DemoRequest, age_days * DAY)];
        lead.lead.event_type = LeadEventType::FormSubmission;
        let s = score(&lead, &model);
        assert!(s.score <= previous, "{age_days} days: {}", s.score);
        previous = s.score;
    }
}
