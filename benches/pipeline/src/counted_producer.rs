//! A plain librdkafka producer (its own polling thread) whose deliveries are counted, for bulk loads
//! and pass-throughs: send, retry on a full queue, flush, then check that nothing failed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use rdkafka::ClientConfig;
use rdkafka::client::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};

/// Counts acknowledged and failed deliveries.
#[derive(Default)]
pub struct Acks {
    delivered: AtomicU64,
    failed: AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
}

impl ClientContext for Acks {}

impl ProducerContext for Acks {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err((e, _)) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut first) = self.first_error.lock() {
                    first.get_or_insert_with(|| e.to_string());
                }
            }
        }
    }
}

/// A producer with counted deliveries.
pub struct CountedProducer {
    producer: ThreadedProducer<Acks>,
}

impl CountedProducer {
    pub fn new(config: &ClientConfig) -> anyhow::Result<Self> {
        let producer = config
            .create_with_context(Acks::default())
            .context("cannot create a producer")?;
        Ok(Self { producer })
    }

    /// Queues one record, waiting while librdkafka's queue is full.
    pub fn send(&self, topic: &str, key: &[u8], payload: &[u8]) -> anyhow::Result<()> {
        let mut record = BaseRecord::to(topic).key(key).payload(payload);
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err((e, _)) => return Err(e).context("cannot queue a record"),
            }
        }
    }

    /// Waits for every delivery; fails when one failed. Returns the records delivered.
    pub fn finish(&self) -> anyhow::Result<u64> {
        self.producer
            .flush(Duration::from_secs(300))
            .context("flushing the producer")?;
        let ctx = self.producer.context();
        let failed = ctx.failed.load(Ordering::Relaxed);
        if failed > 0 {
            let first = ctx
                .first_error
                .lock()
                .ok()
                .and_then(|f| f.clone())
                .unwrap_or_default();
            anyhow::bail!("{failed} deliveries failed, the first: {first}");
        }
        Ok(ctx.delivered.load(Ordering::Relaxed))
    }
}
