//! The process check of a stage whose outputs come from timers on its clock (the sla-watchdog):
//! the service binary as real processes on the wall clock, fed inputs whose timers are due at
//! chosen instants ([`super::DeferredCompliance::process_inputs`]), one expected output per input.
//!
//! 1. a first process fires the timers of the first third of the inputs (due at once) and the
//!    broker acknowledges their outputs;
//! 2. it consumes the second third, due [`OPEN_FOR`] later, and is SIGKILLed with those timers
//!    open;
//! 3. once the killed member's session expired, a replacement fires the second third — and not the
//!    first third again (its state read the acknowledged outputs back);
//! 4. the replacement consumes the last third, due [`OPEN_FOR`] later; a third process joins with
//!    those timers open (a rebalance moves some of the partitions, every partition holds some of
//!    these keys) and fires part of them: ownership moved;
//!
//! and every expected output is on the output topics **exactly once** (no double firing across the
//! crash or the rebalance, nothing lost); SIGTERM drains both processes and they exit 0.
//!
//! Steps 2 and 4 need the timers still open when the crash and the rebalance happen: the check
//! says so, and fails, when the machine was slower than [`OPEN_FOR`] (it then proved less than it
//! claims).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use leadflow_events::{Codec, Event, TopicRole};
use leadflow_runtime::Stage;

use super::checks::Plan;
use super::topics::{SESSION_TIMEOUT_MS, Topics, WAIT, encode, roles};
use crate::process::StageProcess;

/// How far ahead of their batch the timers of steps 2 and 4 are due: time for the crash, the
/// replacement's start and the rebalance to happen while they are open.
pub(crate) const OPEN_FOR: Duration = Duration::from_secs(40);

/// What the runtime logs when a stage's timers fire for newly owned partitions, and when a round
/// delivered outputs to a topic (`crates/runtime/src/timer_task.rs`).
const ARMED: &str = "timers armed";
const DELIVERED: &str = "timer outputs delivered";

