#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The stage compliance check (leadflow-testkit) for score: poison, retries in order, fatal, and the
//! service binary SIGKILLed, rebalanced and SIGTERMed without losing a score.

use leadflow_events::{EnrichedLead, samples};
use leadflow_score::{ScoreSettings, ScoreStage};
use leadflow_testkit::StageCompliance;

fn enriched(i: usize) -> EnrichedLead {
    let mut e = samples::enriched_lead();
    e.lead.lead_id = format!("lead-c{i}");
    e.lead.event_id = format!("evt-c{i}");
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn score_complies_with_the_stage_contract() {
    StageCompliance {
        build: Box::new(|registry| ScoreStage::new(&ScoreSettings::default(), registry).unwrap()),
        inputs: (0..90).map(enriched).collect(),
        // score accepts every enriched lead (a bad model is rejected on the side input instead);
        // the check still sends it an undecodable record
        poison: vec![],
        binary: Some(env!("CARGO_BIN_EXE_leadflow-score").into()),
        binary_env: Vec::new(),
    }
    .run()
    .await;
}
