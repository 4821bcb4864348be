//! Producing accepted lead events to `leads.raw`: a request is answered 202 only once the broker
//! acknowledged every one of its records (the delivery futures resolved). Backpressure: a bounded
//! number of records may await acknowledgement (`max_queued_records`); beyond it a request is refused
//! whole (429) before anything of it is enqueued. A broker seen unreachable refuses requests at once
//! (503) until a metadata probe reaches it again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use leadflow_events::{Codec, EncodeError, LeadEvent};
use rdkafka::client::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer, ProducerContext};
use rdkafka::{ClientConfig, Message};
use tokio_util::sync::CancellationToken;

/// Record headers ingest writes (read back at start-up to rebuild the idempotency memory).
pub mod headers {
    /// The publisher that posted the record.
    pub const PUBLISHER: &str = "leadflow-ingest-publisher";
    /// The event id (so the memory is rebuilt without decoding payloads).
    pub const EVENT_ID: &str = "leadflow-ingest-event-id";
    /// Hex SHA-256 of the event as accepted (same event id + same fingerprint = a retry).
    pub const FINGERPRINT: &str = "leadflow-ingest-fingerprint";
    /// The request's `Idempotency-Key`, when it had one.
    pub const KEY: &str = "leadflow-ingest-idempotency-key";
    /// Hex SHA-256 of the whole request body (with `KEY`).
    pub const REQUEST: &str = "leadflow-ingest-request";
    /// `<index>/<count>`: the record's place in its request (with `KEY`).
    pub const POSITION: &str = "leadflow-ingest-position";
    /// Hex HMAC-SHA256 of the headers above under `record_signing_secret` (I5), when one is set.
    pub const MAC: &str = "leadflow-ingest-mac";
}

/// The MAC of a record's ingest headers (I5): HMAC-SHA256 over the values in a fixed order, each
/// followed by a 0x1f separator (absent ones empty), hex.
pub fn headers_mac(secret: &str, values: [&[u8]; 6]) -> String {
    use hmac::Mac as _;
    let Ok(mut m) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    for v in values {
        m.update(v);
        m.update(&[0x1f]);
    }
    hex::encode(m.finalize().into_bytes())
}

/// Whether the broker is reachable, as far as ingest can tell.
#[derive(Debug)]
pub struct BrokerState {
    up: AtomicBool,
}

impl BrokerState {
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::SeqCst)
    }
    fn set(&self, up: bool) {
        let was = self.up.swap(up, Ordering::SeqCst);
        if was != up {
            if up {
                tracing::info!("broker reachable again: accepting leads");
            } else {
                tracing::warn!("broker unreachable: answering 503 until it is back");
            }
        }
    }
}

/// librdkafka callbacks: "all brokers down" marks the broker unreachable at once.
pub struct SinkContext {
    broker: Arc<BrokerState>,
}

impl ClientContext for SinkContext {
    fn error(&self, error: KafkaError, reason: &str) {
        if matches!(
            error.rdkafka_error_code(),
            Some(RDKafkaErrorCode::AllBrokersDown)
        ) {
            self.broker.set(false);
        }
        tracing::warn!(error = %error, reason, "kafka client error");
    }
}

impl ProducerContext for SinkContext {
    type DeliveryOpaque = ();
    fn delivery(&self, _: &rdkafka::message::DeliveryResult<'_>, _: ()) {}
}

/// One record to write.
#[derive(Clone, Debug)]
pub struct OutRecord {
    pub event: LeadEvent,
    pub publisher: String,
    pub fingerprint: [u8; 32],
    /// (Idempotency-Key, request fingerprint, index, count)
    pub request: Option<(String, [u8; 32], usize, usize)>,
}

/// Why records were not written.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("producer queue full ({0} records await acknowledgement)")]
    QueueFull(i64),
    #[error("broker unreachable")]
    BrokerDown,
    #[error("record not acknowledged: {0}")]
    NotAcknowledged(String),
    #[error("cannot encode the event: {0}")]
    Encode(String),
    /// The schema registry did not answer (or the schemas are unavailable): retryable, 503 (S6).
    #[error("schema registry unavailable: {0}")]
    RegistryDown(String),
}

/// An encoding failure by kind: the registry's are outages (retryable), Avro's are the event's.
fn encode_failure(e: &EncodeError) -> SinkError {
    match e {
        EncodeError::Avro(_) => SinkError::Encode(e.to_string()),
        EncodeError::Registry(_) | EncodeError::Schema(_) => SinkError::RegistryDown(e.to_string()),
    }
}

