//! One recalibration attempt (RULES.md R5, R6): split, fit, map back to the 0–100 score and its
//! factor weights, judge against the live model. Pure.

use std::collections::BTreeMap;

use leadflow_events::{ModelParams, ModelStatus, Timestamp};
use serde::{Deserialize, Serialize};

use crate::evaluate::tier_shift;
use crate::features::{Component, FeatureSpace, Features};
use crate::fit::{FitError, fit, platt, sigmoid};
use crate::gate::{GateReport, GateSettings, ModelFigures, judge};
use crate::join::Sample;

/// Caps of a recalibrated model: the score is clamped to 0–100 anyway, so components are not capped
/// below that and the fitted model stays linear.
pub const CANDIDATE_CAP: f64 = 100.0;

/// The fit's settings (part of `[stage]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FitSettings {
    /// L2 penalty on the coefficients (cost = Σ log-loss + l2/2 · |β|²).
    pub l2: f64,
    /// Iterations of the optimiser at most.
    pub max_iterations: u64,
    /// The latest share of labelled leads (by lead event time) held out for the gate.
    pub holdout_share: f64,
    /// Fewer labelled training leads than this and no candidate is fitted.
    pub min_train_labels: usize,
    /// The candidate's scale is set so that the share of leads at or above this score is the live
    /// model's (the WARM boundary by default: HOT + WARM volume, what reps work, stays put).
    pub anchor_score: i32,
    /// Tier band lower bounds, highest first (tier's four-band policy: HOT 85, WARM 70,
    /// NURTURE_24H 50).
    pub tier_boundaries: Vec<i32>,
    /// Largest absolute points a recalibrated weight may get.
    pub max_weight: f64,
}

impl Default for FitSettings {
    fn default() -> Self {
        Self {
            l2: 1.0,
            max_iterations: 300,
            holdout_share: 0.25,
            min_train_labels: 300,
            anchor_score: 70,
            tier_boundaries: vec![85, 70, 50],
            max_weight: 60.0,
        }
    }
}

impl FitSettings {
    pub fn validate(&self) -> Result<(), String> {
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return Err(format!("fit.l2 must be >= 0, got {}", self.l2));
        }
        if self.max_iterations == 0 {
            return Err("fit.max_iterations must be at least 1".into());
        }
        if !(self.holdout_share > 0.0 && self.holdout_share < 1.0) {
            return Err(format!(
                "fit.holdout_share must be between 0 and 1 (exclusive), got {}",
                self.holdout_share
            ));
        }
        if self.min_train_labels < 20 {
            return Err(format!(
                "fit.min_train_labels must be at least 20, got {}",
                self.min_train_labels
            ));
        }
        if !(1..=100).contains(&self.anchor_score) {
            return Err(format!(
                "fit.anchor_score must be between 1 and 100, got {}",
                self.anchor_score
            ));
        }
        if self.tier_boundaries.is_empty()
            || self.tier_boundaries.windows(2).any(|w| w[0] <= w[1])
            || self.tier_boundaries.iter().any(|b| !(1..=100).contains(b))
        {
            return Err(format!(
                "fit.tier_boundaries must be strictly decreasing scores between 1 and 100, got {:?}",
                self.tier_boundaries
            ));
        }
        if !(self.max_weight > 0.0 && self.max_weight <= 1000.0) {
            return Err(format!(
                "fit.max_weight must be between 0 and 1000, got {}",
                self.max_weight
            ));
        }
        Ok(())
    }
}

