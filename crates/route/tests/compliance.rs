#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The stage compliance check (leadflow-testkit) for route: poison, retries in order, fatal, and the
//! service binary SIGKILLed, rebalanced and SIGTERMed without losing a packet. The roster (a rep and
//! the team's manager) is on the `reps` side input before the stage starts.

mod common;

use leadflow_events::{AnyEvent, TopicRole};
use leadflow_route::{RouteSettings, RouteStage};
use leadflow_testkit::StageCompliance;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_complies_with_the_stage_contract() {
    // a hand-off that names no team is poison (RULES.md)
    let mut no_team = common::decision("lead-c999", None, "FR", 50);
    no_team.target_team = " ".into();
    let roster = vec![
        (
            TopicRole::Reps,
            AnyEvent::RepState(common::rep("rep-c", "ae")),
        ),
        (
            TopicRole::Reps,
            AnyEvent::RepState(common::manager("mgr", "ae")),
        ),
    ];
    StageCompliance {
        build: Box::new(|registry| RouteStage::new(&RouteSettings::default(), registry).unwrap()),
        inputs: (0..60)
            .map(|i| common::decision(&format!("lead-c{i}"), None, "FR", 50))
            .collect(),
        poison: vec![no_team],
        binary: Some(env!("CARGO_BIN_EXE_leadflow-route").into()),
        binary_env: Vec::new(),
    }
    .run_with_side_inputs(roster)
    .await;
}
