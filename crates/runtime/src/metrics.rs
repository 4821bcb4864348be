//! Prometheus metrics of one running stage: `leadflow_<stage>_<noun>_<unit>`, bounded labels only
//! (topic roles, error kinds, partition numbers — never lead ids or personal data).

use prometheus::{Histogram, IntCounter, IntCounterVec, IntGauge, IntGaugeVec};

use crate::registry::StageRegistry;

/// The harness's metrics for one stage.
#[derive(Clone)]
pub struct StageMetrics {
    pub registry: StageRegistry,
    pub consumed: IntCounter,
    pub produced: IntCounterVec,
    pub failed: IntCounterVec,
    pub retries: IntCounter,
    pub partition_pauses: IntCounter,
    pub group_rejoins: IntCounter,
    pub side_input_events: IntCounterVec,
    pub handler_seconds: Histogram,
    pub record_age_seconds: Histogram,
    pub delivery_seconds: Histogram,
    pub in_flight: IntGauge,
    pub consumer_lag: IntGaugeVec,
}

impl StageMetrics {
    /// Registers the harness's metrics in the stage's registry (the one the stage registers its own
    /// metrics in).
    pub fn new(registry: &StageRegistry) -> Result<Self, prometheus::Error> {
        let r = registry;
        Ok(Self {
            consumed: r.counter("consumed_total", "Input records consumed")?,
            produced: r.counter_vec(
                "produced_total",
                "Output records acknowledged by the broker, by topic",
                &["topic"],
            )?,
            failed: r.counter_vec(
                "failed_total",
                "Inputs sent to the exceptions topic, by error kind and owning team (configured team names: bounded)",
                &["kind", "owner"],
            )?,
            retries: r.counter(
                "retries_total",
                "Retries after retryable errors (decode, transform or encode attempts repeated)",
            )?,
            partition_pauses: r.counter(
                "partition_pauses_total",
                "Partitions paused because their task took no input for a while with inputs waiting (retrying, a slow dependency); a backlog alone never pauses",
            )?,
            group_rejoins: r.counter(
                "group_rejoins_total",
                "Times the stage left and rejoined its consumer group because lagging input partitions had no owner for group.rejoin_after_ms",
            )?,
            side_input_events: r.counter_vec(
                "side_input_events_total",
                "State events applied from side-input topics, by topic",
                &["topic"],
            )?,
            handler_seconds: r.histogram(
                "handler_duration_seconds",
                "Time to decode, transform and encode one input",
                vec![
                    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05,
                    0.1, 0.25, 0.5, 1.0, 2.5,
                ],
            )?,
            record_age_seconds: r.histogram(
                "input_age_seconds",
                "Age of an input when the stage receives it (now minus the record's Kafka timestamp)",
                vec![
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
                ],
            )?,
            delivery_seconds: r.histogram(
                "delivery_duration_seconds",
                "Time from handing an input's outputs to the producer until the broker acknowledged all of them",
                vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                ],
            )?,
            in_flight: r.gauge(
                "in_flight_records",
                "Inputs whose outputs await broker acknowledgement",
            )?,
            consumer_lag: r.gauge_vec(
                "consumer_lag_messages",
                "Consumer lag per assigned partition, from librdkafka statistics",
                &["topic", "partition"],
            )?,
            registry: registry.clone(),
        })
    }

    /// Text exposition of the stage's registry plus anything registered in the default registry.
    pub fn render(&self) -> String {
        self.registry.render()
    }
}
