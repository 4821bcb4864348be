//! Feeds the book from the lead topics: one consumer assigned every partition of every lead topic
//! from its beginning (no consumer group, no committed offsets: the book is memory, rebuilt by a
//! restart; `RULES.md` L4), keys, offsets and timestamps only (values are never decoded). Ready once
//! every partition reached the high watermark it had at the start.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use crate::api::Shared;
use crate::book::Observed;

/// Records handled per hold of the book's lock.
const BURST: usize = 2_000;
const TIMEOUT: Duration = Duration::from_secs(10);

/// Reads the book's topics until `stop`; blocking (run it on a thread of its own).
pub fn follow(
    mut config: ClientConfig,
    shared: &Arc<Shared>,
    stop: &CancellationToken,
) -> anyhow::Result<()> {
    config
        .set("group.id", "leadflow-locator")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false");
    let consumer: BaseConsumer = config.create()?;
    let topics = read_book(shared, |b| b.topics().to_vec());
    let mut assignment = TopicPartitionList::new();
    // (topic index, partition) → high watermark at the start, until reached
    let mut behind: HashMap<(u16, i32), i64> = HashMap::new();
    for (index, topic) in topics.iter().enumerate() {
        let index = u16::try_from(index)?;
        let metadata = consumer.fetch_metadata(Some(topic), TIMEOUT)?;
        for t in metadata.topics() {
            for p in t.partitions() {
                assignment.add_partition_offset(topic, p.id(), Offset::Beginning)?;
                let (low, high) = consumer.fetch_watermarks(topic, p.id(), TIMEOUT)?;
                if high > low {
                    behind.insert((index, p.id()), high);
                }
            }
        }
    }
    consumer.assign(&assignment)?;
    if behind.is_empty() {
        shared.set_caught_up();
    }
    while !stop.is_cancelled() {
        let Some(first) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        let mut book = match shared.book.write() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut next = Some(first);
        let mut handled = 0;
        while let Some(polled) = next.take() {
            match polled {
                Ok(m) => {
                    let index = book.topic_index(m.topic());
                    let observed = match (index, m.key()) {
                        (Some(i), Some(key)) => book.observe(
                            i,
                            key,
                            m.partition(),
                            m.offset(),
                            m.timestamp().to_millis().unwrap_or(0),
                        ),
                        _ => Observed::Dropped,
                    };
                    shared.metrics.records.inc();
                    if observed == Observed::Dropped {
                        shared.metrics.dropped.inc();
                    }
                    if let Some(i) = index {
                        let reached = behind
                            .get(&(i, m.partition()))
                            .is_some_and(|high| m.offset() + 1 >= *high);
                        if reached {
                            behind.remove(&(i, m.partition()));
                            if behind.is_empty() {
                                shared.set_caught_up();
                                tracing::info!(keys = book.keys(), "caught up");
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "consume error"),
            }
            handled += 1;
            if handled < BURST {
                next = consumer.poll(Duration::ZERO);
            }
        }
    }
    shared.live.store(false, Ordering::SeqCst);
    Ok(())
}

fn read_book<T>(shared: &Shared, f: impl FnOnce(&crate::book::Book) -> T) -> T {
    match shared.book.read() {
        Ok(b) => f(&b),
        Err(poisoned) => f(&poisoned.into_inner()),
    }
}
