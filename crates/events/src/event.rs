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

/// Every event kind of the contract, one per file in `schemas/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    LeadEvent,
    EnrichedLead,
    ScoredLead,
    TierDecision,
    HandoffPacket,
    DeliveryReceipt,
    RepActivity,
    SlaEscalation,
    LeadOutcome,
    ModelParams,
    ExceptionRecord,
    RepState,
    ExceptionState,
    DedupKey,
    DedupKeyBatch,
    SlaOutcome,
}

impl EventKind {
    pub const ALL: [EventKind; 16] = [
        EventKind::LeadEvent,
        EventKind::EnrichedLead,
        EventKind::ScoredLead,
        EventKind::TierDecision,
        EventKind::HandoffPacket,
        EventKind::DeliveryReceipt,
        EventKind::RepActivity,
        EventKind::SlaEscalation,
        EventKind::LeadOutcome,
        EventKind::ModelParams,
        EventKind::ExceptionRecord,
        EventKind::RepState,
        EventKind::ExceptionState,
        EventKind::DedupKey,
        EventKind::DedupKeyBatch,
        EventKind::SlaOutcome,
    ];

    /// Avro full name of the record, e.g. `leadflow.LeadEvent`.
    pub fn full_name(self) -> &'static str {
        match self {
            EventKind::LeadEvent => "leadflow.LeadEvent",
            EventKind::EnrichedLead => "leadflow.EnrichedLead",
            EventKind::ScoredLead => "leadflow.ScoredLead",
            EventKind::TierDecision => "leadflow.TierDecision",
            EventKind::HandoffPacket => "leadflow.HandoffPacket",
            EventKind::DeliveryReceipt => "leadflow.DeliveryReceipt",
            EventKind::RepActivity => "leadflow.RepActivity",
            EventKind::SlaEscalation => "leadflow.SlaEscalation",
            EventKind::LeadOutcome => "leadflow.LeadOutcome",
            EventKind::ModelParams => "leadflow.ModelParams",
            EventKind::ExceptionRecord => "leadflow.ExceptionRecord",
            EventKind::RepState => "leadflow.RepState",
            EventKind::ExceptionState => "leadflow.ExceptionState",
            EventKind::DedupKey => "leadflow.DedupKey",
            EventKind::DedupKeyBatch => "leadflow.DedupKeyBatch",
            EventKind::SlaOutcome => "leadflow.SlaOutcome",
        }
    }

    /// The schema file under `schemas/`.
    pub fn file_name(self) -> &'static str {
        match self {
            EventKind::LeadEvent => "lead_event.avsc",
            EventKind::EnrichedLead => "enriched_lead.avsc",
            EventKind::ScoredLead => "scored_lead.avsc",
            EventKind::TierDecision => "tier_decision.avsc",
            EventKind::HandoffPacket => "handoff_packet.avsc",
            EventKind::DeliveryReceipt => "delivery_receipt.avsc",
            EventKind::RepActivity => "rep_activity.avsc",
            EventKind::SlaEscalation => "sla_escalation.avsc",
            EventKind::LeadOutcome => "lead_outcome.avsc",
            EventKind::ModelParams => "model_params.avsc",
            EventKind::ExceptionRecord => "exception_record.avsc",
            EventKind::RepState => "rep_state.avsc",
            EventKind::ExceptionState => "exception_state.avsc",
            EventKind::DedupKey => "dedup_key.avsc",
            EventKind::DedupKeyBatch => "dedup_key_batch.avsc",
            EventKind::SlaOutcome => "sla_outcome.avsc",
        }
    }

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
