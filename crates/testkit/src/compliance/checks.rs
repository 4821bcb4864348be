//! The checks themselves, one code path for every stage: what differs between a stage whose
//! outputs follow each input and one whose outputs come from timers is only in the [`Plan`] (what
//! is expected, what makes it appear, how progress is seen from outside).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use leadflow_events::{AnyEvent, Codec, ErrorKind, Event, ExceptionRecord, Timestamp, TopicRole};
use leadflow_runtime::{RunOptions, Stage, StageRegistry, run_stage};
use tokio_util::sync::CancellationToken;

use super::inject::{CallLog, Fault, Injected};
use super::topics::{Identify, SESSION_TIMEOUT_MS, Topics, WAIT, encode, roles};
use super::{TimedInputs, Trigger, Wiring};
use crate::clock::ManualClock;
use crate::process::StageProcess;
use crate::{consume_all, produce_raw_all};

/// How the process check sees a stage process make progress before it SIGKILLs it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Progress {
    /// Outputs on the output topics (one or more per input).
    Outputs,
    /// Input offsets committed by the stage's consumer group (outputs come later, from timers).
    Committed,
}

/// Everything a check run needs, whatever kind of stage.
pub(crate) struct Plan<S: Stage> {
    pub(crate) build: Arc<dyn Fn(&Wiring) -> S + Send + Sync>,
    pub(crate) inputs: Vec<S::Input>,
    /// Builds the process check's inputs, their timers due the given time from now (same keys as
    /// `inputs`); `inputs` when `None`.
    pub(crate) process_inputs: Option<TimedInputs<S::Input>>,
    pub(crate) poison: Vec<S::Input>,
    /// Events on other topics before the stage starts.
    pub(crate) side: Vec<(TopicRole, AnyEvent)>,
    /// Other topics the stage reads or writes (side inputs, its timers' state topics).
    pub(crate) others: Vec<TopicRole>,
    /// What the good inputs must cause, in order per topic: (role, identity).
    pub(crate) expected: Vec<(TopicRole, String)>,
    pub(crate) identify: Identify,
    pub(crate) trigger: Trigger,
    pub(crate) clock_start: Timestamp,
    pub(crate) progress: Progress,
    pub(crate) binary: Option<PathBuf>,
    pub(crate) binary_env: Vec<(String, String)>,
}

impl<S: Stage> Plan<S> {
    pub(crate) async fn run(self) {
        assert!(
            self.inputs.len() >= 3,
            "the compliance check needs at least 3 good inputs"
        );
        assert!(
            !self.expected.is_empty(),
            "{}: the check needs the outputs the inputs cause",
            S::NAME
        );
        self.check_poison_and_retries().await;
        self.check_fatal().await;
        match (&self.binary, &self.process_inputs, self.trigger) {
            (Some(binary), Some(make), Trigger::Clock(_)) => {
                self.check_timer_process(binary, make.as_ref()).await;
            }
            (Some(binary), _, _) => self.check_process(binary).await,
            (None, _, _) => eprintln!(
                "compliance: {}: no binary given; SIGKILL/SIGTERM process checks not run",
                S::NAME
            ),
        }
    }

    pub(crate) async fn topics(&self, outputs: Vec<TopicRole>, partitions: i32) -> Topics {
        Topics::create(
            S::NAME,
            S::INPUT,
            outputs,
            &self.others,
            partitions,
            &self.side,
            self.identify,
        )
        .await
    }

