//! Rejoins the group when input partitions are left without an owner (`orphans.rs` has the rule).
//!
//! A consumer whose group coordinator completed a generation without assigning some partitions
//! (a crashed member's replacement that joined while the dead member's session was still open, on a
//! broker that does not reassign on session expiry) heartbeats happily with nothing to do; without
//! this it idles until another member happens to join. Every `group.rejoin_after_ms / 4` this task
//! reads, for the input topic, the group's committed offsets, the high watermarks and the group's
//! description; when the same lagging partitions have had no owner for `group.rejoin_after_ms` it
//! unsubscribes and subscribes again (a LeaveGroup, then a JoinGroup as a new member), which makes
//! the coordinator start a new generation and assign every partition.
//!
//! The looks go through an *observer* — a consumer of its own with the group's id that never joins
//! the group — not through the stage's consumer: a broker that answers a request it does not
//! support by closing the connection (tansu 0.6 does so for the group description) must not take
//! the stage's fetches, heartbeats and commits down with it. After a failed description the watch
//! does without one for [`DESCRIBE_PAUSE`] looks.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus::IntCounter;
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::error::KafkaResult;
use rdkafka::{Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use crate::consumer_context::StageConsumerContext;
use crate::orphans::{GroupView, OrphanWatch, Verdict, assigned_partitions};

/// Timeout of each broker request of one look.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Looks per bound: a partition orphaned for the bound is noticed within a quarter of it more.
const LOOKS_PER_BOUND: u32 = 4;
/// Looks without asking for the group's description after the broker failed to give one.
const DESCRIBE_PAUSE: u32 = 20;

/// What the watch needs to know about the consumer it watches.
pub(crate) struct WatchTarget {
    pub(crate) consumer: Arc<StreamConsumer<StageConsumerContext>>,
    /// A consumer with the group's id that never subscribes: the looks' broker requests.
    pub(crate) observer: BaseConsumer,
    pub(crate) group: String,
    pub(crate) topic: String,
    pub(crate) rejoins: IntCounter,
}

/// Starts the watch; `bound` zero disables it. It ends with `stop`.
pub(crate) fn spawn_group_watch(
    target: WatchTarget,
    bound: Duration,
    stop: CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    if bound.is_zero() {
        return None;
    }
    let target = Arc::new(target);
    Some(tokio::spawn(async move {
        let mut watch = OrphanWatch::new(bound);
        let mut describe_pause = 0u32;
        let mut tick = tokio::time::interval(bound / LOOKS_PER_BOUND);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let t = target.clone();
            let describe = describe_pause == 0;
            describe_pause = describe_pause.saturating_sub(1);
            let view = match tokio::task::spawn_blocking(move || read_view(&t, describe)).await {
                Ok(Ok((Some(v), described))) => {
                    if describe && !described {
                        describe_pause = DESCRIBE_PAUSE;
                    }
                    v
                }
                // mid-rebalance: not judged
                Ok(Ok((None, _))) => {
                    tracing::debug!("group watch: the group is rebalancing");
                    continue;
                }
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, "group watch: cannot read the group's state");
                    continue;
                }
                Err(_) => continue,
            };
            tracing::debug!(
                owned = ?view.owned,
                lagging = ?view.lagging(),
                held = ?view.held,
                "group watch: look"
            );
            match watch.observe(&view, Instant::now()) {
                Verdict::Healthy => {}
                Verdict::Suspect { partitions, for_ } => tracing::debug!(
                    ?partitions,
                    for_ms = for_.as_millis() as u64,
                    "group watch: lagging partitions without an owner"
                ),
                Verdict::Rejoin { partitions, after } => {
                    tracing::warn!(
                        ?partitions,
                        after_ms = after.as_millis() as u64,
                        owned = view.owned.len(),
                        "lagging input partitions have had no owner in the group for longer than \
                         group.rejoin_after_ms; leaving and rejoining the group"
                    );
                    if stop.is_cancelled() {
                        return;
                    }
                    target.rejoins.inc();
                    let t = target.clone();
                    let _ = tokio::task::spawn_blocking(move || rejoin(&t)).await;
                }
            }
        }
    }))
}

fn rejoin(t: &WatchTarget) {
    t.consumer.unsubscribe();
    if let Err(e) = t.consumer.subscribe(&[&t.topic]) {
        tracing::error!(error = %e, topic = %t.topic, "resubscribing after leaving the group failed");
    }
}

/// One look at the group (`None` while the group is rebalancing), and whether the broker described
/// the group (`describe`: whether to ask).
fn read_view(t: &WatchTarget, describe: bool) -> KafkaResult<(Option<GroupView>, bool)> {
    let c = &t.observer;
    let metadata = crate::topic_metadata::fetch_cluster_metadata(c.client(), REQUEST_TIMEOUT)?;
    let partitions: Vec<i32> =
        crate::topic_metadata::partitions_of(&metadata, &t.topic).unwrap_or_default();
    let owned: BTreeSet<i32> = t
        .consumer
        .assignment()?
        .elements_for_topic(&t.topic)
        .iter()
        .map(|e| e.partition())
        .collect();
    let mut tpl = TopicPartitionList::new();
    for p in &partitions {
        tpl.add_partition(&t.topic, *p);
    }
    let committed = c.committed_offsets(tpl, REQUEST_TIMEOUT)?;
    let mut positions = BTreeMap::new();
    let mut low = BTreeMap::new();
    for e in committed.elements_for_topic(&t.topic) {
        let (lo, high) = c.fetch_watermarks(&t.topic, e.partition(), REQUEST_TIMEOUT)?;
        let committed = match e.offset() {
            Offset::Offset(o) => Some(o),
            _ => None,
        };
        positions.insert(e.partition(), (committed, high));
        low.insert(e.partition(), lo);
    }
    if !describe {
        return Ok((
            Some(GroupView {
                owned,
                positions,
                held: None,
                low,
            }),
            false,
        ));
    }
    let held = match c.fetch_group_list(Some(&t.group), REQUEST_TIMEOUT) {
        Ok(list) => match list.groups().iter().find(|g| g.name() == t.group) {
            Some(g) if is_rebalancing(g.state()) => return Ok((None, true)),
            Some(g) => g
                .members()
                .iter()
                .map(|m| assigned_partitions(m.assignment().unwrap_or_default(), &t.topic))
                .collect::<Option<Vec<_>>>()
                .map(|all| all.into_iter().flatten().collect()),
            None => None,
        },
        Err(e) => {
            tracing::debug!(error = %e, "group watch: the broker did not describe the group");
            None
        }
    };
    let described = held.is_some();
    Ok((
        Some(GroupView {
            owned,
            positions,
            held,
            low,
        }),
        described,
    ))
}

fn is_rebalancing(state: &str) -> bool {
    matches!(
        state,
        "PreparingRebalance" | "CompletingRebalance" | "AwaitingSync"
    )
}
