//! Keyed timers (the contract is in [`crate::stage::Stage`]'s docs, "Timers"): which input
//! partitions this instance owns in its consumer group, the gate each assigned partition passes
//! before its keys fire, and the task that runs the stage's timer rounds on the injected clock.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::partitioner::Partitioner;

/// The keys a timer round may fire for: those of the input partitions this instance owns and whose
/// state caught up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedKeys {
    partitioner: Partitioner,
    partitions: i32,
    live: BTreeSet<i32>,
}

impl OwnedKeys {
    /// `live` partitions of an input topic of `partitions` partitions, keys placed by `partitioner`.
    pub fn new(partitioner: Partitioner, partitions: i32, live: BTreeSet<i32>) -> Self {
        Self {
            partitioner,
            partitions: partitions.max(1),
            live,
        }
    }

    /// Every key (a single-partition input, owned): unit tests of a stage's timer.
    pub fn everything() -> Self {
        Self::new(Partitioner::Crc32, 1, BTreeSet::from([0]))
    }

    /// The input partition `key` belongs to.
    pub fn partition_of(&self, key: &str) -> i32 {
        self.partitioner.partition(key.as_bytes(), self.partitions)
    }

    /// Whether this round may fire for `key`.
    pub fn owns(&self, key: &str) -> bool {
        self.live.contains(&self.partition_of(key))
    }

    /// Whether this round owns input partition `partition` (a stage-wide timer, such as a model
    /// fit, runs on the owner of partition 0).
    pub fn owns_partition(&self, partition: i32) -> bool {
        self.live.contains(&partition)
    }

    /// The live partitions.
    pub fn partitions(&self) -> &BTreeSet<i32> {
        &self.live
    }
}

/// Side-input progress: per (topic, partition), the next offset the stage has applied up to.
#[derive(Debug, Default)]
pub(crate) struct Positions(Mutex<HashMap<(String, i32), i64>>);

impl Positions {
    pub(crate) fn set(&self, topic: &str, partition: i32, next: i64) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let slot = map.entry((topic.to_owned(), partition)).or_insert(next);
        *slot = (*slot).max(next);
    }

    /// Whether every target (topic, partition, high watermark) was reached.
    fn reached(&self, targets: &[(String, i32, i64)]) -> bool {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        targets.iter().all(|(topic, partition, high)| {
            *high <= 0
                || map
                    .get(&(topic.clone(), *partition))
                    .is_some_and(|at| at >= high)
        })
    }
}

/// Where an owned partition stands.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Gate {
    /// Just assigned: the side inputs' high watermarks are not read yet.
    Assigned,
    /// Waiting for the side inputs to reach these high watermarks.
    CatchingUp(Vec<(String, i32, i64)>),
    /// Its keys fire.
    Live,
}

#[derive(Debug, Default)]
struct OwnState {
    gates: BTreeMap<i32, Gate>,
    /// A round is running (its outputs may not be acknowledged yet).
    busy: bool,
}

/// The input partitions this instance owns, updated by the rebalance callbacks.
#[derive(Debug, Default)]
pub(crate) struct Ownership {
    state: Mutex<OwnState>,
    idle: Condvar,
}

impl Ownership {
    fn lock(&self) -> std::sync::MutexGuard<'_, OwnState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Partitions assigned: they fire once their gate opens.
    pub(crate) fn assign(&self, partitions: impl IntoIterator<Item = i32>) {
        let mut s = self.lock();
        for p in partitions {
            s.gates.insert(p, Gate::Assigned);
        }
    }

