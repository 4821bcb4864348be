#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! Recalibration learns (crates/recalibrate/RULES.md R8): generated leads go through the real enrich
//! transform and are scored with a deliberately mis-weighted model; their generated outcomes (the
//! generator's hidden conversion function) recalibrate it. The candidate must rank *fresh* leads (an
//! unseen seed) better than the mis-weighted model, pass the gate, and a worse candidate (fitted on
//! shuffled labels) must never be promoted over it.

use leadflow_enrich::provider::LocalProvider;
use leadflow_enrich::{EnrichOutcome, EnrichSettings, Enricher};
use leadflow_events::{ModelParams, ScoredLead, Timestamp};
use leadflow_generate::LeadGenerator;
use leadflow_generate::outcomes::outcomes_for;
use leadflow_recalibrate::evaluate::auc;
use leadflow_recalibrate::{FeatureSpace, FitSettings, GateSettings, Join, Sample, attempt};
use leadflow_score::{Model, score};

const START: i64 = 1_763_640_000_000; // 2025-11-20T12:00:00Z
const NOW: Timestamp = Timestamp(START + 200 * 86_400_000);

/// The hand-set model with its signals scrambled: intent and qualification worth nothing, seniority
/// upside down, the disqualifiers switched off.
fn mis_weighted() -> ModelParams {
    let mut p = Model::embedded("lead-priority").unwrap().params().clone();
    p.version = "mis-weighted-1".into();
    for (code, w) in p.weights.iter_mut() {
        if code.starts_with("activity.")
            || code.starts_with("qualification.")
            || code.starts_with("negative.")
        {
            *w = 0.0;
        } else if code.starts_with("seniority.") {
            *w = 14.0 - *w;
        }
    }
    p
}

/// `n` generated leads of `seed`, enriched and scored with `model`, with their outcomes.
fn scored_with_outcomes(
    seed: u64,
    n: usize,
    model: &Model,
) -> (Vec<ScoredLead>, Vec<leadflow_events::LeadOutcome>) {
    let mut generator = LeadGenerator::new(seed, Timestamp(START));
    let mut enricher = Enricher::new(&EnrichSettings::demo(), LocalProvider::demo());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut scored = Vec::new();
    let mut outcomes = Vec::new();
    for _ in 0..n {
        let lead = generator.next_lead();
        outcomes.extend(outcomes_for(seed, &lead));
        if let Ok(EnrichOutcome::Lead(e)) = rt.block_on(enricher.enrich(lead.event)) {
            scored.push(score(&e, model));
        }
    }
    (scored, outcomes)
}

fn join_of(space: &FeatureSpace, seed: u64, n: usize, model: &Model) -> Join {
    let (scored, outcomes) = scored_with_outcomes(seed, n, model);
    let mut join = Join::new(space.clone(), 365 * 86_400_000);
    for s in &scored {
        join.apply_scored(s);
    }
    for o in &outcomes {
        join.apply_outcome(o, NOW);
    }
    join
}

fn holdout_auc(space: &FeatureSpace, params: &ModelParams, samples: &[Sample]) -> f64 {
    let w = space.weights_of(params);
    let scores: Vec<f64> = samples
        .iter()
        .map(|s| f64::from(space.score(params, &w, &s.features)))
        .collect();
    let labels: Vec<bool> = samples.iter().map(|s| s.converted).collect();
    auc(&scores, &labels)
}

#[test]
fn recalibration_beats_a_mis_weighted_model_on_fresh_leads_and_never_promotes_a_worse_one() {
    let bad = mis_weighted();
    let bad_model = Model::from_params(bad.clone(), "lead-priority").unwrap();
    let space = FeatureSpace::of(&bad).unwrap();
    let fit = FitSettings {
        min_train_labels: 200,
        ..FitSettings::default()
    };
    // a mis-weighted model moves many leads across tiers when corrected: the shift cap is the
    // operator's call, not what this test is about
    let gate = GateSettings {
        max_tier_shift: 1.0,
        ..GateSettings::default()
    };
    // fresh leads of another seed, never seen by the fit
    let fresh = join_of(&space, 99, 1500, &bad_model).samples();
    assert!(fresh.len() > 300, "{} fresh labelled leads", fresh.len());

    for seed in [7u64, 23] {
        let join = join_of(&space, seed, 2000, &bad_model);
        let samples = join.samples();
        let population: Vec<_> = join.all_features().collect();
        let a = attempt(&bad, &space, &samples, &population, &fit, &gate, NOW).unwrap();
        assert!(
            a.report.passed(),
            "seed {seed}: the recalibrated model is refused: {:?}",
            a.report
        );
        let before = holdout_auc(&space, &bad, &fresh);
        let after = holdout_auc(&space, &a.candidate, &fresh);
        assert!(
            after > before + 0.05,
            "seed {seed}: fresh-lead AUC {before:.3} -> {after:.3}"
        );
        // the candidate is a valid model the score stage accepts, and explanations keep their codes
        let m = Model::from_params(a.candidate.clone(), "lead-priority").unwrap();
        assert_eq!(
            m.params().weights.keys().collect::<Vec<_>>(),
            bad.weights.keys().collect::<Vec<_>>()
        );
        assert_eq!(m.params().parent_version.as_deref(), Some("mis-weighted-1"));

        // a worse candidate: fitted on the same leads with the labels shuffled
        let mut shuffled = samples.clone();
        let n = shuffled.len();
        let labels: Vec<bool> = (0..n)
            .map(|i| shuffled[(i * 7919 + 13) % n].converted)
            .collect();
        for (s, y) in shuffled.iter_mut().zip(labels) {
            s.converted = y;
        }
        // judged on the real labels: the holdout comes from the real samples
        let holdout_from = n - (n as f64 * fit.holdout_share).ceil() as usize;
        let mut mixed = shuffled[..holdout_from].to_vec();
        mixed.extend_from_slice(&samples[holdout_from..]);
        let live = a.candidate.clone();
        let worse = attempt(&live, &space, &mixed, &population, &fit, &gate, NOW).unwrap();
        assert!(
            !worse.report.passed(),
            "seed {seed}: a candidate fitted on shuffled labels was promoted: {:?}",
            worse.report
        );
        assert!(
            worse.report.reasons.iter().any(|r| r.starts_with("AUC")),
            "{:?}",
            worse.report.reasons
        );
    }
}
