//! For stages whose outputs are not caused by an input (timers: the sla-watchdog's escalations).
//!
//! Two small pieces, both built from the stage's own [`ServiceConfig`]:
//! - [`Emitter`]: encodes an [`Output`] with the stage's codec (registry or single-object encoding)
//!   and produces it with an idempotent producer, returning only once the broker acknowledged it;
//! - [`ShardOwnership`]: a member of a consumer group on a topic that consumes nothing of interest and
//!   reports which of the topic's partitions this instance owns. A timer stage uses the partitions as
//!   shards of its key space ([`shard_of`]), so instances of the stage split the keys between them and
//!   a key's timer fires in exactly one instance; a rebalance moves shards with the usual Kafka rules.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use leadflow_events::{Codec, TopicNames};
use rdkafka::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use tokio_util::sync::CancellationToken;

use crate::config::{ServiceConfig, StageSettings};
use crate::error::RuntimeError;
use crate::kafka::{consumer_config, producer_config};
use crate::stage::Output;
use crate::topic_metadata::{fetch_cluster_metadata, partitions_of};

/// Produces outputs a stage raises on its own.
pub struct Emitter {
    producer: FutureProducer,
    codec: Arc<Codec>,
    topics: TopicNames,
}

impl Emitter {
    /// A producer and codec configured like the stage's harness.
    pub fn new<C: StageSettings>(cfg: &ServiceConfig<C>) -> Result<Self, RuntimeError> {
        let codec = Codec::from_config(cfg.registry.as_ref())
            .map_err(|e| RuntimeError::Codec(Box::new(e)))?;
        let producer: FutureProducer = producer_config(cfg)
            .create()
            .map_err(|e| RuntimeError::Kafka(Box::new(e)))?;
        // connected in the background before the first timer fires (see `warm_up_producer`)
        let warm = producer.clone();
        std::thread::spawn(move || crate::kafka::warm_up_producer(&warm));
        Ok(Self {
            producer,
            codec: Arc::new(codec),
            topics: cfg.topics.clone(),
        })
    }

    /// Encodes and produces one output; `Ok` once the broker acknowledged it.
    pub async fn emit(&self, output: &Output) -> Result<(), RuntimeError> {
        let topic = self.topics.name(output.role).to_owned();
        let payload = output
            .event
            .encode(&self.codec, &topic)
            .await
            .map_err(|e| RuntimeError::Delivery {
                topic: topic.clone(),
                source: Box::new(e),
            })?;
        let record = FutureRecord::to(&topic)
            .key(output.record_key())
            .payload(&payload);
        self.producer
            .send(record, Duration::from_secs(30))
            .await
            .map(|_| ())
            .map_err(|(e, _)| RuntimeError::Delivery {
                topic,
                source: Box::new(e),
            })
    }

    /// Flushes what is still queued (call before exit).
    pub fn flush(&self, timeout: Duration) {
        if let Err(e) = self.producer.flush(timeout) {
            tracing::warn!(error = %e, "emitter flush incomplete");
        }
    }
}

/// The shard (partition number) of `key` among `shards`: FNV-1a 32-bit, stable across processes and
/// versions (never Rust's randomised `Hash`).
pub fn shard_of(key: &str, shards: i32) -> i32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in key.as_bytes() {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    let n = u32::try_from(shards.max(1)).unwrap_or(1);
    i32::try_from(h % n).unwrap_or(0)
}

#[derive(Default)]
struct Owned {
    /// Partition → when this instance got it.
    shards: BTreeMap<i32, Instant>,
}

struct OwnershipContext {
    topic: String,
    owned: Arc<RwLock<Owned>>,
}

impl ClientContext for OwnershipContext {}

impl ConsumerContext for OwnershipContext {
    fn pre_rebalance(&self, _c: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            // stop firing for revoked shards before anyone else is assigned them
            if let Ok(mut o) = self.owned.write() {
                for e in tpl.elements_for_topic(&self.topic) {
                    o.shards.remove(&e.partition());
                }
            }
            tracing::info!(
                topic = %self.topic,
                partitions = tpl.count(),
                "timer shards revoked"
            );
        }
    }

    fn post_rebalance(&self, _c: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            let now = Instant::now();
            if let Ok(mut o) = self.owned.write() {
                let assigned: Vec<i32> = tpl
                    .elements_for_topic(&self.topic)
                    .iter()
                    .map(|e| e.partition())
                    .collect();
                o.shards.retain(|p, _| assigned.contains(p));
                for p in assigned {
                    o.shards.entry(p).or_insert(now);
                }
            }
            tracing::info!(topic = %self.topic, partitions = tpl.count(), "timer shards assigned");
        }
    }
}