impl<S: Stage> Plan<S> {
    pub(crate) async fn check_timer_process(
        &self,
        binary: &Path,
        make: &(dyn Fn(Duration) -> Vec<S::Input> + Send + Sync),
    ) {
        let expected = &self.expected;
        let n = self.inputs.len();
        assert_eq!(
            expected.len(),
            n,
            "{}: the timer process check expects one output per input",
            S::NAME
        );
        let t = self.topics(roles(expected), 3).await;
        let codec = Codec::single_object().expect("codec");
        let third = n.div_ceil(3);
        let (a, b, c) = (0..third, third..2 * third, 2 * third..n);
        let ids = |r: std::ops::Range<usize>| -> BTreeSet<String> {
            expected[r].iter().map(|(_, id)| id.clone()).collect()
        };
        let batch = |r: std::ops::Range<usize>, due_in: Duration| {
            let inputs = make(due_in);
            let keys = |v: &[S::Input]| v.iter().map(|i| i.key().to_owned()).collect::<Vec<_>>();
            assert_eq!(
                keys(&inputs),
                keys(&self.inputs),
                "{}: the process check's inputs have the keys of the in-process ones",
                S::NAME
            );
            inputs[r].to_vec()
        };
        let mut env = t.process_env();
        env.extend(self.binary_env.iter().cloned());
        let dir = tempfile::tempdir().expect("log dir");
        let logs = |ps: &[&StageProcess]| -> String {
            ps.iter()
                .map(|p| format!("--- {} ---\n{}", p.label(), p.log()))
                .collect()
        };

        // 1. the first process fires the first third
        let mut first = StageProcess::start(binary, &env, dir.path(), "first");
        let records = encode(&codec, &batch(a.clone(), Duration::ZERO)).await;
        t.produce_paced(records).await.expect("producer task");
        let got = wait_for(&t, &codec, &ids(a.clone()), WAIT).await;
        assert_superset(&got, &ids(a.clone()), "fired by the first process", || {
            logs(&[&first])
        });

        // 2. it consumes the second third and dies with those timers open
        let records = encode(&codec, &batch(b.clone(), OPEN_FOR)).await;
        t.produce_paced(records).await.expect("producer task");
        let committed = t.committed_at_least(b.end as i64).await;
        assert!(
            committed >= b.end as i64,
            "{}: the first process committed {committed} of {} inputs\n{}",
            S::NAME,
            b.end,
            logs(&[&first])
        );
        first.kill();
        let early = present(&t, &codec, &ids(b.clone())).await;
        assert!(
            early.is_empty(),
            "{}: the check is too slow for this machine: {early:?} fired before the SIGKILL (due \
             {OPEN_FOR:?} after they were produced), so the crash did not happen with them open",
            S::NAME
        );
        // tansu: the replacement must join after the killed member's session expired
        tokio::time::sleep(Duration::from_millis(SESSION_TIMEOUT_MS + 1_500)).await;

        // 3. the replacement fires them
        let second = StageProcess::start(binary, &env, dir.path(), "second");
        let want_ab: BTreeSet<String> = ids(a.clone()).union(&ids(b.clone())).cloned().collect();
        let got = wait_for(&t, &codec, &want_ab, WAIT + OPEN_FOR).await;
        assert_superset(&got, &want_ab, "fired across the SIGKILL", || {
            logs(&[&first, &second])
        });

        // 4. the replacement consumes the last third; a third process joins with those open
        let records = encode(&codec, &batch(c.clone(), OPEN_FOR)).await;
        t.produce_paced(records).await.expect("producer task");
        let committed = t.committed_at_least(n as i64).await;
        assert!(
            committed >= n as i64,
            "{}: the replacement committed {committed} of {n} inputs\n{}",
            S::NAME,
            logs(&[&second])
        );
        let joining = StageProcess::start(binary, &env, dir.path(), "third");
        wait_for_log(&joining, ARMED, WAIT).await;
        let early = present(&t, &codec, &ids(c.clone())).await;
        assert!(
            early.is_empty(),
            "{}: the check is too slow for this machine: {early:?} fired before the rebalance \
             (due {OPEN_FOR:?} after they were produced), so it did not move open timers",
            S::NAME
        );
        let all: BTreeSet<String> = ids(0..n);
        let got = wait_for(&t, &codec, &all, WAIT + OPEN_FOR).await;
        assert_superset(&got, &all, "fired across the rebalance", || {
            logs(&[&first, &second, &joining])
        });

        // exactly once: every output, read again after a quiet spell, once and only once
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for (_, id) in t.outputs(&codec, usize::MAX).await {
            *counts.entry(id).or_default() += 1;
        }
        let wrong: Vec<_> = counts
            .iter()
            .filter(|(id, c)| **c != 1 || !all.contains(*id))
            .collect();
        assert!(
            wrong.is_empty(),
            "{}: outputs not there exactly once (identity, count): {wrong:?}\n{}",
            S::NAME,
            logs(&[&first, &second, &joining])
        );
        let output_topics: Vec<&str> = roles(expected)
            .into_iter()
            .map(|r: TopicRole| t.cfg.topics.name(r))
            .collect();
        let joined_fired = joining
            .log()
            .lines()
            .any(|l| l.contains(DELIVERED) && output_topics.iter().any(|t| l.contains(t)));
        assert!(
            joined_fired,
            "{}: the process that joined fired none of the timers of the partitions it took \
             over\n{}",
            S::NAME,
            logs(&[&second, &joining])
        );
        for p in [second, joining] {
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

/// The identities of `want` on the output topics now.
async fn present(t: &Topics, codec: &Codec, want: &BTreeSet<String>) -> Vec<String> {
    t.outputs(codec, usize::MAX)
        .await
        .into_iter()
        .map(|(_, id)| id)
        .filter(|id| want.contains(id))
        .collect()
}

/// Polls the output topics until every identity of `want` is there, or `within` passed; returns
/// what is there.
async fn wait_for(
    t: &Topics,
    codec: &Codec,
    want: &BTreeSet<String>,
    within: Duration,
) -> BTreeSet<String> {
    let deadline = Instant::now() + within;
    loop {
        let got: BTreeSet<String> = t
            .outputs(codec, usize::MAX)
            .await
            .into_iter()
            .map(|(_, id)| id)
            .collect();
        if got.is_superset(want) || Instant::now() > deadline {
            return got;
        }
    }
}

fn assert_superset(
    got: &BTreeSet<String>,
    want: &BTreeSet<String>,
    what: &str,
    logs: impl Fn() -> String,
) {
    let missing: Vec<_> = want.difference(got).collect();
    assert!(
        missing.is_empty(),
        "not all {what}: missing {missing:?}\n{}",
        logs()
    );
}

/// Polls a process's log until it holds `needle` (panics after `within`).
async fn wait_for_log(p: &StageProcess, needle: &str, within: Duration) {
    let deadline = Instant::now() + within;
    while !p.log().contains(needle) {
        assert!(
            Instant::now() < deadline,
            "{} never logged {needle:?}:\n{}",
            p.label(),
            p.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