/// S1 needs every record on all in-sync replicas before its 202: the effective producer settings
/// (after the raw `[kafka]` table) must keep `acks=all` and the idempotent producer.
pub fn check_producer(config: &ClientConfig) -> Result<(), String> {
    match config.get("acks") {
        None | Some("all" | "-1") => {}
        Some(other) => {
            return Err(format!(
                "kafka acks={other}: ingest answers 202 only for records on every in-sync replica; remove acks from [kafka] (it must stay all)"
            ));
        }
    }
    if config.get("enable.idempotence") == Some("false") {
        return Err("kafka enable.idempotence=false: ingest needs the idempotent producer; remove it from [kafka]".into());
    }
    Ok(())
}

/// `n` records of the queue budget, given back on drop.
struct Reservation<'a> {
    queued: &'a AtomicI64,
    n: i64,
}

impl<'a> Reservation<'a> {
    /// Reserves `n` of `max`, or returns what was queued before.
    fn take(queued: &'a AtomicI64, n: i64, max: i64) -> Result<Self, i64> {
        let before = queued.fetch_add(n, Ordering::SeqCst);
        let reservation = Self { queued, n };
        if before.saturating_add(n) > max {
            return Err(before);
        }
        Ok(reservation)
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        self.queued.fetch_sub(self.n, Ordering::SeqCst);
    }
}

/// The producer side of ingest.
pub struct LeadSink {
    producer: FutureProducer<SinkContext>,
    topic: String,
    codec: Arc<Codec>,
    broker: Arc<BrokerState>,
    queued: AtomicI64,
    max_queued: i64,
    signing: Option<leadflow_runtime::Secret>,
}

impl LeadSink {
    /// A producer for `topic` with `config` (the runtime's idempotent producer settings).
    pub fn new(
        mut config: ClientConfig,
        topic: &str,
        codec: Arc<Codec>,
        ack_timeout_ms: u64,
        max_queued: u32,
    ) -> Result<Self, KafkaError> {
        config
            .set("message.timeout.ms", ack_timeout_ms.to_string())
            // room above our own bound, so librdkafka's QueueFull is never the first to trip
            .set(
                "queue.buffering.max.messages",
                (u64::from(max_queued) * 2 + 10_000).to_string(),
            )
            .set("reconnect.backoff.max.ms", "1000");
        let broker = Arc::new(BrokerState {
            up: AtomicBool::new(true),
        });
        let producer = config.create_with_context(SinkContext {
            broker: broker.clone(),
        })?;
        Ok(Self {
            producer,
            topic: topic.to_owned(),
            codec,
            broker,
            queued: AtomicI64::new(0),
            max_queued: i64::from(max_queued),
            signing: None,
        })
    }

    /// Signs every record's ingest headers with `secret` (I5).
    #[must_use]
    pub fn with_signing(mut self, secret: Option<leadflow_runtime::Secret>) -> Self {
        self.signing = secret;
        self
    }

