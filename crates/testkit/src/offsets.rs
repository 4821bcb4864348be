//! What a consumer group has committed: progress of a stage process that produces no output per
//! input (its outputs come from timers), observed from outside.

use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};

/// The sum over the first `partitions` partitions of `topic` of the offsets `group` committed
/// (partitions without a commit count 0).
pub async fn committed_total(bootstrap: &str, group: &str, topic: &str, partitions: i32) -> i64 {
    let (bootstrap, group, topic) = (bootstrap.to_owned(), group.to_owned(), topic.to_owned());
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .set("group.id", &group)
            .set("enable.auto.commit", "false")
            .create()
            .unwrap_or_else(|e| panic!("cannot create a consumer for {bootstrap}: {e}"));
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition(&topic, p);
        }
        match consumer.committed_offsets(tpl, Duration::from_secs(5)) {
            Ok(list) => list
                .elements()
                .iter()
                .map(|e| match e.offset() {
                    Offset::Offset(o) if o > 0 => o,
                    _ => 0,
                })
                .sum(),
            Err(e) => {
                eprintln!("testkit: committed offsets of {group} on {topic}: {e} (counted as 0)");
                0
            }
        }
    })
    .await
    .expect("committed offsets task")
}