    async fn check_poison_and_retries(&self) {
        let expected = &self.expected;
        let t = self.topics(roles(expected), 1).await;
        let codec = Codec::single_object().expect("codec");
        // good inputs with an undecodable record and the poison inputs in the middle
        let mut records = encode(&codec, &self.inputs).await;
        let junk = b"not an event at all".to_vec();
        let poison = encode(&codec, &self.poison).await;
        let middle = records.len() / 2;
        records.insert(middle, (Some(b"compliance-junk".to_vec()), junk.clone()));
        for (i, p) in poison.iter().cloned().enumerate() {
            records.insert(middle + 1 + i, p);
        }
        produce_raw_all(&t.bootstrap, t.input(), records).await;

        let registry = StageRegistry::new(S::NAME);
        let clock = Arc::new(ManualClock::at(self.clock_start));
        let mut cfg = t.cfg.clone();
        cfg.retry.initial_backoff_ms = 10;
        cfg.retry.max_backoff_ms = 20;
        cfg.retry.max_attempts = 5;
        let wiring = Wiring::new(registry.clone(), clock.clone(), cfg.clone());
        let stage = Injected::new((self.build)(&wiring), Fault::Retryable { calls: [1, 2] });
        let log = stage.log();
        let concurrency = stage.partition_concurrency();
        let stop = CancellationToken::new();
        let options = RunOptions {
            shutdown: stop.clone(),
            metrics: Some(registry.clone()),
            clock: clock.clone(),
            ..RunOptions::default()
        };
        let run = tokio::spawn(async move { run_stage(&cfg, stage, options).await });

        if let Trigger::Clock(by) = self.trigger {
            wait_processed(&log, self.inputs.len()).await;
            let early = t.outputs(&codec, usize::MAX).await;
            assert!(
                early.is_empty(),
                "{}: outputs appeared before the clock moved: {early:?}",
                S::NAME
            );
            clock.advance(by);
        }
        let observed = t.outputs_expected(&codec, expected).await;
        let exceptions = consume_all(
            &t.bootstrap,
            &t.cfg.topics.exceptions,
            1 + self.poison.len(),
            WAIT,
        )
        .await;
        wait_processed(&log, self.inputs.len()).await;
        stop.cancel();
        let summary = run
            .await
            .expect("run task")
            .unwrap_or_else(|e| panic!("{}: the run failed: {e}", S::NAME));

        for role in roles(expected) {
            let want: Vec<&String> = expected
                .iter()
                .filter(|(r, _)| *r == role)
                .map(|(_, l)| l)
                .collect();
            let got: Vec<&String> = observed
                .iter()
                .filter(|(r, _)| *r == role)
                .map(|(_, l)| l)
                .collect();
            assert_eq!(
                got,
                want,
                "{}: outputs on {role:?} in input order despite the retries",
                S::NAME
            );
        }
        self.check_processed(&log, concurrency);
        assert_eq!(
            exceptions.len(),
            1 + self.poison.len(),
            "{}: one exception record per poison input",
            S::NAME
        );
        let mut kinds = Vec::new();
        for r in &exceptions {
            let e: ExceptionRecord = codec.decode(&r.payload).await.expect("exception decodes");
            assert_eq!(e.stage, S::NAME);
            assert_eq!(e.source_topic, t.input());
            assert!(!e.reason.trim().is_empty(), "an exception has a reason");
            if e.error_kind == ErrorKind::Decode {
                assert_eq!(e.original, junk, "the original bytes are kept for replay");
            } else {
                assert!(
                    poison.iter().any(|(_, bytes)| *bytes == e.original),
                    "{}: a rejected input's exception keeps its original bytes ({}: {})",
                    S::NAME,
                    e.exception_id,
                    e.reason
                );
            }
            kinds.push(e.error_kind);
        }
        assert_eq!(
            kinds.iter().filter(|k| **k == ErrorKind::Decode).count(),
            1,
            "{}: the undecodable record is a decode exception: {kinds:?}",
            S::NAME
        );
        let metrics = registry.render();
        let retries = format!("leadflow_{}_retries_total 2", S::NAME.replace('-', "_"));
        assert!(
            metrics.contains(&retries),
            "{}: two retries counted ({retries}) in:\n{metrics}",
            S::NAME
        );
        assert_eq!(summary.exceptions, 1 + self.poison.len() as u64);
    }

    /// Every good input reached the real stage exactly once, the two that failed with a
    /// retryable error included, and in input order when the stage takes one input of a partition
    /// at a time.
    fn check_processed(&self, log: &CallLog, concurrency: usize) {
        let want: Vec<String> = self.inputs.iter().map(|i| i.key().to_owned()).collect();
        let got = log.succeeded();
        if concurrency <= 1 {
            assert_eq!(
                got,
                want,
                "{}: the stage saw every good input once, in order",
                S::NAME
            );
        } else {
            let (mut g, mut w) = (got.clone(), want.clone());
            g.sort();
            w.sort();
            assert_eq!(g, w, "{}: the stage saw every good input once", S::NAME);
        }
        let failed = log.failed();
        assert_eq!(failed.len(), 2, "{}: two injected failures", S::NAME);
        for key in failed {
            assert!(
                got.contains(&key),
                "{}: the input {key} that failed was retried until it succeeded",
                S::NAME
            );
        }
    }

    async fn check_fatal(&self) {
        // the output topics exist too: a timer stage's state includes its own output
        let t = self.topics(roles(&self.expected), 1).await;
        let codec = Codec::single_object().expect("codec");
        produce_raw_all(
            &t.bootstrap,
            t.input(),
            encode(&codec, &self.inputs[..1]).await,
        )
        .await;
        let registry = StageRegistry::new(S::NAME);
        let clock = Arc::new(ManualClock::at(self.clock_start));
        let wiring = Wiring::new(registry.clone(), clock.clone(), t.cfg.clone());
        let stage = Injected::new((self.build)(&wiring), Fault::Fatal);
        let options = RunOptions {
            metrics: Some(registry),
            clock,
            ..RunOptions::default()
        };
        let result = tokio::time::timeout(WAIT, run_stage(&t.cfg, stage, options))
            .await
            .unwrap_or_else(|_| panic!("{}: a fatal error did not stop the run", S::NAME));
        let err = result.expect_err("a fatal error stops the run with an error");
        assert!(
            err.to_string().contains("injected fatal error"),
            "{}: {err}",
            S::NAME
        );
    }

