#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The stage compliance check (leadflow-testkit) for tier: poison, retries in order, fatal, and the
//! service binary SIGKILLed, rebalanced and SIGTERMed without losing a decision.

use leadflow_events::{ScoredLead, samples};
use leadflow_testkit::StageCompliance;
use leadflow_tier::{TierSettings, TierStage};

fn scored(i: usize) -> ScoredLead {
    let mut s = samples::scored_lead();
    s.enriched.lead.lead_id = format!("lead-c{i}");
    s.enriched.lead.event_id = format!("evt-c{i}");
    s.score = (40 + i % 60) as i32;
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tier_complies_with_the_stage_contract() {
    let mut out_of_range = scored(999);
    out_of_range.score = 140;
    StageCompliance {
        build: Box::new(|registry| TierStage::new(&TierSettings::default(), registry).unwrap()),
        inputs: (0..90).map(scored).collect(),
        poison: vec![out_of_range],
        binary: Some(env!("CARGO_BIN_EXE_leadflow-tier").into()),
        binary_env: Vec::new(),
    }
    .run()
    .await;
}
