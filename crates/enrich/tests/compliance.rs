#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The stage compliance check (leadflow-testkit) for enrich: poison, retries in order, fatal, and the
//! service binary SIGKILLed, rebalanced and SIGTERMed without losing a lead.

use leadflow_enrich::{EnrichSettings, EnrichStage};
use leadflow_events::{LeadEvent, samples};
use leadflow_testkit::StageCompliance;

fn raw(i: usize) -> LeadEvent {
    let mut e = samples::lead_event();
    e.lead_id = format!("lead-c{i}");
    e.event_id = format!("evt-c{i}");
    e.contact.email = Some(format!("person{i}@northwind.io"));
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrich_complies_with_the_stage_contract() {
    let mut no_source = raw(999);
    no_source.source_system = String::new();
    StageCompliance {
        build: Box::new(|registry| EnrichStage::new(&EnrichSettings::demo(), registry).unwrap()),
        inputs: (0..90).map(raw).collect(),
        poison: vec![no_source],
        binary: Some(env!("CARGO_BIN_EXE_leadflow-enrich").into()),
        // the bundled demo dataset, said explicitly (RULES.md: `local` needs the user's file)
        binary_env: vec![("LEADFLOW_STAGE__PROVIDER__KIND".into(), "demo".into())],
    }
    .run()
    .await;
}
