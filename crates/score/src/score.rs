//! The pure scoring function: an enriched lead and a model in, a scored lead out. No I/O, no clock.

use leadflow_events::{EnrichedLead, ScoreFactor, ScoredLead};

use crate::confidence;
use crate::explain::{self, Component, Contribution};
use crate::fit::FitFacts;
use crate::model::Model;
use crate::{intent, negative, qualification};

/// Factors reported by default.
pub const DEFAULT_MAX_FACTORS: usize = 6;

/// Everything the score stage computes about a lead, without the lead itself.
#[derive(Clone, Debug, PartialEq)]
pub struct Assessment {
    /// Lead Priority Score, 0–100.
    pub score: i32,
    /// Fit points after the `fit_max` cap.
    pub fit: f64,
    /// Intent points after the `intent_max` cap.
    pub intent: f64,
    /// Qualification points after the `qualification_max` cap.
    pub qualification: f64,
    /// Points subtracted by disqualifiers (a positive number).
    pub negative: f64,
    /// Evidence behind the score, 0..1.
    pub confidence: f64,
    /// Top contributions, largest absolute first.
    pub factors: Vec<ScoreFactor>,
}

impl Assessment {
    /// The scored lead carrying this assessment.
    pub fn into_scored(self, enriched: EnrichedLead, model_version: &str) -> ScoredLead {
        let scored_at = enriched.lead.occurred_at;
        ScoredLead {
            enriched,
            score: self.score,
            fit: self.fit,
            intent: self.intent,
            qualification: self.qualification,
            negative: self.negative,
            confidence: self.confidence,
            factors: self.factors,
            model_version: model_version.to_owned(),
            scored_at,
        }
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Sums a component's contributions; when the sum exceeds `cap`, scales them pro rata so they add up
/// to the cap, and returns the capped component.
fn cap_component(contributions: &mut [Contribution<'_>], component: Component, cap: f64) -> f64 {
    let sum: f64 = contributions
        .iter()
        .filter(|c| c.component == component)
        .map(|c| c.points)
        .sum();
    if sum <= cap {
        return sum;
    }
    let scale = cap / sum;
    for c in contributions
        .iter_mut()
        .filter(|c| c.component == component)
    {
        c.points *= scale;
    }
    cap
}

/// Scores `lead` with `model`, reporting at most `max_factors` factors.
///
/// Score = clamp(round(fit + intent + qualification − negative), 0, 100), each positive component
/// capped by the model (its factors scaled down pro rata when capped, so reported factor points add
/// up to the unclamped total).
pub fn assess(lead: &EnrichedLead, model: &Model, max_factors: usize) -> Assessment {
    let mut contributions = Vec::with_capacity(16);
    let facts = FitFacts::of(lead);
    facts.contribute(model, &mut contributions);
    let decay_sum = intent::contribute(lead, model, &mut contributions);
    qualification::contribute(lead, model, &mut contributions);
    negative::contribute(lead, model, &mut contributions);

    let fit = cap_component(&mut contributions, Component::Fit, model.fit_max());
    let intent = cap_component(&mut contributions, Component::Intent, model.intent_max());
    let qualification = cap_component(
        &mut contributions,
        Component::Qualification,
        model.qualification_max(),
    );
    let negative: f64 = -contributions
        .iter()
        .filter(|c| c.component == Component::Negative)
        .map(|c| c.points)
        .sum::<f64>();

    let total = fit + intent + qualification - negative;
    // Components are finite (weights and caps are bounded), so the cast cannot saturate wrongly.
    let score = total.round().clamp(0.0, 100.0) as i32;
    Assessment {
        score,
        fit: round2(fit),
        intent: round2(intent),
        qualification: round2(qualification),
        // + 0.0 turns the -0.0 of "nothing subtracted" into 0.0
        negative: round2(negative) + 0.0,
        confidence: confidence::confidence(lead, facts.known_fields(), decay_sum),
        factors: explain::top_factors(&contributions, max_factors),
    }
}

/// Scores `lead` with `model` ([`DEFAULT_MAX_FACTORS`] factors): the pure transform of the stage.
pub fn score(lead: &EnrichedLead, model: &Model) -> ScoredLead {
    score_with(lead.clone(), model, DEFAULT_MAX_FACTORS)
}

/// Scores an owned lead (no copy) with at most `max_factors` factors.
pub fn score_with(lead: EnrichedLead, model: &Model, max_factors: usize) -> ScoredLead {
    assess(&lead, model, max_factors).into_scored(lead, model.version())
}
