#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! `leadflow backtest` against the local broker: the report it writes from the scored and outcomes
//! topics is the one `backtest::report::backtest` makes of the same leads in memory (the last record
//! of a lead wins, a lead is converted when any outcome converts, rows in lead time then id order).

use std::collections::HashMap;
use std::process::Command;

use leadflow_cli::backtest::report::{Row, backtest};
use leadflow_enrich::provider::LocalProvider;
use leadflow_enrich::{EnrichOutcome, EnrichSettings, Enricher};
use leadflow_events::json::event_to_json;
use leadflow_events::{Codec, Event, Timestamp};
use leadflow_generate::LeadGenerator;
use leadflow_generate::outcomes::outcomes_for;
use leadflow_recalibrate::join::label_of;
use leadflow_score::{Model, score};
use leadflow_testkit::{bootstrap, create_topic, produce_raw_burst, unique_name};

const BIN: &str = env!("CARGO_BIN_EXE_leadflow");
const START: i64 = 1_763_640_000_000; // 2025-11-20T12:00:00Z

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_from_the_topics_is_the_report_of_the_same_leads_in_memory() {
    let bs = bootstrap();
    let topics: Vec<(&str, String)> = [
        "scored",
        "outcomes",
        "model_params",
        "model_history",
        "reps",
    ]
    .into_iter()
    .map(|role| (role, unique_name(&format!("bt-{}", role.replace('_', "-")))))
    .collect();
    for (role, topic) in &topics {
        let partitions = if matches!(*role, "scored" | "outcomes") {
            3
        } else {
            1
        };
        create_topic(&bs, topic, partitions).await;
    }
    let topic = |role: &str| topics.iter().find(|(r, _)| *r == role).unwrap().1.clone();

    let live = Model::embedded("lead-priority").unwrap();
    let mut p = live.params().clone();
    p.version = "candidate-1".into();
    p.weights.insert("seniority.vp".into(), 20.0);
    let candidate = Model::from_params(p.clone(), "lead-priority").unwrap();

    let codec = Codec::single_object().unwrap();
    let mut generator = LeadGenerator::new(11, Timestamp(START));
    let mut enricher = Enricher::new(&EnrichSettings::demo(), LocalProvider::demo());
    let (mut scored_records, mut outcome_records) = (Vec::new(), Vec::new());
    let mut leads = HashMap::new();
    let mut labels: HashMap<String, bool> = HashMap::new();
    for _ in 0..600 {
        let lead = generator.next_lead();
        for o in outcomes_for(11, &lead) {
            if let Some(y) = label_of(o.stage) {
                let l = labels.entry(o.lead_id.clone()).or_insert(y);
                *l = *l || y;
            }
            let payload = codec.encode(&topic("outcomes"), &o).await.unwrap();
            outcome_records.push((Some(o.key().as_bytes().to_vec()), payload));
        }
        if let Ok(EnrichOutcome::Lead(e)) = enricher.enrich(lead.event).await {
            let s = score(&e, &live);
            let payload = codec.encode(&topic("scored"), &s).await.unwrap();
            scored_records.push((Some(s.key().as_bytes().to_vec()), payload));
            leads.insert(e.lead.lead_id.clone(), *e);
        }
    }
    produce_raw_burst(&bs, &topic("scored"), scored_records).await;
    produce_raw_burst(&bs, &topic("outcomes"), outcome_records).await;

    let mut rows: Vec<Row> = leads
        .into_values()
        .map(|lead| Row {
            converted: labels.get(&lead.lead.lead_id).copied(),
            lead,
        })
        .collect();
    rows.sort_by(|a, b| {
        a.lead
            .lead
            .occurred_at
            .cmp(&b.lead.lead.occurred_at)
            .then_with(|| a.lead.lead.lead_id.cmp(&b.lead.lead.lead_id))
    });
    let expected = serde_json::to_value(backtest(&rows, &live, &candidate, None, || {})).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let candidate_file = dir.path().join("candidate.json");
    std::fs::write(&candidate_file, event_to_json(&p).unwrap().to_string()).unwrap();
    let json = dir.path().join("bt.json");
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars() {
        if key.starts_with("LEADFLOW_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("LEADFLOW_BOOTSTRAP_SERVERS", &bs);
    for (role, t) in &topics {
        cmd.env(format!("LEADFLOW_TOPICS__{}", role.to_ascii_uppercase()), t);
    }
    let out = cmd
        .arg("backtest")
        .arg("--candidate")
        .arg(&candidate_file)
        .arg("--json")
        .arg(&json)
        .arg("--html")
        .arg(dir.path().join("bt.html"))
        .output()
        .expect("leadflow runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(written, expected);
    assert!(
        written["leads"].as_u64().unwrap() > 500,
        "{}",
        written["leads"]
    );
}
