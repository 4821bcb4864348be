//! The main consumer's librdkafka context: when partitions are revoked it drains their tasks (bounded
//! wait for the acknowledgements of what they already handled, offsets stored) and then commits
//! the stored offsets synchronously; it turns librdkafka statistics into per-partition lag gauges.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::statistics::Statistics;
use rdkafka::{ClientContext, TopicPartitionList};

use crate::metrics::StageMetrics;
use crate::task_registry::{Drained, Partitions};
use crate::timer::Ownership;

/// Context of the main (group) consumer.
pub struct StageConsumerContext {
    pub metrics: StageMetrics,
    /// The partition tasks of the run.
    pub partitions: Arc<Partitions>,
    /// How long a revoke waits for the revoked partitions' in-flight acknowledgements.
    pub drain_timeout: Duration,
    /// The input partitions the stage's timers fire for (see `timer.rs`).
    pub timers: Arc<Ownership>,
    /// The input topic (the only one the group consumes).
    pub input_topic: String,
}

impl StageConsumerContext {
    fn input_partitions(&self, tpl: &TopicPartitionList) -> Vec<i32> {
        tpl.elements_for_topic(&self.input_topic)
            .iter()
            .map(|e| e.partition())
            .collect()
    }

    /// Stops firing timers for the revoked partitions and waits (bounded) for the round in flight,
    /// so what it raised is acknowledged before the partitions' next owner reads its state.
    fn revoke_timers(&self, tpl: &TopicPartitionList) {
        let partitions = self.input_partitions(tpl);
        let timeout = self.drain_timeout;
        let waited = match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => {
                tokio::task::block_in_place(|| self.timers.revoke(partitions, timeout))
            }
            Ok(_) => self.timers.revoke(partitions, Duration::ZERO),
            Err(_) => self.timers.revoke(partitions, timeout),
        };
        if !waited {
            tracing::warn!("a timer round was still running when its partitions were revoked");
        }
    }

    /// Stops the tasks of the revoked partitions and waits for their drain. The callback runs on
    /// the thread polling the consumer; on a multi-threaded tokio runtime that thread is handed
    /// over (`block_in_place`) so the partition tasks keep running while it waits.
    fn drain(&self, tpl: &TopicPartitionList) -> Drained {
        let stopping = self.partitions.stop(Some(tpl));
        if stopping.is_empty() {
            return Drained::default();
        }
        let timeout = self.drain_timeout;
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => {
                tokio::task::block_in_place(|| stopping.wait(timeout))
            }
            // a single-threaded runtime cannot run the tasks while this thread waits
            Ok(_) => stopping.wait(Duration::ZERO),
            Err(_) => stopping.wait(timeout),
        }
    }
}

impl ClientContext for StageConsumerContext {
    fn stats(&self, stats: Statistics) {
        for (topic, t) in &stats.topics {
            for (partition, p) in &t.partitions {
                // partition -1 is librdkafka's internal UA partition; lag -1 means unknown yet
                if *partition >= 0 && p.desired && p.consumer_lag >= 0 {
                    self.metrics
                        .consumer_lag
                        .with_label_values(&[topic.as_str(), &partition.to_string()])
                        .set(p.consumer_lag);
                }
            }
        }
    }
}

impl ConsumerContext for StageConsumerContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(tpl) => {
                self.revoke_timers(tpl);
                let drained = self.drain(tpl);
                tracing::info!(
                    partitions = tpl.count(),
                    drained = drained.stopped,
                    late = drained.late,
                    "partitions revoked; in-flight work drained, committing stored offsets"
                );
                if !drained.paused.is_empty() {
                    let mut paused = TopicPartitionList::new();
                    for (topic, partition) in &drained.paused {
                        paused.add_partition(topic, *partition);
                    }
                    if let Err(e) = consumer.resume(&paused) {
                        tracing::warn!(error = %e, "resuming revoked partitions failed");
                    }
                }
                match consumer.commit_consumer_state(CommitMode::Sync) {
                    Ok(()) => {}
                    Err(rdkafka::error::KafkaError::ConsumerCommit(
                        rdkafka::types::RDKafkaErrorCode::NoOffset,
                    )) => {}
                    Err(e) => tracing::warn!(error = %e, "commit on revoke failed"),
                }
                for elem in tpl.elements() {
                    let _ = self
                        .metrics
                        .consumer_lag
                        .remove_label_values(&[elem.topic(), &elem.partition().to_string()]);
                }
            }
            Rebalance::Assign(tpl) => {
                tracing::info!(partitions = tpl.count(), "partitions assigned");
            }
            Rebalance::Error(e) => tracing::warn!(error = %e, "rebalance error"),
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            // the timers of these partitions fire once the state caught up (`timer_task.rs`)
            self.timers.assign(self.input_partitions(tpl));
        }
    }
}
