//! The durable intent written before a call that has no idempotency key of its own (Slack
//! `chat.postMessage`, RULES.md §3a): a `POSTING` receipt on `handoff.deliveries`, acknowledged by
//! the broker before the call. The stage hands in the runtime's journal; tests may hand in anything
//! that records.

use futures::future::BoxFuture;
use leadflow_events::{DeliveryReceipt, TopicRole};
use leadflow_runtime::Journal;

/// Where intents go. `write` returns once the intent is durable.
pub trait IntentLog: Send + Sync + 'static {
    fn write(&self, intent: DeliveryReceipt) -> BoxFuture<'_, Result<(), String>>;
}

/// The runtime's journal: the intent is produced to `handoff.deliveries` and acknowledged.
pub struct JournalIntents(pub Journal);

impl IntentLog for JournalIntents {
    fn write(&self, intent: DeliveryReceipt) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            self.0
                .write(TopicRole::Deliveries, intent.into())
                .await
                .map_err(|e| e.to_string())
        })
    }
}