    /// Partitions revoked: no later round fires for them; waits at most `wait` for the round in
    /// flight, so what it raised is acknowledged before anyone else owns them. `false` when the
    /// round was still running when the time was up.
    pub(crate) fn revoke(&self, partitions: impl IntoIterator<Item = i32>, wait: Duration) -> bool {
        let mut s = self.lock();
        for p in partitions {
            s.gates.remove(&p);
        }
        let until = Instant::now() + wait;
        while s.busy {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            s = self
                .idle
                .wait_timeout(s, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    /// Assigned partitions whose side-input targets are not read yet.
    pub(crate) fn awaiting_targets(&self) -> Vec<i32> {
        self.lock()
            .gates
            .iter()
            .filter(|(_, g)| **g == Gate::Assigned)
            .map(|(p, _)| *p)
            .collect()
    }

    /// Sets the targets of partitions still waiting for them.
    pub(crate) fn set_targets(&self, partitions: &[i32], targets: &[(String, i32, i64)]) {
        let mut s = self.lock();
        for p in partitions {
            if let Some(g) = s.gates.get_mut(p) {
                if *g == Gate::Assigned {
                    *g = Gate::CatchingUp(targets.to_vec());
                }
            }
        }
    }

    /// Opens the gates whose targets the side inputs reached; returns those partitions.
    pub(crate) fn open_reached(&self, positions: &Positions) -> Vec<i32> {
        let mut s = self.lock();
        let mut opened = Vec::new();
        for (p, g) in &mut s.gates {
            if let Gate::CatchingUp(targets) = g {
                if positions.reached(targets) {
                    *g = Gate::Live;
                    opened.push(*p);
                }
            }
        }
        opened
    }

    /// Starts a round: the live partitions, and `busy` until the returned guard is dropped.
    pub(crate) fn begin_round(self: &Arc<Self>) -> (BTreeSet<i32>, RoundGuard) {
        let mut s = self.lock();
        s.busy = true;
        let live = s
            .gates
            .iter()
            .filter(|(_, g)| **g == Gate::Live)
            .map(|(p, _)| *p)
            .collect();
        (live, RoundGuard(self.clone()))
    }

    fn end_round(&self) {
        self.lock().busy = false;
        self.idle.notify_all();
    }
}

/// Ends a round when dropped (whatever way the round ended).
pub(crate) struct RoundGuard(Arc<Ownership>);

impl Drop for RoundGuard {
    fn drop(&mut self) {
        self.0.end_round();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_fires_only_once_the_side_inputs_reached_its_targets() {
        let own = Arc::new(Ownership::default());
        let pos = Positions::default();
        own.assign([0, 1]);
        assert!(
            own.begin_round().0.is_empty(),
            "nothing live before targets"
        );
        assert_eq!(own.awaiting_targets(), vec![0, 1]);
        let targets = vec![("s".to_owned(), 0, 5), ("s".to_owned(), 1, 0)];
        own.set_targets(&[0, 1], &targets);
        assert!(own.open_reached(&pos).is_empty(), "position unknown");
        pos.set("s", 0, 4);
        assert!(own.open_reached(&pos).is_empty(), "one record short");
        pos.set("s", 0, 5);
        assert_eq!(own.open_reached(&pos), vec![0, 1]);
        assert_eq!(own.begin_round().0, BTreeSet::from([0, 1]));
        // positions never go back
        pos.set("s", 0, 2);
        assert!(pos.reached(&targets));
    }

    #[test]
    fn a_revoke_waits_for_the_round_in_flight_and_stops_later_rounds() {
        let own = Arc::new(Ownership::default());
        own.assign([0, 1]);
        own.set_targets(&[0, 1], &[]);
        own.open_reached(&Positions::default());
        let (live, guard) = own.begin_round();
        assert_eq!(live.len(), 2);
        // the round is running: the revoke times out waiting
        assert!(!own.revoke([1], Duration::from_millis(20)));
        let waiter = {
            let own = own.clone();
            std::thread::spawn(move || own.revoke([0], Duration::from_secs(30)))
        };
        drop(guard);
        assert!(waiter.join().expect("revoke thread"));
        assert!(own.begin_round().0.is_empty());
    }

    #[test]
    fn owned_keys_follow_the_partitioner() {
        let keys = OwnedKeys::new(Partitioner::Crc32, 3, BTreeSet::from([1]));
        let p = keys.partition_of("lead-1");
        assert_eq!(p, Partitioner::Crc32.partition(b"lead-1", 3));
        assert_eq!(keys.owns("lead-1"), p == 1);
        assert!(OwnedKeys::everything().owns("anything"));
    }
}
