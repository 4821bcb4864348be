//! The journal: a record a stage produces *now* and waits for, ahead of its input's ordered outputs.
//!
//! For an effect that has no idempotency key of its own (Slack's `chat.postMessage`), a stage writes
//! a durable intent before calling the outside service, so that a replacement that finds the intent
//! without its outcome knows the call may have happened and looks before calling again. The record
//! goes through the run's send gate (same producer, partitioner and retries as every output); the
//! call returns once the broker acknowledged it. No broker types cross this API.

use std::sync::Arc;

use leadflow_events::{Codec, TopicNames};

use crate::send_gate::SendGate;
use crate::stage::{Output, StageError};

/// A handle a stage gets from [`crate::Stage::attach_journal`]; cheap to clone.
#[derive(Clone)]
pub struct Journal {
    gate: SendGate,
    codec: Arc<Codec>,
    topics: TopicNames,
}

impl Journal {
    pub(crate) fn new(gate: SendGate, codec: Arc<Codec>, topics: TopicNames) -> Self {
        Self {
            gate,
            codec,
            topics,
        }
    }

    /// Produces `output` and waits until the broker acknowledged it (after the send gate's own
    /// retries). An event that does not encode is fatal (a defect); a delivery that failed is
    /// retryable: the caller must not go on with the effect the record announces.
    pub async fn write(&self, output: Output) -> Result<(), StageError> {
        let topic = self.topics.name(output.role).to_owned();
        let payload = output
            .event
            .encode(&self.codec, &topic)
            .await
            .map_err(|e| {
                if e.is_retryable() {
                    StageError::retryable(format!("journal record not encoded: {e}"))
                } else {
                    StageError::fatal(format!("journal record does not encode: {e}"))
                }
            })?;
        let key = output.record_key().to_owned();
        match self.gate.send(topic.clone(), key, payload, false).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StageError::retryable(format!(
                "journal record to {topic} not acknowledged: {e}"
            ))),
            Err(_) => Err(StageError::retryable(format!(
                "journal record to {topic}: the producer is shutting down"
            ))),
        }
    }
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").finish_non_exhaustive()
    }
}