    pub fn broker(&self) -> &BrokerState {
        &self.broker
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Records awaiting acknowledgement.
    pub fn queued(&self) -> i64 {
        self.queued.load(Ordering::SeqCst)
    }

    /// Checks the topic exists (start-up) — an error names it.
    pub async fn probe(&self, timeout: Duration) -> Result<(), String> {
        let producer = self.producer.clone();
        let topic = self.topic.clone();
        let ok = tokio::task::spawn_blocking(move || {
            let meta = producer
                .client()
                .fetch_metadata(Some(&topic), timeout)
                .map_err(|e| format!("broker metadata: {e}"))?;
            let found = meta
                .topics()
                .iter()
                .any(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty());
            if found {
                Ok(())
            } else {
                Err(format!(
                    "topic {topic} does not exist (create the pipeline topics: leadflow topics create)"
                ))
            }
        })
        .await
        .map_err(|e| e.to_string())?;
        self.broker.set(ok.is_ok());
        ok
    }

    /// While the broker is considered unreachable, probes it every `interval` until `shutdown` and
    /// marks it reachable again when the metadata answer comes (S3). While it is reachable nothing is
    /// probed: librdkafka's "all brokers down" and failed deliveries mark it down, not a metadata
    /// answer slower than the probe's timeout on a busy broker.
    pub async fn watch(self: Arc<Self>, interval: Duration, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(interval) => {}
            }
            if self.broker.is_up() {
                continue;
            }
            let timeout = interval.max(Duration::from_millis(500));
            if let Err(e) = self.probe(timeout).await {
                tracing::debug!(error = %e, "broker probe failed");
            }
        }
    }

    /// Writes `records` and waits for every acknowledgement. On error, the records acknowledged
    /// before it are reported in `written` (a batch cut by a broker failure).
    pub async fn write(&self, records: &[OutRecord]) -> Result<(), (Vec<usize>, SinkError)> {
        if !self.broker.is_up() {
            return Err((Vec::new(), SinkError::BrokerDown));
        }
        let n = i64::try_from(records.len()).unwrap_or(i64::MAX);
        // released when this future completes or is dropped (a client gone mid-request): the
        // budget never leaks (S5)
        let _reserved = Reservation::take(&self.queued, n, self.max_queued)
            .map_err(|before| (Vec::new(), SinkError::QueueFull(before)))?;
        self.write_reserved(records).await
    }

    async fn write_reserved(&self, records: &[OutRecord]) -> Result<(), (Vec<usize>, SinkError)> {
        let mut payloads = Vec::with_capacity(records.len());
        for r in records {
            let payload = self
                .codec
                .encode(&self.topic, &r.event)
                .await
                .map_err(|e| (Vec::new(), encode_failure(&e)))?;
            payloads.push(payload);
        }
        let mut deliveries = Vec::with_capacity(records.len());
        for (i, (r, payload)) in records.iter().zip(&payloads).enumerate() {
            let fingerprint = hex::encode(r.fingerprint);
            let mut h = OwnedHeaders::new()
                .insert(Header {
                    key: headers::PUBLISHER,
                    value: Some(r.publisher.as_bytes()),
                })
                .insert(Header {
                    key: headers::EVENT_ID,
                    value: Some(r.event.event_id.as_bytes()),
                })
                .insert(Header {
                    key: headers::FINGERPRINT,
                    value: Some(fingerprint.as_bytes()),
                });
            let (key, request, position) = match &r.request {
                Some((key, request, index, count)) => (
                    key.as_str(),
                    hex::encode(request),
                    format!("{index}/{count}"),
                ),
                None => ("", String::new(), String::new()),
            };
            let mac = self.signing.as_ref().map(|secret| {
                headers_mac(
                    secret.expose(),
                    [
                        r.publisher.as_bytes(),
                        r.event.event_id.as_bytes(),
                        fingerprint.as_bytes(),
                        key.as_bytes(),
                        request.as_bytes(),
                        position.as_bytes(),
                    ],
                )
            });
            if let Some(mac) = &mac {
                h = h.insert(Header {
                    key: headers::MAC,
                    value: Some(mac.as_bytes()),
                });
            }
            if r.request.is_some() {
                h = h
                    .insert(Header {
                        key: headers::KEY,
                        value: Some(key.as_bytes()),
                    })
                    .insert(Header {
                        key: headers::REQUEST,
                        value: Some(request.as_bytes()),
                    })
                    .insert(Header {
                        key: headers::POSITION,
                        value: Some(position.as_bytes()),
                    });
            }
            let record = FutureRecord::to(&self.topic)
                .key(&r.event.lead_id)
                .payload(payload)
                .headers(h);
            match self.producer.send_result(record) {
                Ok(f) => deliveries.push((i, f)),
                Err((e, _)) => {
                    // nothing of this one was enqueued; wait for the earlier ones to know what landed
                    let mut written = Vec::new();
                    for (j, f) in deliveries {
                        if matches!(f.await, Ok(Ok(_))) {
                            written.push(j);
                        }
                    }
                    let err = match e {
                        KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull) => {
                            SinkError::QueueFull(self.queued())
                        }
                        other => SinkError::NotAcknowledged(other.to_string()),
                    };
                    return Err((written, err));
                }
            }
        }
        let mut written = Vec::with_capacity(deliveries.len());
        let mut failure = None;
        for (i, f) in deliveries {
            match f.await {
                Ok(Ok(_)) => written.push(i),
                Ok(Err((e, m))) => {
                    let _ = m.partition();
                    if is_broker_failure(&e) {
                        self.broker.set(false);
                    }
                    failure.get_or_insert(SinkError::NotAcknowledged(e.to_string()));
                }
                Err(_) => {
                    failure.get_or_insert(SinkError::NotAcknowledged("producer dropped".into()));
                }
            }
        }
        match failure {
            None => Ok(()),
            Some(e) => Err((written, e)),
        }
    }

    /// Waits up to `timeout` for everything queued to be acknowledged (shutdown).
    pub fn flush(&self, timeout: Duration) {
        if let Err(e) = self.producer.flush(timeout) {
            tracing::warn!(error = %e, "producer flush at shutdown incomplete");
        }
    }
}

fn is_broker_failure(e: &KafkaError) -> bool {
    matches!(
        e.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::MessageTimedOut
                | RDKafkaErrorCode::AllBrokersDown
                | RDKafkaErrorCode::BrokerTransportFailure
        )
    )
}
