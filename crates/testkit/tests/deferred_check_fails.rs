//! The deferred compliance check must be able to fail: a toy timer stage (packets in, one
//! escalation per packet once its clock reaches a release time) passes it when honest, and fails
//! it when its timer ignores the injected clock or emits out of order. In-process checks only (the
//! toy has no binary); the real stages run the whole check in their own crates.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use leadflow_events::{AnyEvent, ErrorKind, HandoffPacket, Timestamp, TopicRole, samples};
use leadflow_runtime::{Context, Output, OwnedKeys, Stage, StageError};
use leadflow_testkit::{DeferredCompliance, Trigger, Wiring};

const HOUR_MS: i64 = 3_600_000;
const START: Timestamp = Timestamp(1_795_167_000_000);

#[derive(Clone, Copy, PartialEq)]
enum Flaw {
    None,
    IgnoresClock,
    Reverses,
}

/// Holds the leads of the packets it processed; its timer releases them once the runtime's clock
/// reached `START + 1 h`.
struct ToyTimer {
    held: Arc<Mutex<Vec<String>>>,
    flaw: Flaw,
}

impl ToyTimer {
    fn start(_w: &Wiring, flaw: Flaw) -> Self {
        Self {
            held: Arc::default(),
            flaw,
        }
    }
}

impl Stage for ToyTimer {
    type Input = HandoffPacket;
    const NAME: &'static str = "toy-timer";
    const INPUT: TopicRole = TopicRole::Packets;

    async fn process(&self, p: HandoffPacket, _ctx: &Context) -> Result<Vec<Output>, StageError> {
        if p.packet_id.is_empty() {
            return Err(StageError::poison(ErrorKind::Validation, "no packet_id"));
        }
        self.held
            .lock()
            .unwrap()
            .push(p.decision.scored.enriched.lead.lead_id);
        Ok(Vec::new())
    }

    fn timer_interval(&self) -> Option<Duration> {
        Some(Duration::from_millis(20))
    }

    async fn on_timer(&self, owned: &OwnedKeys, now: Timestamp) -> Result<Vec<Output>, StageError> {
        let due = self.flaw == Flaw::IgnoresClock || now.0 >= START.0 + HOUR_MS;
        if !due {
            return Ok(Vec::new());
        }
        let mut held = self.held.lock().unwrap();
        let (mut leads, keep): (Vec<String>, Vec<String>) =
            held.drain(..).partition(|l| owned.owns(l));
        *held = keep;
        if self.flaw == Flaw::Reverses {
            leads.reverse();
        }
        Ok(leads
            .into_iter()
            .map(|lead| {
                let mut e = samples::sla_escalation();
                e.escalation_id = format!("{lead}:L1");
                e.lead_id = lead;
                Output::to(TopicRole::Escalations, e)
            })
            .collect())
    }
}

fn packet(i: usize) -> HandoffPacket {
    let mut p = samples::handoff_packet();
    p.packet_id = format!("pkt-t{i}");
    p.decision.scored.enriched.lead.lead_id = format!("lead-t{i}");
    p
}

fn lead_id(event: &AnyEvent) -> String {
    event.lead_id().unwrap_or("none").to_owned()
}

async fn check(flaw: Flaw) {
    let mut no_id = packet(99);
    no_id.packet_id = String::new();
    DeferredCompliance {
        build: Box::new(move |w: &Wiring| ToyTimer::start(w, flaw)),
        inputs: (0..8).map(packet).collect(),
        process_inputs: None,
        poison: vec![no_id],
        side: Vec::new(),
        state_topics: Vec::new(),
        expected: (0..8)
            .map(|i| (TopicRole::Escalations, format!("lead-t{i}")))
            .collect(),
        identify: lead_id,
        trigger: Trigger::Clock(Duration::from_millis(2 * HOUR_MS as u64)),
        clock_start: START,
        binary: None,
        binary_env: Vec::new(),
    }
    .run()
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_honest_timer_stage_passes() {
    check(Flaw::None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "outputs appeared before the clock moved")]
async fn a_timer_that_ignores_the_injected_clock_fails() {
    check(Flaw::IgnoresClock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "in input order")]
async fn a_timer_that_emits_out_of_order_fails() {
    check(Flaw::Reverses).await;
}
