//! librdkafka client configuration built from a [`ServiceConfig`]: consumer groups with manual offset
//! storing (offsets follow delivery), idempotent producers, statistics for lag metrics.

use std::collections::HashMap;

use rdkafka::ClientConfig;

use crate::config::{ServiceConfig, StageSettings};

/// Settings shared by every client, plus the config's security and raw overrides.
pub fn base_config<S: StageSettings>(cfg: &ServiceConfig<S>) -> ClientConfig {
    let mut c = ClientConfig::new();
    for (k, v) in cfg.client_settings() {
        c.set(k, v);
    }
    c
}

/// A consumer in `group`: auto-commit of *stored* offsets only; the harness stores an offset once the
/// outputs of that record (and of every earlier record of the partition) are acknowledged.
pub fn consumer_config<S: StageSettings>(cfg: &ServiceConfig<S>, group: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("group.id", group)
        .set("enable.auto.commit", "true")
        .set(
            "auto.commit.interval.ms",
            cfg.group.commit_interval_ms.to_string(),
        )
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "1000")
        .set("statistics.interval.ms", "5000")
        // a lead waits at most this long in a broker fetch: handoffs are latency-bound, and brokers
        // that do not answer a fetch early when data arrives would otherwise add 500 ms per hop
        .set("fetch.wait.max.ms", "20");
    if let Some(instance) = &cfg.group.instance_id {
        c.set("group.instance.id", instance);
    }
    // the config's own settings win over these defaults
    for (k, v) in cfg.client_settings() {
        c.set(k, v);
    }
    c
}

/// An idempotent producer (no duplicates from internal retries, order kept per partition).
pub fn producer_config<S: StageSettings>(cfg: &ServiceConfig<S>) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("message.timeout.ms", "30000")
        .set("compression.type", "none");
    for (k, v) in cfg.client_settings() {
        c.set(k, v);
    }
    c
}

/// A group-less consumer for side inputs (manual assignment, no commits).
pub fn side_consumer_config<S: StageSettings>(cfg: &ServiceConfig<S>, group: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("group.id", format!("{group}-side"))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false");
    for (k, v) in cfg.client_settings() {
        c.set(k, v);
    }
    c
}

/// Connects `producer` to the cluster while nothing is queued (blocking, up to 5 s, best effort):
/// an idempotent producer that has records queued before it holds a producer id waits for
/// librdkafka's 500 ms PID timer, so the first outputs after a start paid up to ~1 s
/// (docs/BROKER.md 2). A broker that does not answer here is reported by the first send.
///
/// Returns the partition count of every topic the cluster reported (empty if it did not answer),
/// which the send gate routes by.
pub(crate) fn warm_up_producer(
    producer: &rdkafka::producer::FutureProducer,
) -> HashMap<String, i32> {
    use rdkafka::producer::Producer;
    let timeout = std::time::Duration::from_secs(5);
    match crate::topic_metadata::fetch_cluster_metadata(producer.client(), timeout) {
        Ok(meta) => crate::topic_metadata::partition_counts(&meta),
        Err(e) => {
            tracing::debug!(error = %e, "producer warm-up: no metadata yet");
            HashMap::new()
        }
    }
}
