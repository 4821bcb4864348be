//! The promotion gate (RULES.md R6): on a time-based holdout the candidate must beat the live model
//! by the configured margins and must not move too many leads across tier boundaries.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::evaluate::{auc, brier, ece};

/// The gate's thresholds (part of `[stage]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GateSettings {
    /// The candidate's holdout AUC must be at least the live model's plus this.
    pub min_auc_gain: f64,
    /// The candidate's holdout Brier score must be at most the live model's minus this.
    pub min_brier_gain: f64,
    /// The candidate's holdout ECE may exceed the live model's by at most this.
    pub max_ece_increase: f64,
    /// At most this share of the retained scored leads may change tier band.
    pub max_tier_shift: f64,
    /// Fewer labelled holdout leads than this (or fewer than a tenth of it in either class) and
    /// the gate refuses: the figures would be noise.
    pub min_holdout_labels: usize,
}

impl Default for GateSettings {
    fn default() -> Self {
        Self {
            min_auc_gain: 0.01,
            min_brier_gain: 0.0,
            max_ece_increase: 0.02,
            max_tier_shift: 0.25,
            min_holdout_labels: 100,
        }
    }
}

impl GateSettings {
    pub fn validate(&self) -> Result<(), String> {
        for (name, v, lo, hi) in [
            ("gate.min_auc_gain", self.min_auc_gain, -1.0, 1.0),
            ("gate.min_brier_gain", self.min_brier_gain, -1.0, 1.0),
            ("gate.max_ece_increase", self.max_ece_increase, 0.0, 1.0),
            ("gate.max_tier_shift", self.max_tier_shift, 0.0, 1.0),
        ] {
            if !(v.is_finite() && (lo..=hi).contains(&v)) {
                return Err(format!("{name} must be between {lo} and {hi}, got {v}"));
            }
        }
        if self.min_holdout_labels < 10 {
            return Err(format!(
                "gate.min_holdout_labels must be at least 10, got {}",
                self.min_holdout_labels
            ));
        }
        Ok(())
    }
}

/// One model's holdout figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelFigures {
    pub auc: f64,
    pub brier: f64,
    pub ece: f64,
}

impl ModelFigures {
    /// AUC of the 0–100 scores; Brier and ECE of the probabilities calibrated on the training window.
    pub fn of(scores: &[f64], probs: &[f64], labels: &[bool]) -> Self {
        Self {
            auc: auc(scores, labels),
            brier: brier(probs, labels),
            ece: ece(probs, labels),
        }
    }
}

/// What the gate saw and decided.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GateReport {
    pub live: ModelFigures,
    pub candidate: ModelFigures,
    pub tier_shift: f64,
    pub holdout_labels: usize,
    pub holdout_positives: usize,
    /// Every failed condition, in words with its figures; empty = promote.
    pub reasons: Vec<String>,
}

impl GateReport {
    pub fn passed(&self) -> bool {
        self.reasons.is_empty()
    }

    /// The figures as the `metrics` map of a model version.
    pub fn metrics(&self) -> BTreeMap<String, f64> {
        BTreeMap::from([
            ("holdout_auc".to_owned(), self.candidate.auc),
            ("holdout_brier".to_owned(), self.candidate.brier),
            ("holdout_ece".to_owned(), self.candidate.ece),
            ("live_holdout_auc".to_owned(), self.live.auc),
            ("live_holdout_brier".to_owned(), self.live.brier),
            ("live_holdout_ece".to_owned(), self.live.ece),
            ("tier_shift".to_owned(), self.tier_shift),
            ("holdout_labels".to_owned(), self.holdout_labels as f64),
            (
                "holdout_positives".to_owned(),
                self.holdout_positives as f64,
            ),
        ])
    }
}

/// Judges a candidate against the live model.
pub fn judge(
    settings: &GateSettings,
    live: ModelFigures,
    candidate: ModelFigures,
    tier_shift: f64,
    labels: &[bool],
) -> GateReport {
    let n = labels.len();
    let positives = labels.iter().filter(|y| **y).count();
    let mut reasons = Vec::new();
    let min_class = settings.min_holdout_labels.div_ceil(10);
    if n < settings.min_holdout_labels || positives < min_class || n - positives < min_class {
        reasons.push(format!(
            "holdout too small: {n} labelled leads ({positives} converted); needs {} with at least {min_class} of each class",
            settings.min_holdout_labels
        ));
    }
    if candidate.auc < live.auc + settings.min_auc_gain {
        reasons.push(format!(
            "AUC {:.4} does not beat the live {:.4} by {:.4}",
            candidate.auc, live.auc, settings.min_auc_gain
        ));
    }
    if candidate.brier > live.brier - settings.min_brier_gain {
        reasons.push(format!(
            "Brier {:.4} is not at least {:.4} below the live {:.4}",
            candidate.brier, settings.min_brier_gain, live.brier
        ));
    }
    if candidate.ece > live.ece + settings.max_ece_increase {
        reasons.push(format!(
            "ECE {:.4} exceeds the live {:.4} by more than {:.4}",
            candidate.ece, live.ece, settings.max_ece_increase
        ));
    }
    if tier_shift > settings.max_tier_shift {
        reasons.push(format!(
            "{:.1} % of leads would change tier (at most {:.1} %)",
            tier_shift * 100.0,
            settings.max_tier_shift * 100.0
        ));
    }
    GateReport {
        live,
        candidate,
        tier_shift,
        holdout_labels: n,
        holdout_positives: positives,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figs(auc: f64, brier: f64, ece: f64) -> ModelFigures {
        ModelFigures { auc, brier, ece }
    }

    fn labels(n: usize, pos: usize) -> Vec<bool> {
        (0..n).map(|i| i < pos).collect()
    }

    #[test]
    fn a_better_candidate_passes() {
        let r = judge(
            &GateSettings::default(),
            figs(0.70, 0.20, 0.05),
            figs(0.78, 0.17, 0.04),
            0.10,
            &labels(200, 50),
        );
        assert!(r.passed(), "{:?}", r.reasons);
        assert_eq!(r.metrics()["holdout_auc"], 0.78);
    }

    #[test]
    fn each_condition_refuses_with_its_figures() {
        let s = GateSettings::default();
        let l = labels(200, 50);
        let live = figs(0.70, 0.20, 0.05);
        let cases = [
            (figs(0.705, 0.17, 0.04), 0.1, "AUC 0.7050"),
            (figs(0.78, 0.21, 0.04), 0.1, "Brier 0.2100"),
            (figs(0.78, 0.17, 0.08), 0.1, "ECE 0.0800"),
            (figs(0.78, 0.17, 0.04), 0.4, "40.0 % of leads"),
        ];
        for (cand, shift, needle) in cases {
            let r = judge(&s, live.clone(), cand, shift, &l);
            assert_eq!(r.reasons.len(), 1, "{:?}", r.reasons);
            assert!(r.reasons[0].contains(needle), "{:?}", r.reasons);
        }
        // a worse candidate is refused on every margin at once
        let r = judge(&s, live.clone(), figs(0.6, 0.25, 0.1), 0.0, &l);
        assert_eq!(r.reasons.len(), 3, "{:?}", r.reasons);
    }

    #[test]
    fn a_small_or_one_sided_holdout_refuses() {
        let s = GateSettings::default();
        let good = figs(0.9, 0.1, 0.01);
        let live = figs(0.7, 0.2, 0.05);
        assert!(!judge(&s, live.clone(), good.clone(), 0.0, &labels(99, 30)).passed());
        assert!(!judge(&s, live, good, 0.0, &labels(500, 5)).passed());
    }
}
