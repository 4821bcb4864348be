//! The journal: a record a stage produces *now* and waits for, ahead of its input's ordered outputs.
//!
//! For an effect that has no idempotency key of its own (Slack's `chat.postMessage`), a stage writes
//! a durable intent before calling the outside service, so that a replacement that finds the intent
//! without its outcome knows the call may have happened and looks before calling again. The record
//! goes through the run's send gate (same producer, partitioner and retries as every output); the
//! call returns once the broker acknowledged it. No broker types cross this API.

use std::sync::Arc;

use leadflow_events::{AnyEvent, Codec, TopicNames, TopicRole};

use crate::send_gate::SendGate;

/// Why a journal record was not written. Either way the effect it announces must not happen now.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The event does not encode (a defect, or the schema registry refused it).
    #[error("journal record does not encode: {0}")]
    Encode(String),
    /// The broker did not acknowledge it after the send gate's retries (retry later).
    #[error("journal record to {topic} not acknowledged: {reason}")]
    NotAcknowledged { topic: String, reason: String },
}

/// A handle a stage gets from `Stage::attach_journal`; cheap to clone.
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

    /// Produces `event` to the topic of `role`, keyed by the event's key, and waits until the
    /// broker acknowledged it (after the send gate's own retries).
    pub async fn write(&self, role: TopicRole, event: AnyEvent) -> Result<(), JournalError> {
        let topic = self.topics.name(role).to_owned();
        let payload = event
            .encode(&self.codec, &topic)
            .await
            .map_err(|e| JournalError::Encode(e.to_string()))?;
        let key = event.key().to_owned();
        let reason = match self.gate.send(topic.clone(), key, payload, false).await {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(e)) => e.to_string(),
            Err(_) => "the producer is shutting down".to_owned(),
        };
        Err(JournalError::NotAcknowledged { topic, reason })
    }
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").finish_non_exhaustive()
    }
}
