//! The `Event` trait every wire type implements, and the closed set of event kinds.

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A type that travels on a leadflow topic.
pub trait Event: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// Which schema the type is encoded with.
    const KIND: EventKind;
    /// The Kafka record key (lead id for lead-scoped events, model name for model parameters).
    fn key(&self) -> &str;
    /// The lead id, for tracing spans and exception records.
    fn lead_id(&self) -> Option<&str>;
}

/// Implements [`Event`] for a model type whose [`EventKind`] variant has the type's name: keyed by
/// its lead id at `lead_id = path` (a lead-scoped event), or by `key = field` for an event about no
/// single lead.
macro_rules! impl_event {
    ($ty:ident, lead_id = $($field:ident).+) => {
        impl $crate::event::Event for $ty {
            const KIND: $crate::event::EventKind = $crate::event::EventKind::$ty;
            fn key(&self) -> &str {
                &self.$($field).+
            }
            fn lead_id(&self) -> Option<&str> {
                Some(&self.$($field).+)
            }
        }
    };
    ($ty:ident, key = $field:ident) => {
        impl $crate::event::Event for $ty {
            const KIND: $crate::event::EventKind = $crate::event::EventKind::$ty;
            fn key(&self) -> &str {
                &self.$field
            }
            fn lead_id(&self) -> Option<&str> {
                None
            }
        }
    };
}
pub(crate) use impl_event;

/// Calls `$callback!` with every event kind of the contract and its schema file under `schemas/`:
/// the one list [`EventKind`] and [`crate::any::AnyEvent`] are both generated from.
macro_rules! with_event_kinds {
    ($callback:ident) => {
        $callback! {
            LeadEvent => "lead_event.avsc",
            EnrichedLead => "enriched_lead.avsc",
            ScoredLead => "scored_lead.avsc",
            TierDecision => "tier_decision.avsc",
            HandoffPacket => "handoff_packet.avsc",
            DeliveryReceipt => "delivery_receipt.avsc",
            RepActivity => "rep_activity.avsc",
            SlaEscalation => "sla_escalation.avsc",
            LeadOutcome => "lead_outcome.avsc",
            ModelParams => "model_params.avsc",
            ExceptionRecord => "exception_record.avsc",
            RepState => "rep_state.avsc",
            ExceptionState => "exception_state.avsc",
            DedupKey => "dedup_key.avsc",
            DedupKeyBatch => "dedup_key_batch.avsc",
            SlaOutcome => "sla_outcome.avsc",
        }
    };
}
pub(crate) use with_event_kinds;

macro_rules! event_kind {
    ($($kind:ident => $file:literal),* $(,)?) => {
        /// Every event kind of the contract, one per file in `schemas/`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EventKind {
            $($kind,)*
        }

        impl EventKind {
            pub const ALL: [EventKind; [$(EventKind::$kind),*].len()] = [$(EventKind::$kind),*];

            /// Avro full name of the record, e.g. `leadflow.LeadEvent`.
            pub fn full_name(self) -> &'static str {
                match self {
                    $(EventKind::$kind => concat!("leadflow.", stringify!($kind)),)*
                }
            }

            /// The schema file under `schemas/`.
            pub fn file_name(self) -> &'static str {
                match self {
                    $(EventKind::$kind => $file,)*
                }
            }
        }
    };
}

with_event_kinds!(event_kind);

impl EventKind {
    /// Finds the kind of an Avro full name.
    pub fn from_full_name(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.full_name() == name)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.full_name())
    }
}
