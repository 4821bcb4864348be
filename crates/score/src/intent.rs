//! Intent: behavioural activity with exponential recency decay.
//!
//! Each activity is worth its `activity.<KIND>` weight times `0.5^(age / half_life)`, where `age` is how
//! long before the lead event (`lead.occurred_at`, never the wall clock) it happened; activities dated
//! after the event count as age 0. Repeats of one kind have diminishing returns: sorted freshest
//! first, the n-th occurrence counts `0.5^(n-1)` of its decayed value, so one kind never yields more
//! than twice its weight. The lead event's own type counts as an activity at age 0 when the event
//! lists none of that kind (content download, webinar registration, intent surge, product signup).

use leadflow_events::{ActivityKind, EnrichedLead, LeadEventType};

use crate::codes;
use crate::explain::{Component, Contribution, Detail};
use crate::model::Model;

const DAY_MS: f64 = 86_400_000.0;

/// The share of its weight an activity `age_ms` old keeps: 1 at age 0, 0.5 after one half-life.
pub fn decay(age_ms: i64, half_life_days: f64) -> f64 {
    let age_days = age_ms.max(0) as f64 / DAY_MS;
    (-age_days / half_life_days).exp2()
}

/// The activity the lead event's own type stands for.
pub fn implied_activity(event_type: LeadEventType) -> Option<ActivityKind> {
    match event_type {
        LeadEventType::ContentDownload => Some(ActivityKind::ContentDownload),
        LeadEventType::Webinar => Some(ActivityKind::WebinarRegistered),
        LeadEventType::IntentSurge => Some(ActivityKind::IntentSurge),
        LeadEventType::ProductSignup => Some(ActivityKind::TrialSignup),
        LeadEventType::EmailReply => Some(ActivityKind::EmailReply),
        LeadEventType::FormSubmission
        | LeadEventType::ChatConversation
        | LeadEventType::CrmUpdate
        | LeadEventType::Other => None,
    }
}

/// Appends one contribution per weighted activity kind and returns the activity evidence: the sum of
/// the decay factors of every activity (weighted or not), used by confidence.
pub fn contribute<'a>(
    lead: &'a EnrichedLead,
    model: &'a Model,
    out: &mut Vec<Contribution<'a>>,
) -> f64 {
    let at = lead.lead.occurred_at.millis();
    let half_life = model.half_life_days();
    // (kind index, decay, age)
    let mut seen: Vec<(usize, f64, i64)> = lead
        .lead
        .activities
        .iter()
        .map(|a| {
            let age = at.saturating_sub(a.occurred_at.millis()).max(0);
            (codes::activity_index(a.kind), decay(age, half_life), age)
        })
        .collect();
    if let Some(kind) = implied_activity(lead.lead.event_type) {
        if !lead.lead.activities.iter().any(|a| a.kind == kind) {
            seen.push((codes::activity_index(kind), 1.0, 0));
        }
    }
    let evidence = seen.iter().map(|(_, d, _)| d).sum();
    seen.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.total_cmp(&a.1)));
    for group in seen.chunk_by(|a, b| a.0 == b.0) {
        let kind = codes::ACTIVITY_KINDS[group[0].0];
        let Some(w) = model.activity_weight(kind) else {
            continue;
        };
        let mut share = 0.0;
        let mut repeat = 1.0;
        for (_, d, _) in group {
            share += d * repeat;
            repeat *= 0.5;
        }
        let latest_age_ms = group.iter().map(|g| g.2).min().unwrap_or(0);
        out.push(Contribution {
            component: Component::Intent,
            code: &w.code,
            points: w.points * share,
            detail: Detail::Activity {
                kind,
                count: u32::try_from(group.len()).unwrap_or(u32::MAX),
                latest_age_ms,
            },
        });
    }
    evidence
}

#[cfg(test)]
mod tests {
    use leadflow_events::{Activity, Timestamp, samples};

    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn decay_table() {
        let cases = [
            (0, 14.0, 1.0),
            (14 * DAY, 14.0, 0.5),
            (28 * DAY, 14.0, 0.25),
            (7 * DAY, 7.0, 0.5),
            (-DAY, 14.0, 1.0),
            (42 * DAY, 14.0, 0.125),
        ];
        for (age, hl, want) in cases {
            let got = decay(age, hl);
            assert!((got - want).abs() < 1e-12, "decay({age}, {hl}) = {got}");
        }
    }

