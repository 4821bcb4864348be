//! The score's features, exactly as the score computes them (RULES.md R2).
//!
//! The Lead Priority Score is linear in its factors before caps: every factor is a model weight times
//! an amount (1 for a fit fact, the decayed and repeat-shared count for an activity kind, the chat's
//! confidence for a qualification dimension, the count for a disqualifier). Scoring a lead with a
//! *probe* model whose every weight is [`PROBE_WEIGHT`] and whose caps never bind gives those
//! amounts back, through the score's own code (no second copy of the rules).

use std::collections::HashMap;

use leadflow_events::{EnrichedLead, ModelParams};
use leadflow_score::{Model, ModelError, assess};

/// Weight of every code in the probe model; factor points are reported to 0.1, so amounts come back
/// to 0.01.
pub const PROBE_WEIGHT: f64 = 10.0;

/// Caps of the probe model: never reached by the probe's weights.
const PROBE_CAP: f64 = 1000.0;

/// Which score component a code belongs to (SC1): score's own classification.
pub use leadflow_score::explain::Component;

/// A lead's features: (code index, amount) for every factor that applies. Disqualifier amounts are
/// negative (points are subtracted), so the score is Σ weight · amount for every code.
pub type Features = Vec<(u16, f32)>;

/// The codes recalibration fits, and the probe that extracts their amounts.
#[derive(Clone, Debug)]
pub struct FeatureSpace {
    codes: Vec<String>,
    components: Vec<Component>,
    index: HashMap<String, u16>,
    probe: Model,
}

impl FeatureSpace {
    /// The feature space of a model: its weight codes, its half-life.
    pub fn of(params: &ModelParams) -> Result<Self, ModelError> {
        let mut probe = params.clone();
        probe.version = format!("{}-probe", params.version);
        for w in probe.weights.values_mut() {
            *w = PROBE_WEIGHT;
        }
        probe.fit_max = PROBE_CAP;
        probe.intent_max = PROBE_CAP;
        probe.qualification_max = PROBE_CAP;
        let probe = Model::from_params(probe, &params.model)?;
        let codes: Vec<String> = params.weights.keys().cloned().collect();
        let components = codes.iter().map(|c| Component::of(c)).collect();
        let index = codes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), i as u16))
            .collect();
        Ok(Self {
            codes,
            components,
            index,
            probe,
        })
    }

    /// The embedded default model's space (every code the hand-set model knows).
    pub fn default_space(model_name: &str) -> Result<Self, ModelError> {
        Self::of(Model::embedded(model_name)?.params())
    }

    pub fn len(&self) -> usize {
        self.codes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    pub fn code(&self, i: usize) -> &str {
        &self.codes[i]
    }

    pub fn codes(&self) -> &[String] {
        &self.codes
    }

    pub fn component(&self, i: usize) -> Component {
        self.components[i]
    }

    /// The amounts of every factor of `lead`, as the score computes them.
    pub fn extract(&self, lead: &EnrichedLead) -> Features {
        let a = assess(lead, &self.probe, usize::MAX);
        let mut out: Features = a
            .factors
            .iter()
            .filter_map(|f| {
                let i = *self.index.get(&f.code)?;
                Some((i, (f.points / PROBE_WEIGHT) as f32))
            })
            .collect();
        out.sort_by_key(|(i, _)| *i);
        out
    }

    /// Weights of `params` in this space's order (0 for codes it lacks).
    pub fn weights_of(&self, params: &ModelParams) -> Vec<f64> {
        self.codes
            .iter()
            .map(|c| params.weights.get(c).copied().unwrap_or(0.0))
            .collect()
    }

    /// The score `params` gives a lead with these features (SC1 from features: caps per component,
    /// rounded, clamped to 0–100).
    pub fn score(&self, params: &ModelParams, weights: &[f64], features: &Features) -> i32 {
        let (mut fit, mut intent, mut qual, mut neg) = (0.0, 0.0, 0.0, 0.0);
        for &(i, x) in features {
            let i = usize::from(i);
            let p = weights.get(i).copied().unwrap_or(0.0) * f64::from(x);
            match self.components[i] {
                Component::Fit => fit += p,
                Component::Intent => intent += p,
                Component::Qualification => qual += p,
                Component::Negative => neg += p,
            }
        }
        let total = fit.min(params.fit_max)
            + intent.min(params.intent_max)
            + qual.min(params.qualification_max)
            + neg;
        total.round().clamp(0.0, 100.0) as i32
    }
}

#[cfg(test)]
mod tests {
    use leadflow_events::samples;
    use leadflow_score::score;

    use super::*;

    #[test]
    fn features_reproduce_the_live_score() {
        let model = Model::embedded("lead-priority").unwrap();
        let space = FeatureSpace::of(model.params()).unwrap();
        let lead = samples::enriched_lead();
        let f = space.extract(&lead);
        assert!(!f.is_empty());
        let w = space.weights_of(model.params());
        let expected = score(&lead, &model).score;
        let got = space.score(model.params(), &w, &f);
        assert!((got - expected).abs() <= 1, "{got} vs {expected}");
    }

    #[test]
    fn disqualifiers_are_negative_amounts() {
        let model = Model::embedded("lead-priority").unwrap();
        let space = FeatureSpace::of(model.params()).unwrap();
        let mut lead = samples::enriched_lead();
        lead.lead.contact.email = None;
        let f = space.extract(&lead);
        let missing = space
            .codes()
            .iter()
            .position(|c| c == "negative.missing_email")
            .unwrap();
        let amount = f
            .iter()
            .find(|(i, _)| usize::from(*i) == missing)
            .map(|p| p.1);
        assert_eq!(amount, Some(-1.0));
        assert_eq!(space.component(missing), Component::Negative);
    }
}
