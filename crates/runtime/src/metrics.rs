//! Prometheus metrics of one running stage: `leadflow_<stage>_<noun>_<unit>`, bounded labels only
//! (topic roles, error kinds, partition numbers — never lead ids or personal data).

use prometheus::{
    Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

/// The harness's metrics for one stage.
#[derive(Clone)]
pub struct StageMetrics {
    pub registry: Registry,
    pub consumed: IntCounter,
    pub produced: IntCounterVec,
    pub failed: IntCounterVec,
    pub retries: IntCounter,
    pub side_input_events: IntCounterVec,
    pub handler_seconds: Histogram,
    pub record_age_seconds: Histogram,
    pub delivery_seconds: Histogram,
    pub in_flight: IntGauge,
    pub consumer_lag: IntGaugeVec,
}

impl StageMetrics {
    /// Registers the metrics of `stage` in a fresh registry.
    pub fn new(stage: &str) -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let p = format!("leadflow_{}", stage.replace('-', "_"));
        let consumed = IntCounter::with_opts(Opts::new(
            format!("{p}_consumed_total"),
            "Input records consumed",
        ))?;
        let produced = IntCounterVec::new(
            Opts::new(
                format!("{p}_produced_total"),
                "Output records acknowledged by the broker, by topic",
            ),
            &["topic"],
        )?;
        let failed = IntCounterVec::new(
            Opts::new(
                format!("{p}_failed_total"),
                "Inputs sent to the exceptions topic, by error kind",
            ),
            &["kind"],
        )?;
        let retries = IntCounter::with_opts(Opts::new(
            format!("{p}_retries_total"),
            "Retries after retryable errors",
        ))?;
        let side_input_events = IntCounterVec::new(
            Opts::new(
                format!("{p}_side_input_events_total"),
                "State events applied from side-input topics, by topic",
            ),
            &["topic"],
        )?;
        let handler_seconds = Histogram::with_opts(
            HistogramOpts::new(
                format!("{p}_handler_duration_seconds"),
                "Time to decode, transform and encode one input",
            )
            .buckets(vec![
                0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05,
                0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
        )?;
        let record_age_seconds = Histogram::with_opts(
            HistogramOpts::new(
                format!("{p}_input_age_seconds"),
                "Age of an input when the stage receives it (now minus the record's Kafka timestamp)",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
            ]),
        )?;
        let delivery_seconds = Histogram::with_opts(
            HistogramOpts::new(
                format!("{p}_delivery_duration_seconds"),
                "Time from handing an input's outputs to the producer until the broker acknowledged all of them",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ]),
        )?;
        let in_flight = IntGauge::with_opts(Opts::new(
            format!("{p}_in_flight_records"),
            "Inputs whose outputs await broker acknowledgement",
        ))?;
        let consumer_lag = IntGaugeVec::new(
            Opts::new(
                format!("{p}_consumer_lag_messages"),
                "Consumer lag per assigned partition, from librdkafka statistics",
            ),
            &["topic", "partition"],
        )?;
        registry.register(Box::new(consumed.clone()))?;
        registry.register(Box::new(produced.clone()))?;
        registry.register(Box::new(failed.clone()))?;
        registry.register(Box::new(retries.clone()))?;
        registry.register(Box::new(side_input_events.clone()))?;
        registry.register(Box::new(handler_seconds.clone()))?;
        registry.register(Box::new(record_age_seconds.clone()))?;
        registry.register(Box::new(delivery_seconds.clone()))?;
        registry.register(Box::new(in_flight.clone()))?;
        registry.register(Box::new(consumer_lag.clone()))?;
        Ok(Self {
            registry,
            consumed,
            produced,
            failed,
            retries,
            side_input_events,
            handler_seconds,
            record_age_seconds,
            delivery_seconds,
            in_flight,
            consumer_lag,
        })
    }

    /// Text exposition of this stage's metrics plus anything stages registered in the default registry.
    pub fn render(&self) -> String {
        let mut families = self.registry.gather();
        families.extend(prometheus::default_registry().gather());
        prometheus::TextEncoder::new()
            .encode_to_string(&families)
            .unwrap_or_else(|e| format!("# metrics encoding failed: {e}\n"))
    }
}
