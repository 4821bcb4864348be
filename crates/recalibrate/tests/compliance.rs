#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The stage compliance check (leadflow-testkit) for recalibrate, whose output (a model version on
//! `model.history`) comes from its timer once enough labels arrived, not from each outcome: poison
//! outcomes land on the exceptions topic; with retries injected every outcome still reaches the
//! state and exactly one attempt is published, counting all 40 labels; a fatal error stops the run;
//! and the service binary, SIGKILLed before the attempt, rebalanced and SIGTERMed, still publishes
//! an attempt that counts every label (its replacement rebuilt what the killed one had consumed).

use leadflow_events::{
    AnyEvent, LeadOutcome, OutcomeStage, ScoredLead, Timestamp, TopicRole, samples,
};
use leadflow_recalibrate::{RecalibrateSettings, RecalibrateStage};
use leadflow_runtime::Clock;
use leadflow_testkit::{DeferredCompliance, Trigger, Wiring};

const LEADS: usize = 40;

/// Lead `i`, scored `LEADS - i` minutes before `now`: software companies (even `i`) convert,
/// retail ones do not, with every fifth lead the other way round.
fn scored(i: usize, now: Timestamp) -> ScoredLead {
    let mut s = samples::scored_lead();
    s.enriched.lead.lead_id = format!("lead-c{i}");
    s.enriched.lead.event_id = format!("evt-c{i}");
    s.enriched.lead.occurred_at = Timestamp(now.0 - (LEADS - i) as i64 * 60_000);
    if let Some(f) = s.enriched.firmographics.as_mut() {
        f.industry = Some(if i % 2 == 0 { "software" } else { "retail" }.into());
    }
    s.score = if i % 2 == 0 { 80 } else { 40 };
    s
}

fn converted(i: usize) -> bool {
    (i % 2 == 0) != (i % 5 == 0)
}

fn outcome(i: usize, now: Timestamp) -> LeadOutcome {
    let mut o = samples::lead_outcome();
    o.outcome_id = format!("out-c{i}");
    o.lead_id = format!("lead-c{i}");
    o.stage = if converted(i) {
        OutcomeStage::Sql
    } else {
        OutcomeStage::Rejected
    };
    o.amount = None;
    o.occurred_at = now;
    o
}

/// A model version told apart by its model and how many labels it was fitted on.
fn labels_of(event: &AnyEvent) -> String {
    match event {
        AnyEvent::ModelParams(p) => format!(
            "{} labels_total={}",
            p.model,
            p.metrics.get("labels_total").copied().unwrap_or(-1.0)
        ),
        other => format!("unexpected {}", other.key()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recalibrate_complies_with_the_stage_contract() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("info")
        .with_test_writer()
        .try_init();
    let now = leadflow_runtime::SystemClock.now();
    let mut settings = RecalibrateSettings {
        // one attempt, as soon as every label of the check arrived
        min_new_labels: LEADS,
        fit_interval_minutes: 0,
        tick_ms: 100,
        ..RecalibrateSettings::default()
    };
    settings.fit.min_train_labels = 20;
    settings.gate.min_holdout_labels = 10;
    let mut negative = outcome(998, now);
    negative.amount = Some(-1.0);
    let mut no_id = outcome(999, now);
    no_id.outcome_id = " ".into();
    DeferredCompliance {
        build: Box::new(move |w: &Wiring| {
            RecalibrateStage::start(&w.config(settings.clone()), w.registry(), w.clock()).unwrap()
        }),
        inputs: (0..LEADS).map(|i| outcome(i, now)).collect(),
        process_inputs: None,
        poison: vec![negative, no_id],
        side: (0..LEADS)
            .map(|i| (TopicRole::Scored, AnyEvent::ScoredLead(scored(i, now))))
            .collect(),
        state_topics: vec![TopicRole::ModelParams, TopicRole::Scored],
        expected: vec![(
            TopicRole::ModelHistory,
            format!("lead-priority labels_total={LEADS}"),
        )],
        identify: labels_of,
        trigger: Trigger::Inputs,
        clock_start: now,
        binary: Some(env!("CARGO_BIN_EXE_leadflow-recalibrate").into()),
        binary_env: vec![
            ("LEADFLOW_STAGE__MIN_NEW_LABELS".into(), LEADS.to_string()),
            ("LEADFLOW_STAGE__FIT_INTERVAL_MINUTES".into(), "0".into()),
            ("LEADFLOW_STAGE__TICK_MS".into(), "100".into()),
            ("LEADFLOW_STAGE__FIT__MIN_TRAIN_LABELS".into(), "20".into()),
            (
                "LEADFLOW_STAGE__GATE__MIN_HOLDOUT_LABELS".into(),
                "10".into(),
            ),
        ],
    }
    .run()
    .await;
}
