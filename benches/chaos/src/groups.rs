//! The stages' consumer groups as the broker sees them: committed offsets and high watermarks of
//! each group's input topic, read through consumers that never join a group. Used to tell when a
//! killed stage's partitions are consumed again and when a fault's backlog is gone.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use leadflow_events::{TopicNames, TopicRole};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

/// Every stage the harnesses run: its name, consumer group and input topic.
pub const STAGES: [(&str, &str, TopicRole); 7] = [
    ("enrich", "leadflow-enrich", TopicRole::Raw),
    ("score", "leadflow-score", TopicRole::Enriched),
    ("tier", "leadflow-tier", TopicRole::Scored),
    ("route", "leadflow-route", TopicRole::Tiered),
    (
        "route-reassign",
        "leadflow-route_reassign",
        TopicRole::Escalations,
    ),
    ("notify", "leadflow-notify", TopicRole::Packets),
    ("sla-watchdog", "leadflow-sla-watchdog", TopicRole::Packets),
];

const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// partition → (committed offset, high watermark); a partition with nothing committed counts
/// from its low watermark.
pub type Positions = BTreeMap<i32, (i64, i64)>;

pub struct GroupReader {
    groups: BTreeMap<&'static str, (String, BaseConsumer)>,
}

impl GroupReader {
    pub fn new(bootstrap: &str) -> Self {
        let names = TopicNames::default();
        let groups = STAGES
            .iter()
            .filter_map(|(stage, group, role)| {
                let c: BaseConsumer = ClientConfig::new()
                    .set("bootstrap.servers", bootstrap)
                    .set("group.id", *group)
                    .set("enable.auto.commit", "false")
                    .create()
                    .ok()?;
                Some((*stage, (names.name(*role).to_owned(), c)))
            })
            .collect();
        Self { groups }
    }

    /// The group's positions on its input topic; `None` when the broker did not answer.
    pub fn positions(&self, stage: &str) -> Option<Positions> {
        let (topic, c) = self.groups.get(stage)?;
        let md = c.fetch_metadata(Some(topic), REQUEST_TIMEOUT).ok()?;
        let mut tpl = TopicPartitionList::new();
        for p in md.topics().first()?.partitions() {
            tpl.add_partition(topic, p.id());
        }
        let committed = c.committed_offsets(tpl, REQUEST_TIMEOUT).ok()?;
        let mut out = Positions::new();
        for e in committed.elements_for_topic(topic) {
            let (lo, hi) = c
                .fetch_watermarks(topic, e.partition(), REQUEST_TIMEOUT)
                .ok()?;
            let at = match e.offset() {
                Offset::Offset(o) => o,
                _ => lo,
            };
            out.insert(e.partition(), (at, hi));
        }
        Some(out)
    }

    /// Records not yet committed, summed over every stage's group.
    pub fn total_lag(&self) -> Option<i64> {
        let mut total = 0;
        for stage in self.groups.keys() {
            total += self
                .positions(stage)?
                .values()
                .map(|(at, hi)| (hi - at).max(0))
                .sum::<i64>();
        }
        Some(total)
    }
}

/// Whether the group consumes again: every partition that has had input since `then` (its high
/// watermark is above the committed offset of `then`) has a committed offset that moved past it,
/// and at least one such partition exists. A partition without new input tells nothing (nobody
/// may own it, or an owner may have nothing to do), so it is left out.
pub fn all_moved_on(then: &Positions, now: &Positions) -> bool {
    let mut any = false;
    for (p, (at, hi)) in now {
        let before = then.get(p).map_or(0, |(b, _)| *b);
        if *hi > before {
            any = true;
            if *at <= before {
                return false;
            }
        }
    }
    any
}

/// How long each SIGKILL took to be recovered: from the kill until every partition of the killed
/// stage's group was consumed again (`all_moved_on`).
/// (kill label, recovery time or `None`).
pub type Recoveries = Vec<(String, Option<Duration>)>;

#[derive(Clone, Default)]
pub struct KillRecoveries {
    done: Arc<Mutex<Recoveries>>,
    watched: Arc<Mutex<Vec<String>>>,
}

impl KillRecoveries {
    /// Starts watching the recovery of a kill of `label` (`<stage>-<n>`) made just now; gives up
    /// after `limit`.
    pub fn watch(&self, bootstrap: &str, label: &str, limit: Duration) {
        let stage = label.rsplit_once('-').map_or(label, |(s, _)| s).to_owned();
        let (bootstrap, label, done) = (bootstrap.to_owned(), label.to_owned(), self.done.clone());
        let killed_at = Instant::now();
        if let Ok(mut w) = self.watched.lock() {
            w.push(label.clone());
        }
        tokio::task::spawn_blocking(move || {
            let reader = GroupReader::new(&bootstrap);
            let then = loop {
                if let Some(p) = reader.positions(&stage) {
                    break p;
                }
                if killed_at.elapsed() > limit {
                    record(&done, label, None);
                    return;
                }
                std::thread::sleep(Duration::from_millis(500));
            };
            while killed_at.elapsed() < limit {
                std::thread::sleep(Duration::from_millis(500));
                if reader
                    .positions(&stage)
                    .is_some_and(|now| all_moved_on(&then, &now))
                {
                    record(&done, label, Some(killed_at.elapsed()));
                    return;
                }
            }
            record(&done, label, None);
        });
    }

    /// (label, recovery time or `None` when not within the limit) of every kill watched, in the
    /// order of the kills; a kill still being followed counts as not recovered.
    pub fn results(&self) -> Recoveries {
        let done = self.done.lock().map(|v| v.clone()).unwrap_or_default();
        let watched = self.watched.lock().map(|v| v.clone()).unwrap_or_default();
        watched
            .into_iter()
            .map(|l| {
                let d = done.iter().find(|(x, _)| *x == l).and_then(|(_, d)| *d);
                (l, d)
            })
            .collect()
    }
}

fn record(done: &Mutex<Recoveries>, label: String, d: Option<Duration>) {
    if let Ok(mut v) = done.lock() {
        v.push((label, d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_has_moved_on_when_every_partition_with_input_advanced() {
        let then: Positions = [(0, (10, 20)), (1, (5, 9))].into();
        assert!(!all_moved_on(&then, &[(0, (11, 25)), (1, (5, 12))].into()));
        assert!(all_moved_on(&then, &[(0, (11, 25)), (1, (6, 12))].into()));
        assert!(all_moved_on(&then, &[(0, (20, 20)), (1, (7, 12))].into()));
        // a partition without new input is left out
        let drained: Positions = [(0, (20, 20)), (1, (9, 9))].into();
        assert!(all_moved_on(
            &drained,
            &[(0, (20, 20)), (1, (10, 10))].into()
        ));
        // nothing arrived anywhere: nothing shows the group consumes
        assert!(!all_moved_on(&drained, &drained));
        // drained at the kill, new input that nobody consumed
        assert!(!all_moved_on(
            &drained,
            &[(0, (20, 24)), (1, (9, 9))].into()
        ));
    }
}