    /// Waits until the process under test made `at_least` inputs' worth of progress.
    async fn progress(&self, t: &Topics, codec: &Codec, at_least: usize) {
        match self.progress {
            Progress::Outputs => {
                let _ = t.outputs(codec, at_least).await;
            }
            Progress::Committed => {
                let _ = t.committed_at_least(at_least as i64).await;
            }
        }
    }

    async fn check_process(&self, binary: &std::path::Path) {
        let expected = &self.expected;
        let t = self.topics(roles(expected), 3).await;
        let codec = Codec::single_object().expect("codec");
        let inputs = match &self.process_inputs {
            Some(make) => make(Duration::ZERO),
            None => self.inputs.clone(),
        };
        let keys = |v: &[S::Input]| v.iter().map(|i| i.key().to_owned()).collect::<Vec<_>>();
        assert_eq!(
            keys(&inputs),
            keys(&self.inputs),
            "{}: the process check's inputs have the keys of the in-process ones",
            S::NAME
        );
        let mut records = encode(&codec, &inputs).await;
        let third_len = records.len().div_ceil(3);
        let batch_c = records.split_off((2 * third_len).min(records.len()));
        let batch_b = records.split_off(third_len.min(records.len()));
        let batch_a = records;
        let want: BTreeSet<String> = expected.iter().map(|(_, l)| l.clone()).collect();
        let mut env = t.process_env();
        env.extend(self.binary_env.iter().cloned());
        let log_dir = tempfile::tempdir().expect("log dir");

        // a first process, SIGKILLed mid-stream (inputs still arriving)
        let mut first = StageProcess::start(binary, &env, log_dir.path(), "first");
        let feeding = t.produce_paced(batch_a);
        self.progress(&t, &codec, (third_len / 2).max(1)).await;
        first.kill();
        feeding.await.expect("producer task");
        // tansu: the replacement must join after the killed member's session expired
        tokio::time::sleep(Duration::from_millis(SESSION_TIMEOUT_MS + 1_500)).await;

        // a replacement under load, then a second member joining under load (a rebalance with
        // in-flight work on the partitions it takes over)
        let second = StageProcess::start(binary, &env, log_dir.path(), "second");
        t.produce_paced(batch_b).await.expect("producer task");
        self.progress(&t, &codec, third_len + third_len / 2).await;
        let feeding = t.produce_paced(batch_c);
        let third = StageProcess::start(binary, &env, log_dir.path(), "third");
        feeding.await.expect("producer task");
        let deadline = Instant::now() + Duration::from_secs(90);
        let got = loop {
            let got: BTreeSet<String> = t
                .outputs(&codec, usize::MAX)
                .await
                .into_iter()
                .map(|(_, l)| l)
                .collect();
            if got.is_superset(&want) || Instant::now() > deadline {
                break got;
            }
        };
        let missing: Vec<_> = want.difference(&got).collect();
        assert!(
            missing.is_empty(),
            "{}: lost across SIGKILL and rebalance: {missing:?}\nfirst log:\n{}\nsecond log:\n{}\nthird log:\n{}",
            S::NAME,
            first.log(),
            second.log(),
            third.log()
        );
        if matches!(self.progress, Progress::Committed) {
            // a deferred stage's outputs come from its state, not from redelivered inputs: each
            // expected one is there exactly as often as expected, across the SIGKILL and the
            // rebalance
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            for (_, id) in t.outputs(&codec, usize::MAX).await {
                *counts.entry(id).or_default() += 1;
            }
            let mut want_counts: BTreeMap<String, usize> = BTreeMap::new();
            for (_, id) in expected {
                *want_counts.entry(id.clone()).or_default() += 1;
            }
            let got_counts: BTreeMap<String, usize> = counts
                .into_iter()
                .filter(|(id, _)| want_counts.contains_key(id))
                .collect();
            assert_eq!(
                got_counts,
                want_counts,
                "{}: outputs repeated across SIGKILL and rebalance\nfirst log:\n{}\nsecond log:\n{}\nthird log:\n{}",
                S::NAME,
                first.log(),
                second.log(),
                third.log()
            );
        }
        for p in [second, third] {
            let status = p.terminate(Duration::from_secs(30));
            assert_eq!(
                status.code(),
                Some(0),
                "{}: SIGTERM drains and exits 0",
                S::NAME
            );
        }
    }
}

/// Waits (at most [`WAIT`]) until the real stage processed `n` inputs successfully.
async fn wait_processed(log: &CallLog, n: usize) {
    let deadline = Instant::now() + WAIT;
    while log.succeeded().len() < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
