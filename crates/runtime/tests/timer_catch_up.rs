#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::field_reassign_with_default
)]
//! The timer's catch-up gate on the real broker: a partition assigned to a running instance fires
//! only once the instance's state topics reached the high watermarks they had at the assignment, so
//! what the previous owner produced and the broker acknowledged before it let go is in the state
//! before anything fires again.
//!
//! A toy timer stage fires one record per owned key on its output topic, which is also its state
//! (side input): a key with a record there is done. The partition's previous owner is a plain
//! group member; before it leaves, the test writes what that owner "fired" (one record per key of
//! its partition) behind 50 filler records that the toy applies slowly (200 ms each: ~10 s behind).
//! The running instance must fire none of the previous owner's keys again, and every key once.
//!
//! What it shows and what it does not: on the development broker the moved partition became live
//! only after the backlog was applied (9.4 s after the previous owner left) even with the gate
//! forced open, because the side-input reader and the consumer's rebalance are served by the same
//! run; the gate is what keeps this true where they are not, and it is unit-tested in
//! `src/timer.rs`. This test guards the behaviour end to end.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use leadflow_events::{AnyEvent, Codec, Event, LeadEvent, SlaEscalation, TopicRole, samples};
use leadflow_runtime::{
    Context, NoSettings, Output, OwnedKeys, RunOptions, ServiceConfig, SideInput, SideStart, Stage,
    StageError, run_stage,
};
use leadflow_testkit::{bootstrap, consume_all, create_topic, produce_raw_all, unique_name};
use rdkafka::consumer::{Consumer, StreamConsumer};
use tokio_util::sync::CancellationToken;

const KEYS: usize = 16;
const FILLER: usize = 50;

fn key(i: usize) -> String {
    format!("key-{i}")
}

/// Fires `key-0..key-15` once each for the keys it owns; what is on its output topic is done.
struct Toy {
    done: Arc<Mutex<BTreeSet<String>>>,
    /// When the toy first fired with both partitions live.
    live_both: Arc<Mutex<Option<Instant>>>,
}

impl Stage for Toy {
    type Input = LeadEvent;
    const NAME: &'static str = "toy-catch-up";
    const INPUT: TopicRole = TopicRole::Raw;

    async fn process(&self, _input: LeadEvent, _ctx: &Context) -> Result<Vec<Output>, StageError> {
        Ok(Vec::new())
    }

    fn side_inputs(&self) -> Vec<SideInput> {
        vec![SideInput {
            role: TopicRole::Escalations,
            start: SideStart::Beginning,
        }]
    }

    fn on_side_input(&self, event: AnyEvent) -> Result<(), StageError> {
        if let AnyEvent::SlaEscalation(e) = event {
            if e.lead_id.starts_with("filler") {
                // a slow state rebuild: the instance is seconds behind its state topic
                std::thread::sleep(Duration::from_millis(200));
            }
            self.done.lock().unwrap().insert(e.lead_id);
        }
        Ok(())
    }

    fn timer_interval(&self) -> Option<Duration> {
        Some(Duration::from_millis(20))
    }

    async fn on_timer(
        &self,
        owned: &OwnedKeys,
        _now: leadflow_events::Timestamp,
    ) -> Result<Vec<Output>, StageError> {
        if owned.partitions().len() == 2 {
            let mut seen = self.live_both.lock().unwrap();
            seen.get_or_insert_with(Instant::now);
        }
        let done = self.done.lock().unwrap();
        Ok((0..KEYS)
            .map(key)
            .filter(|k| owned.owns(k) && !done.contains(k))
            .map(|k| Output::to(TopicRole::Escalations, escalation(&k, "fired")))
            .collect())
    }

    fn on_timer_delivered(&self, output: &Output) {
        if let AnyEvent::SlaEscalation(e) = &output.event {
            self.done.lock().unwrap().insert(e.lead_id.clone());
        }
    }
}

fn escalation(lead: &str, by: &str) -> SlaEscalation {
    let mut e = samples::sla_escalation();
    e.lead_id = lead.to_owned();
    e.escalation_id = format!("{lead}:{by}");
    e
}