/// Which shards of a topic this instance owns in a consumer group.
pub struct ShardOwnership {
    owned: Arc<RwLock<Owned>>,
    shards: i32,
    stop: CancellationToken,
    stopped: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
}

impl ShardOwnership {
    /// Joins `group` on `topic` (whose partition count is the number of shards). The member reads
    /// only records produced after it joined and discards them; it commits nothing.
    pub fn join<C: StageSettings>(
        cfg: &ServiceConfig<C>,
        group: &str,
        topic: &str,
    ) -> Result<Self, RuntimeError> {
        let owned = Arc::new(RwLock::new(Owned::default()));
        let mut config = consumer_config(cfg, group);
        config
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "latest")
            .set("statistics.interval.ms", "0");
        let consumer: BaseConsumer<OwnershipContext> = config
            .create_with_context(OwnershipContext {
                topic: topic.to_owned(),
                owned: owned.clone(),
            })
            .map_err(|e| RuntimeError::Kafka(Box::new(e)))?;
        let meta = fetch_cluster_metadata(consumer.client(), Duration::from_secs(10))
            .map_err(|e| RuntimeError::Kafka(Box::new(e)))?;
        let shards = partitions_of(&meta, topic).map_or(0, |p| p.len());
        if shards == 0 {
            return Err(RuntimeError::Config(format!(
                "topic {topic} does not exist; create the pipeline topics first (leadflow topics create)"
            )));
        }
        consumer
            .subscribe(&[topic])
            .map_err(|e| RuntimeError::Kafka(Box::new(e)))?;
        let stop = CancellationToken::new();
        let (done_tx, stopped) = std::sync::mpsc::channel();
        let thread_stop = stop.clone();
        std::thread::Builder::new()
            .name("shard-ownership".into())
            .spawn(move || {
                while !thread_stop.is_cancelled() {
                    // polling serves the group protocol (heartbeats, rebalance callbacks)
                    if let Some(Err(e)) = consumer.poll(Duration::from_millis(100)) {
                        tracing::debug!(error = %e, "shard ownership consumer");
                    }
                }
                consumer.unsubscribe(); // leave the group: the shards move at once
                let _ = consumer.poll(Duration::from_millis(100));
                drop(consumer);
                let _ = done_tx.send(());
            })
            .map_err(|e| RuntimeError::Config(format!("cannot start the ownership thread: {e}")))?;
        Ok(Self {
            owned,
            shards: i32::try_from(shards).unwrap_or(i32::MAX),
            stop,
            stopped: std::sync::Mutex::new(stopped),
        })
    }

    /// Number of shards (partitions of the topic).
    pub fn shard_count(&self) -> i32 {
        self.shards
    }

    /// Shards owned now, with the instant each was acquired.
    pub fn owned(&self) -> BTreeMap<i32, Instant> {
        self.owned
            .read()
            .map(|o| o.shards.clone())
            .unwrap_or_default()
    }

    /// Whether this instance owns `key`'s shard and has held it for at least `settle`.
    pub fn owns(&self, key: &str, settle: Duration) -> bool {
        let shard = shard_of(key, self.shards);
        self.owned
            .read()
            .ok()
            .and_then(|o| o.shards.get(&shard).copied())
            .is_some_and(|since| since.elapsed() >= settle)
    }

    /// Leaves the group (waits up to `timeout` for the member to close).
    pub fn leave(&self, timeout: Duration) {
        self.stop.cancel();
        if let Ok(rx) = self.stopped.lock() {
            let _ = rx.recv_timeout(timeout);
        }
    }
}

impl Drop for ShardOwnership {
    fn drop(&mut self) {
        self.leave(Duration::from_secs(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_stable_and_in_range() {
        assert_eq!(shard_of("lead-0001", 6), shard_of("lead-0001", 6));
        let mut counts = [0usize; 6];
        for i in 0..6000 {
            let s = shard_of(&format!("lead-{i:05}"), 6);
            assert!((0..6).contains(&s));
            counts[s as usize] += 1;
        }
        // spread: no shard gets less than half its fair share
        assert!(counts.iter().all(|c| *c > 500), "{counts:?}");
        assert_eq!(shard_of("x", 0), 0);
    }
}
