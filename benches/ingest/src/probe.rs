//! The broker's own acknowledgement latency, measured beside ingest in the same run: a plain rdkafka
//! producer with ingest's producer settings (idempotent, `acks=all`, `linger.ms=5`) sends ~500-byte
//! records (a lead's Avro size) at a fixed rate to a topic of its own on the same broker.

use std::sync::Arc;
use std::time::{Duration, Instant};

use leadflow_testkit::{create_topic, unique_name};
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// A time span (a request from its due time to its answer, a probe record from send to ack).
#[derive(Clone, Copy, Debug)]
pub struct Span {
    pub from: Instant,
    pub to: Instant,
}

impl Span {
    pub fn len(&self) -> Duration {
        self.to.saturating_duration_since(self.from)
    }
    pub fn overlaps(&self, other: &Span) -> bool {
        self.from < other.to && other.from < self.to
    }
}

pub struct BrokerProbe {
    producer: FutureProducer,
    topic: String,
    rate: u32,
}

/// A probe sending until `stop`.
pub struct ProbeRun {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<Vec<Span>>,
}

impl BrokerProbe {
    pub async fn new(bootstrap: &str, rate: u32) -> anyhow::Result<Self> {
        let topic = unique_name("bench-ingest-probe");
        create_topic(bootstrap, &topic, 3).await;
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "5")
            .set("compression.type", "none")
            .set("message.timeout.ms", "10000")
            .create()?;
        // the first send fetches metadata and the producer id: not a measurement
        let _ = producer
            .send(
                FutureRecord::to(&topic).key("warm").payload("warm"),
                Duration::from_secs(10),
            )
            .await;
        Ok(Self {
            producer,
            topic,
            rate: rate.max(1),
        })
    }

    pub fn start(&self) -> ProbeRun {
        let stop = CancellationToken::new();
        let producer = self.producer.clone();
        let topic = self.topic.clone();
        let gap = Duration::from_secs_f64(1.0 / f64::from(self.rate));
        let until = stop.clone();
        let task = tokio::spawn(async move {
            let spans = Arc::new(Mutex::new(Vec::new()));
            let payload = vec![b'x'; 500];
            let start = Instant::now();
            let mut waits = Vec::new();
            for i in 0u32.. {
                tokio::select! {
                    _ = until.cancelled() => break,
                    _ = tokio::time::sleep_until((start + gap * i).into()) => {}
                }
                let key = format!("k{}", i % 50);
                let from = Instant::now();
                let Ok(delivery) =
                    producer.send_result(FutureRecord::to(&topic).key(&key).payload(&payload))
                else {
                    continue;
                };
                let spans = spans.clone();
                waits.push(tokio::spawn(async move {
                    if matches!(delivery.await, Ok(Ok(_))) {
                        spans.lock().await.push(Span {
                            from,
                            to: Instant::now(),
                        });
                    }
                }));
            }
            for w in waits {
                let _ = w.await;
            }
            let mut spans = spans.lock().await;
            std::mem::take(&mut *spans)
        });
        ProbeRun { stop, task }
    }
}

impl ProbeRun {
    /// Stops sending and returns every acknowledged record's span.
    pub async fn stop(self) -> Vec<Span> {
        self.stop.cancel();
        self.task.await.unwrap_or_default()
    }
}
