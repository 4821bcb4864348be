#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! The bench's recalibrated model (`benches/recalibrated.json`, written by leadflow-recalibrate) is a
//! valid model the score stage accepts, so the bench compares what it says it compares.

use leadflow_score::{Model, score};

#[test]
fn the_recalibrated_bench_model_loads_and_scores() {
    let text = include_str!("../benches/recalibrated.json");
    let m = Model::from_json(text, "benches/recalibrated.json", "lead-priority").unwrap();
    assert_eq!(m.params().parent_version.as_deref(), Some("default-1"));
    assert_eq!(m.params().weights.len(), 66);
    let s = score(&leadflow_events::samples::enriched_lead(), &m);
    assert!((0..=100).contains(&s.score));
}
