#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The stage compliance check (leadflow-testkit) for the sla-watchdog, whose escalations come from
//! its timers, not from each packet: poison packets land on the exceptions topic; with retries
//! injected every packet still opens its deadline and, once the check's clock moves past them (and
//! not before), each fires one level-1 escalation, in deadline order; a fatal error stops the run;
//! and the service binary escalates every missed deadline exactly once: SIGKILLed with deadlines
//! open (its replacement fires them, and not those it had already escalated), then rebalanced with
//! deadlines open (the process that joins fires those of the partitions it took over, nothing
//! twice), then SIGTERMed (exit 0).

use std::time::Duration;

use leadflow_events::{
    AnyEvent, HandoffPacket, SlaDeadline, SlaKind, Timestamp, TopicRole, samples,
};
use leadflow_runtime::Clock;
use leadflow_sla_watchdog::{WatchdogSettings, WatchdogStage};
use leadflow_testkit::{DeferredCompliance, Trigger, Wiring};

const HOUR_MS: i64 = 3_600_000;

/// A first packet of `lead-c<i>` whose first-contact deadline was `due_at`.
fn packet(i: usize, due_at: Timestamp) -> HandoffPacket {
    let mut p = samples::handoff_packet();
    let lead = format!("lead-c{i}");
    p.packet_id = format!("pkt-c{i}");
    p.idempotency_key = format!("{lead}|evt-c{i}|HOT|HOT_LEAD|0");
    p.decision.scored.enriched.lead.lead_id = lead;
    p.decision.scored.enriched.lead.event_id = format!("evt-c{i}");
    p.decision.decided_at = Timestamp(due_at.0 - HOUR_MS);
    p.created_at = p.decision.decided_at;
    let sla = vec![SlaDeadline {
        kind: SlaKind::FirstContact,
        due_at,
    }];
    p.decision.sla = sla.clone();
    p.sla = sla;
    p
}

/// An escalation told apart by lead and level.
fn lead_and_level(event: &AnyEvent) -> String {
    match event {
        AnyEvent::SlaEscalation(e) => format!("{}:L{}", e.lead_id, e.level),
        other => format!("unexpected {}", other.key()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sla_watchdog_complies_with_the_stage_contract() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("info")
        .with_test_writer()
        .try_init();
    // in-process runs: deadlines an hour before now, a second apart, not yet due on the check's
    // clock, which starts two hours back and is then moved to now
    let now = leadflow_runtime::SystemClock.now();
    let first_due = now.0 - 2 * HOUR_MS + HOUR_MS;
    let inputs: Vec<HandoffPacket> = (0..30)
        .map(|i| packet(i, Timestamp(first_due + i as i64 * 1_000)))
        .collect();
    // the processes run on the wall clock: the timer process check asks for packets whose
    // deadlines are due a given time from now (at once, or late enough for a SIGKILL and a
    // rebalance to happen while they are open)
    let process_inputs = |due_in: Duration| {
        let first_due = leadflow_runtime::SystemClock.now().0 + due_in.as_millis() as i64;
        (0..30)
            .map(|i| packet(i, Timestamp(first_due + i as i64 * 100)))
            .collect()
    };
    let expected = (0..30)
        .map(|i| (TopicRole::Escalations, format!("lead-c{i}:L1")))
        .collect();
    let mut no_id = packet(998, Timestamp(first_due));
    no_id.packet_id = String::new();
    let mut no_team = packet(999, Timestamp(first_due));
    no_team.decision.target_team = " ".into();
    let settings = WatchdogSettings {
        allowed_lateness_ms: 500,
        tick_ms: 50,
        ..WatchdogSettings::default()
    };
    DeferredCompliance {
        build: Box::new(move |w: &Wiring| {
            WatchdogStage::start(&w.config(settings.clone()), w.registry(), w.clock()).unwrap()
        }),
        inputs,
        process_inputs: Some(Box::new(process_inputs)),
        poison: vec![no_id, no_team],
        side: Vec::new(),
        state_topics: vec![
            TopicRole::Tiered,
            TopicRole::Activity,
            TopicRole::SlaOutcomes,
        ],
        expected,
        identify: lead_and_level,
        trigger: Trigger::Clock(Duration::from_millis(2 * HOUR_MS as u64)),
        clock_start: Timestamp(now.0 - 2 * HOUR_MS),
        binary: Some(env!("CARGO_BIN_EXE_leadflow-sla-watchdog").into()),
        binary_env: vec![
            ("LEADFLOW_STAGE__ALLOWED_LATENESS_MS".into(), "500".into()),
            ("LEADFLOW_STAGE__TICK_MS".into(), "100".into()),
        ],
    }
    .run()
    .await;
}
