//! Producing with many deliveries in flight: a window of delivery futures awaited in order, so a
//! failure is noticed within a window and `finish` returns only once everything sent is acknowledged.

use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesOrdered;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};

use crate::error::CliError;
use crate::kafka::{CliConfig, topic_partitions};

/// Deliveries awaited at most this far behind the newest send.
pub const DEFAULT_WINDOW: usize = 1000;

/// How long `finish` waits for librdkafka to drain its queue.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(30);

/// A producer bound to one topic, with a bounded window of unacknowledged sends.
pub struct Sink {
    producer: FutureProducer,
    topic: String,
    in_flight: FuturesOrdered<DeliveryFuture>,
    window: usize,
    delivered: u64,
}

impl Sink {
    /// An idempotent producer (`leadflow_runtime::kafka::producer_config`) for `topic`; fails when the
    /// broker cannot be reached or the topic does not exist.
    pub fn connect(cfg: &CliConfig, topic: &str) -> Result<Self, CliError> {
        let producer: FutureProducer = leadflow_runtime::kafka::producer_config(cfg)
            .create()
            .map_err(|e| CliError::broker("cannot create a producer", e))?;
        topic_partitions(producer.client(), &cfg.bootstrap_servers, topic)?;
        Ok(Self {
            producer,
            topic: topic.to_owned(),
            in_flight: FuturesOrdered::new(),
            window: DEFAULT_WINDOW,
            delivered: 0,
        })
    }

    /// Events acknowledged by the broker so far.
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// The topic written to.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Queues one record, first waiting for the oldest delivery when the window is full.
    pub async fn send(&mut self, key: &str, payload: &[u8]) -> Result<(), CliError> {
        // a full window is drained before the next send: producing while an idempotent producer's
        // request is in flight makes librdkafka's broker thread spin on a slow broker
        // (docs/BROKER.md §5); bursts after the acknowledgements do not
        if self.in_flight.len() >= self.window {
            while !self.in_flight.is_empty() {
                self.complete_one().await?;
            }
        }
        loop {
            let record = FutureRecord::to(&self.topic).key(key).payload(payload);
            match self.producer.send_result(record) {
                Ok(delivery) => {
                    self.in_flight.push_back(delivery);
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    if self.in_flight.is_empty() {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    } else {
                        self.complete_one().await?;
                    }
                }
                Err((e, _)) => return Err(CliError::broker("cannot queue a record", e)),
            }
        }
        self.reap_ready()
    }

    /// Counts the deliveries that already completed, without waiting.
    fn reap_ready(&mut self) -> Result<(), CliError> {
        use futures::FutureExt;
        while let Some(Some(result)) = self.in_flight.next().now_or_never() {
            self.record(result)?;
        }
        Ok(())
    }

    async fn complete_one(&mut self) -> Result<(), CliError> {
        match self.in_flight.next().await {
            Some(result) => self.record(result),
            None => Ok(()),
        }
    }

    fn record(
        &mut self,
        result: <DeliveryFuture as std::future::Future>::Output,
    ) -> Result<(), CliError> {
        match result {
            Ok(Ok(_)) => {
                self.delivered += 1;
                Ok(())
            }
            Ok(Err((e, _))) => Err(CliError::broker(
                &format!("delivery to {} failed", self.topic),
                e,
            )),
            Err(_) => Err(CliError::Broker(format!(
                "the producer shut down before a delivery to {} was confirmed",
                self.topic
            ))),
        }
    }

    /// Waits for every send to be acknowledged and flushes the producer; returns the delivered count.
    pub async fn finish(&mut self) -> Result<u64, CliError> {
        while !self.in_flight.is_empty() {
            self.complete_one().await?;
        }
        self.producer
            .flush(FLUSH_TIMEOUT)
            .map_err(|e| CliError::broker("flushing the producer failed", e))?;
        Ok(self.delivered)
    }
}
