//! Handling one consumed input: decode, transform, encode; poison becomes an exception record,
//! retryable errors back off.

use leadflow_events::{Codec, ErrorKind, Event};
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::{ExceptionsConfig, RetryConfig, ServiceConfig, StageSettings};
use crate::error::RuntimeError;
use crate::exceptions::{Source, exception_record};
use crate::metrics::StageMetrics;
use crate::retry::Backoff;
use crate::stage::{Context, Stage, StageError};
use leadflow_events::TopicNames;

/// The parts of the service configuration handling an input needs (owned: partition tasks share it).
#[derive(Clone, Debug)]
pub(crate) struct HandleConfig {
    pub(crate) topics: TopicNames,
    pub(crate) exceptions: ExceptionsConfig,
    pub(crate) retry: RetryConfig,
}

impl HandleConfig {
    pub(crate) fn from_service<C: StageSettings>(cfg: &ServiceConfig<C>) -> Self {
        Self {
            topics: cfg.topics.clone(),
            exceptions: cfg.exceptions.clone(),
            retry: cfg.retry.clone(),
        }
    }
}

/// One consumed record, owned.
pub(crate) struct Input {
    pub(crate) topic: String,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
    pub(crate) key: Option<Vec<u8>>,
    pub(crate) payload: Vec<u8>,
    pub(crate) record_time: Option<leadflow_events::Timestamp>,
}

/// One record to produce.
pub(crate) struct Encoded {
    pub(crate) topic: String,
    pub(crate) key: String,
    pub(crate) payload: Vec<u8>,
    /// The send gate may join it with the joinable records behind it (a batch kind, one the codec
    /// joins: `send_gate.rs`, "Joined records").
    pub(crate) joinable: bool,
    /// For an exception record: its error kind and owner (the `failed_total` labels).
    pub(crate) exception: Option<(ErrorKind, String)>,
}

/// Outcome of handling one input.
pub(crate) enum Handled {
    Produce(Vec<Encoded>),
    /// Shutdown arrived while retrying: leave the offset unstored, the input is redelivered.
    Interrupted,
}

