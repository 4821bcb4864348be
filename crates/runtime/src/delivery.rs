//! Producing an input's outputs and storing its offset once the broker acknowledged all of them.

use std::pin::Pin;
use std::time::Instant;

use leadflow_events::ErrorKind;
use prometheus::{IntCounter, IntCounterVec};
use rdkafka::consumer::{Consumer, StreamConsumer};

use crate::consumer_context::StageConsumerContext;
use crate::error::RuntimeError;
use crate::input::{Encoded, Input};
use crate::metrics::StageMetrics;
use crate::send_gate::SendGate;
use crate::summary::SummaryCounters;

pub(crate) type Completion = Pin<Box<dyn Future<Output = Result<Completed, RuntimeError>> + Send>>;

pub(crate) struct Completed {
    pub(crate) topic: String,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
    pub(crate) produced: Vec<(String, Option<(ErrorKind, String)>)>,
}

/// A partition task's handles on `produced_total{topic}`: looked up in the metric family once per
/// topic, not once per record.
pub(crate) struct ProducedCounters {
    family: IntCounterVec,
    by_topic: Vec<(String, IntCounter)>,
}

impl ProducedCounters {
    pub(crate) fn new(family: IntCounterVec) -> Self {
        Self {
            family,
            by_topic: Vec::new(),
        }
    }

    fn inc(&mut self, topic: &str) {
        if let Some((_, c)) = self.by_topic.iter().find(|(t, _)| t == topic) {
            c.inc();
            return;
        }
        let c = self.family.with_label_values(&[topic]);
        c.inc();
        self.by_topic.push((topic.to_owned(), c));
    }
}

/// Counts the outputs of a completed input (all acknowledged); returns its position, whose offset
/// the caller stores (after those of every earlier input of the partition).
pub(crate) fn complete(
    metrics: &StageMetrics,
    produced: &mut ProducedCounters,
    summary: &SummaryCounters,
    done: Result<Completed, RuntimeError>,
) -> Result<(String, i32, i64), RuntimeError> {
    let done = done?;
    for (topic, exception) in &done.produced {
        produced.inc(topic);
        match exception {
            Some((kind, owner)) => {
                summary.exception();
                metrics
                    .failed
                    .with_label_values(&[kind.label(), owner.as_str()])
                    .inc();
            }
            None => summary.produced(),
        }
    }
    Ok((done.topic, done.partition, done.offset))
}

/// Stores the offset of an input whose outputs, and those of every earlier input of the partition,
/// are acknowledged (auto-commit then commits it).
pub(crate) fn store_offset(
    consumer: &StreamConsumer<StageConsumerContext>,
    topic: &str,
    partition: i32,
    offset: i64,
) {
    if let Err(e) = consumer.store_offset(topic, partition, offset) {
        // the partition was revoked meanwhile: its new owner reprocesses the input (at-least-once)
        tracing::warn!(topic, partition, offset, error = %e, "offset not stored");
    }
}

/// Submits every output of one input to the send gate (which never blocks); returns the future
/// that resolves once all are acknowledged.
pub(crate) fn send_all(
    gate: &SendGate,
    input: &Input,
    records: Vec<Encoded>,
    metrics: &StageMetrics,
) -> Completion {
    let sent = Instant::now();
    let delivery_seconds = metrics.delivery_seconds.clone();
    let mut deliveries = Vec::with_capacity(records.len());
    for r in records {
        let done = gate.send(r.topic.clone(), r.key, r.payload, r.joinable);
        deliveries.push((r.topic, r.exception, done));
    }
    let (topic, partition, offset) = (input.topic.clone(), input.partition, input.offset);
    Box::pin(async move {
        let mut produced = Vec::with_capacity(deliveries.len());
        for (out_topic, exception, f) in deliveries {
            match f.await {
                Ok(Ok(())) => produced.push((out_topic, exception)),
                Ok(Err(e)) => {
                    return Err(RuntimeError::Delivery {
                        topic: out_topic,
                        source: Box::new(e),
                    });
                }
                Err(canceled) => {
                    return Err(RuntimeError::Delivery {
                        topic: out_topic,
                        source: Box::new(canceled),
                    });
                }
            }
        }
        delivery_seconds.observe(sent.elapsed().as_secs_f64());
        Ok(Completed {
            topic,
            partition,
            offset,
            produced,
        })
    })
}