/// Why no candidate came out.
#[derive(Debug, thiserror::Error)]
pub enum AttemptError {
    #[error("{train} labelled training leads, needs {needed}")]
    NotEnoughLabels { train: usize, needed: usize },
    #[error(transparent)]
    Fit(#[from] FitError),
    #[error("the fitted model has no positive direction (every coefficient <= 0)")]
    Degenerate,
}

/// A fitted candidate and the gate's verdict on it.
#[derive(Clone, Debug)]
pub struct Attempt {
    /// Status CANDIDATE; the caller marks it PROMOTED or REJECTED.
    pub candidate: ModelParams,
    pub report: GateReport,
}

/// The version name of a model recalibrated at `now`: `2026-11-30.r051200`.
pub fn version_at(now: Timestamp) -> String {
    now.to_datetime().format("%Y-%m-%d.r%H%M%S").to_string()
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Fits a candidate from `samples` (labelled, oldest first) and judges it against `live` on the
/// holdout; `population` is every retained scored lead (tier shift). `labels_total` is recorded so
/// the next attempt knows how many labels are new.
#[allow(clippy::too_many_arguments)]
pub fn attempt(
    live: &ModelParams,
    space: &FeatureSpace,
    samples: &[Sample],
    population: &[&Features],
    fit_settings: &FitSettings,
    gate: &GateSettings,
    now: Timestamp,
) -> Result<Attempt, AttemptError> {
    let n = samples.len();
    let holdout_n = ((n as f64) * fit_settings.holdout_share).ceil() as usize;
    let train_n = n.saturating_sub(holdout_n);
    if train_n < fit_settings.min_train_labels {
        return Err(AttemptError::NotEnoughLabels {
            train: train_n,
            needed: fit_settings.min_train_labels,
        });
    }
    let (train, holdout) = samples.split_at(train_n);
    let rows: Vec<(&Features, bool)> = train.iter().map(|s| (&s.features, s.converted)).collect();
    let logistic = fit(
        &rows,
        space.len(),
        fit_settings.l2,
        fit_settings.max_iterations,
    )?;

    // map back to points (R5): one scale for every coefficient, anchored on the live volume
    let live_w = space.weights_of(live);
    let live_train: Vec<i32> = train
        .iter()
        .map(|s| space.score(live, &live_w, &s.features))
        .collect();
    let share = live_train
        .iter()
        .filter(|s| **s >= fit_settings.anchor_score)
        .count() as f64
        / train_n as f64;
    let mut eta: Vec<f64> = train
        .iter()
        .map(|s| logistic.logit(&s.features) - logistic.intercept)
        .collect();
    eta.sort_by(f64::total_cmp);
    let anchored = quantile(&eta, 1.0 - share);
    let mut scale = if share > 0.0 && share < 1.0 && anchored > 0.0 {
        f64::from(fit_settings.anchor_score) / anchored
    } else {
        let top = quantile(&eta, 0.95);
        if top <= 0.0 {
            return Err(AttemptError::Degenerate);
        }
        95.0 / top
    };
    let largest = logistic
        .coefficients
        .iter()
        .fold(0.0f64, |m, b| m.max(b.abs()));
    if largest * scale > fit_settings.max_weight {
        scale = fit_settings.max_weight / largest;
    }
    let mut weights = BTreeMap::new();
    for (i, b) in logistic.coefficients.iter().enumerate() {
        let mut w = round2(b * scale);
        if space.component(i) == Component::Negative {
            w = w.max(0.0); // points subtracted are never negative (SC3)
        }
        weights.insert(space.code(i).to_owned(), w + 0.0);
    }
    let mut candidate = ModelParams {
        model: live.model.clone(),
        version: version_at(now),
        parent_version: Some(live.version.clone()),
        created_at: now,
        description: String::new(),
        weights,
        intent_half_life_days: live.intent_half_life_days,
        fit_max: CANDIDATE_CAP,
        intent_max: CANDIDATE_CAP,
        qualification_max: CANDIDATE_CAP,
        status: ModelStatus::CANDIDATE.to_owned(),
        training_from: train.first().map(|s| s.at),
        training_to: train.last().map(|s| s.at),
        metrics: BTreeMap::new(),
    };
    let cand_w = space.weights_of(&candidate);

    // judge on the holdout (R6): AUC of the scores, Brier / ECE of the probabilities each model's
    // score maps to on the training window
    let train_labels: Vec<bool> = train.iter().map(|s| s.converted).collect();
    let hold_labels: Vec<bool> = holdout.iter().map(|s| s.converted).collect();
    let figures = |params: &ModelParams, w: &[f64]| -> Result<ModelFigures, FitError> {
        let tr: Vec<f64> = train
            .iter()
            .map(|s| f64::from(space.score(params, w, &s.features)))
            .collect();
        let (a, b) = platt(&tr, &train_labels)?;
        let ho: Vec<f64> = holdout
            .iter()
            .map(|s| f64::from(space.score(params, w, &s.features)))
            .collect();
        let probs: Vec<f64> = ho.iter().map(|s| sigmoid(a + b * s)).collect();
        Ok(ModelFigures::of(&ho, &probs, &hold_labels))
    };
    let live_figs = figures(live, &live_w)?;
    let cand_figs = figures(&candidate, &cand_w)?;
    let old: Vec<i32> = population
        .iter()
        .map(|f| space.score(live, &live_w, f))
        .collect();
    let new: Vec<i32> = population
        .iter()
        .map(|f| space.score(&candidate, &cand_w, f))
        .collect();
    let shift = tier_shift(&old, &new, &fit_settings.tier_boundaries);
    let report = judge(gate, live_figs, cand_figs, shift, &hold_labels);

    let mut metrics = report.metrics();
    metrics.insert("train_labels".into(), train_n as f64);
    metrics.insert(
        "train_positives".into(),
        train_labels.iter().filter(|y| **y).count() as f64,
    );
    metrics.insert("labels_total".into(), n as f64);
    metrics.insert("scale_points_per_logit".into(), scale);
    candidate.metrics = metrics;
    candidate.description = if report.passed() {
        format!(
            "Recalibrated from {} on {} labelled leads; holdout AUC {:.3} (live {:.3}), Brier {:.3} (live {:.3}), ECE {:.3} (live {:.3}), {:.1} % of leads change tier.",
            live.version,
            train_n,
            report.candidate.auc,
            report.live.auc,
            report.candidate.brier,
            report.live.brier,
            report.candidate.ece,
            report.live.ece,
            report.tier_shift * 100.0
        )
    } else {
        format!(
            "Refused against {}: {}",
            live.version,
            report.reasons.join("; ")
        )
    };
    Ok(Attempt { candidate, report })
}