/// Decodes, transforms and encodes one input; poison becomes an exception record.
pub(crate) async fn handle<S: Stage>(
    stage: &S,
    cfg: &HandleConfig,
    codec: &Codec,
    clock: &dyn Clock,
    metrics: &StageMetrics,
    input: &Input,
    shutdown: &CancellationToken,
) -> Result<Handled, RuntimeError> {
    let poison = |kind: ErrorKind,
                  reason: String,
                  owner: Option<String>,
                  lead_id: Option<String>| {
        tracing::warn!(error_kind = kind.label(), %reason, "input sent to the exceptions topic");
        let source = Source {
            stage: S::NAME,
            topic: &input.topic,
            partition: input.partition,
            offset: input.offset,
            key: input.key.as_deref(),
            payload: &input.payload,
        };
        exception_record(
            &source,
            kind,
            reason,
            owner,
            lead_id,
            &cfg.exceptions,
            clock.now(),
        )
    };

    // decode (a registry outage is retried; anything else is poison)
    let mut backoff = Backoff::new(&cfg.retry);
    let event = loop {
        match codec.decode::<S::Input>(&input.payload).await {
            Ok(e) => break e,
            Err(e) if e.is_retryable() => {
                if !wait_retry(&mut backoff, metrics, e.to_string(), shutdown).await? {
                    return Ok(Handled::Interrupted);
                }
            }
            Err(e) => {
                let record = poison(ErrorKind::Decode, e.to_string(), None, None);
                return encode_exception(codec, cfg, record)
                    .await
                    .map(|r| Handled::Produce(vec![r]));
            }
        }
    };
    let lead_id = event.lead_id().map(str::to_owned);
    if let Some(id) = &lead_id {
        tracing::Span::current().record("lead_id", id.as_str());
    }

    // transform
    let ctx = Context {
        topic: input.topic.clone(),
        partition: input.partition,
        offset: input.offset,
        record_time: input.record_time,
        now: clock.now(),
    };
    let mut backoff = Backoff::new(&cfg.retry);
    // the first attempt takes the decoded event; a retry decodes the payload again (deterministic,
    // and far rarer than a clone of every input)
    let mut first = Some(event);
    let outputs = loop {
        let attempt = match first.take() {
            Some(e) => e,
            None => match codec.decode::<S::Input>(&input.payload).await {
                Ok(e) => e,
                Err(e) => {
                    let record = poison(ErrorKind::Decode, e.to_string(), None, lead_id);
                    return encode_exception(codec, cfg, record)
                        .await
                        .map(|r| Handled::Produce(vec![r]));
                }
            },
        };
        match stage.process(attempt, &ctx).await {
            Ok(outputs) => break outputs,
            Err(StageError::Poison {
                kind,
                reason,
                owner,
            }) => {
                let record = poison(kind, reason, owner, lead_id);
                return encode_exception(codec, cfg, record)
                    .await
                    .map(|r| Handled::Produce(vec![r]));
            }
            Err(StageError::Retryable(e)) => {
                if !wait_retry(&mut backoff, metrics, e.to_string(), shutdown).await? {
                    return Ok(Handled::Interrupted);
                }
            }
            Err(StageError::Fatal(e)) => {
                return Err(RuntimeError::Stage {
                    stage: S::NAME,
                    source: e,
                });
            }
        }
    };

    // encode
    let mut records = Vec::with_capacity(outputs.len());
    for output in outputs {
        let topic = cfg.topics.name(output.role).to_owned();
        let mut backoff = Backoff::new(&cfg.retry);
        let payload = loop {
            match output.event.encode(codec, &topic).await {
                Ok(p) => break p,
                Err(e) if e.is_retryable() => {
                    if !wait_retry(&mut backoff, metrics, e.to_string(), shutdown).await? {
                        return Ok(Handled::Interrupted);
                    }
                }
                Err(e) => {
                    let reason = format!("the {} output does not encode: {e}", output.event.kind());
                    let record = poison(ErrorKind::Processing, reason, None, lead_id);
                    return encode_exception(codec, cfg, record)
                        .await
                        .map(|r| Handled::Produce(vec![r]));
                }
            }
        };
        records.push(Encoded {
            topic,
            key: output.record_key().to_owned(),
            payload,
            joinable: codec.joins(output.event.kind()),
            exception: None,
        });
    }
    Ok(Handled::Produce(records))
}

/// Sleeps before a retry; `Ok(false)` when shutdown interrupted it, `Err` when attempts ran out.
pub(crate) async fn wait_retry(
    backoff: &mut Backoff,
    metrics: &StageMetrics,
    error: String,
    shutdown: &CancellationToken,
) -> Result<bool, RuntimeError> {
    let Some(delay) = backoff.next_delay() else {
        return Err(RuntimeError::RetriesExhausted {
            attempts: backoff.attempts(),
            error,
        });
    };
    metrics.retries.inc();
    tracing::warn!(attempt = backoff.attempts(), delay_ms = delay.as_millis() as u64, error = %error, "retryable error; backing off");
    tokio::select! {
        _ = shutdown.cancelled() => Ok(false),
        _ = tokio::time::sleep(delay) => Ok(true),
    }
}

pub(crate) async fn encode_exception(
    codec: &Codec,
    cfg: &HandleConfig,
    record: leadflow_events::ExceptionRecord,
) -> Result<Encoded, RuntimeError> {
    let topic = cfg.topics.exceptions.clone();
    let key = record.key().to_owned();
    let failure = (record.error_kind, record.owner.clone());
    let payload = codec
        .encode(&topic, &record)
        .await
        .map_err(|e| RuntimeError::Delivery {
            topic: topic.clone(),
            source: Box::new(e),
        })?;
    Ok(Encoded {
        topic,
        key,
        payload,
        joinable: false,
        exception: Some(failure),
    })
}