    fn lead_with(event_type: LeadEventType, activities: &[(ActivityKind, i64)]) -> EnrichedLead {
        let mut lead = samples::enriched_lead();
        lead.lead.event_type = event_type;
        let t0 = lead.lead.occurred_at.millis();
        lead.lead.activities = activities
            .iter()
            .map(|(kind, age)| Activity {
                kind: *kind,
                occurred_at: Timestamp(t0 - age),
                detail: None,
            })
            .collect();
        lead
    }

    fn points(lead: &EnrichedLead, model: &Model) -> (Vec<(String, f64, u32)>, f64) {
        let mut out = Vec::new();
        let evidence = contribute(lead, model, &mut out);
        let got = out
            .into_iter()
            .map(|c| {
                let count = match c.detail {
                    Detail::Activity { count, .. } => count,
                    _ => 0,
                };
                (c.code.to_owned(), c.points, count)
            })
            .collect();
        (got, evidence)
    }

    #[test]
    fn activity_points_decay_with_the_model_half_life() {
        let model = Model::embedded("lead-priority").unwrap();
        // pricing page weight 12, half-life 14 days
        let cases = [(0, 12.0), (14 * DAY, 6.0), (28 * DAY, 3.0)];
        for (age, want) in cases {
            let lead = lead_with(
                LeadEventType::FormSubmission,
                &[(ActivityKind::PricingPageView, age)],
            );
            let (got, evidence) = points(&lead, &model);
            assert_eq!(got.len(), 1);
            assert!((got[0].1 - want).abs() < 1e-9, "age {age}: {got:?}");
            assert!((evidence - want / 12.0).abs() < 1e-9);
        }
    }

    #[test]
    fn repeats_have_diminishing_returns() {
        let model = Model::embedded("lead-priority").unwrap();
        let lead = lead_with(
            LeadEventType::FormSubmission,
            &[
                (ActivityKind::PageView, 14 * DAY),
                (ActivityKind::PageView, 0),
                (ActivityKind::PageView, 0),
            ],
        );
        let (got, evidence) = points(&lead, &model);
        // weight 2: 1 + 0.5 + 0.5 * 0.25 = 1.625 shares
        assert_eq!(got, vec![("activity.PAGE_VIEW".to_owned(), 3.25, 3)]);
        assert!((evidence - 2.5).abs() < 1e-12);
        // a hundred repeats stay under twice the weight
        let many: Vec<_> = (0..100).map(|_| (ActivityKind::DemoRequest, 0)).collect();
        let (got, _) = points(&lead_with(LeadEventType::Other, &many), &model);
        assert!(got[0].1 <= 40.0 && got[0].1 > 39.9, "{got:?}");
    }

    #[test]
    fn event_type_counts_as_an_activity_unless_listed() {
        let model = Model::embedded("lead-priority").unwrap();
        let (got, _) = points(&lead_with(LeadEventType::ProductSignup, &[]), &model);
        assert_eq!(got, vec![("activity.TRIAL_SIGNUP".to_owned(), 15.0, 1)]);
        let (got, _) = points(
            &lead_with(
                LeadEventType::ProductSignup,
                &[(ActivityKind::TrialSignup, 14 * DAY)],
            ),
            &model,
        );
        assert_eq!(got, vec![("activity.TRIAL_SIGNUP".to_owned(), 7.5, 1)]);
        let (got, evidence) = points(&lead_with(LeadEventType::ChatConversation, &[]), &model);
        assert!(got.is_empty());
        assert_eq!(evidence, 0.0);
    }

    #[test]
    fn unweighted_kinds_add_evidence_but_no_points() {
        let mut params = samples::model_params();
        params.weights.insert("activity.DEMO_REQUEST".into(), 20.0);
        let model = Model::from_params(params, "lead-priority").unwrap();
        let lead = lead_with(
            LeadEventType::Other,
            &[(ActivityKind::EmailOpen, 0), (ActivityKind::DemoRequest, 0)],
        );
        let (got, evidence) = points(&lead, &model);
        assert_eq!(got, vec![("activity.DEMO_REQUEST".to_owned(), 20.0, 1)]);
        assert_eq!(evidence, 2.0);
    }
}