async fn records(bs: &str, topic: &str, at_least: usize) -> Vec<SlaEscalation> {
    let codec = Codec::single_object().unwrap();
    let mut out = Vec::new();
    for r in consume_all(bs, topic, at_least, Duration::from_secs(3)).await {
        out.push(codec.decode(&r.payload).await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_partition_that_moves_fires_only_after_the_state_caught_up() {
    let bs = bootstrap();
    let mut cfg = ServiceConfig::<NoSettings>::default();
    cfg.bootstrap_servers = bs.clone();
    cfg.group_id = Some(unique_name("catch-up"));
    cfg.topics.raw = unique_name("catch-up-in");
    cfg.topics.escalations = unique_name("catch-up-state");
    cfg.topics.exceptions = unique_name("catch-up-exc");
    cfg.http.listen = "127.0.0.1:0".into();
    create_topic(&bs, &cfg.topics.raw, 2).await;
    create_topic(&bs, &cfg.topics.escalations, 1).await;
    create_topic(&bs, &cfg.topics.exceptions, 1).await;
    let state = cfg.topics.escalations.clone();

    // the previous owner: a member of the stage's group holding both partitions first
    let group = cfg.group_for(Toy::NAME);
    let other: StreamConsumer = leadflow_runtime::kafka::consumer_config(&cfg, &group)
        .create()
        .unwrap();
    other.subscribe(&[cfg.topics.raw.as_str()]).unwrap();
    let joined = Instant::now() + Duration::from_secs(60);
    while other.assignment().unwrap().count() < 2 {
        assert!(
            Instant::now() < joined,
            "the first member got no partitions"
        );
        // polling drives the group protocol
        let _ = tokio::time::timeout(Duration::from_millis(200), other.recv()).await;
    }

    // the stage joins: each member ends up with one partition, and the stage fires its keys
    let stop = CancellationToken::new();
    let options = RunOptions {
        shutdown: stop.clone(),
        ..RunOptions::default()
    };
    let done: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let live_both: Arc<Mutex<Option<Instant>>> = Arc::default();
    let stage = Toy {
        done: done.clone(),
        live_both: live_both.clone(),
    };
    let run_cfg = cfg.clone();
    let run = tokio::spawn(async move { run_stage(&run_cfg, stage, options).await });
    let split = Instant::now() + Duration::from_secs(90);
    let mine: BTreeSet<String> = loop {
        let _ = tokio::time::timeout(Duration::from_millis(200), other.recv()).await;
        let fired = records(&bs, &state, KEYS).await;
        if !fired.is_empty() && other.assignment().unwrap().count() == 1 {
            // the stage's keys settle within a few rounds once it owns its partition
            tokio::time::sleep(Duration::from_secs(1)).await;
            break records(&bs, &state, KEYS)
                .await
                .into_iter()
                .map(|e| e.lead_id)
                .collect();
        }
        assert!(Instant::now() < split, "the stage never fired its keys");
    };
    let theirs: Vec<String> = (0..KEYS).map(key).filter(|k| !mine.contains(k)).collect();
    assert!(
        !theirs.is_empty(),
        "the other member owns a partition: {mine:?}"
    );

    // what the previous owner fired before it let go, behind a backlog the stage reads slowly
    let codec = Codec::single_object().unwrap();
    let mut backlog = Vec::new();
    for i in 0..FILLER {
        let e = escalation(&format!("filler-{i}"), "filler");
        backlog.push((
            Some(e.key().as_bytes().to_vec()),
            codec.encode(&state, &e).await.unwrap(),
        ));
    }
    for k in &theirs {
        let e = escalation(k, "previous-owner");
        backlog.push((
            Some(e.key().as_bytes().to_vec()),
            codec.encode(&state, &e).await.unwrap(),
        ));
    }
    produce_raw_all(&bs, &state, backlog).await;
    drop(other); // leaves the group: its partition moves to the running stage
    let left = Instant::now();

    // the stage takes the partition and catches up (~6 s of filler); then it has rounds to fire
    let caught_up = Instant::now() + Duration::from_secs(90);
    let last = format!("filler-{}", FILLER - 1);
    while !done.lock().unwrap().contains(&last) {
        assert!(
            Instant::now() < caught_up,
            "the stage never read the backlog"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // rounds for the stage to fire what it still believes due
    tokio::time::sleep(Duration::from_secs(1)).await;
    let live_both = live_both.lock().unwrap().map(|t| t - left);
    eprintln!("both partitions live {live_both:?} after the previous owner left");
    assert!(
        live_both.is_some(),
        "the partition never moved to the stage"
    );
    stop.cancel();
    let all = records(&bs, &state, mine.len() + FILLER + theirs.len() + 1).await;
    let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in all.iter().filter(|e| !e.lead_id.starts_with("filler")) {
        by_key
            .entry(e.lead_id.clone())
            .or_default()
            .push(e.escalation_id.clone());
    }
    run.await.unwrap().unwrap();
    let twice: Vec<_> = by_key.iter().filter(|(_, v)| v.len() > 1).collect();
    assert!(
        twice.is_empty(),
        "keys fired again after their partition moved, before the state caught up: {twice:?}"
    );
    assert_eq!(by_key.len(), KEYS, "every key fired once: {by_key:?}");
}
