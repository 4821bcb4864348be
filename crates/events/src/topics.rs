//! Topic names everyone can rely on, each configurable, and which event kind each carries.

use serde::{Deserialize, Serialize};

use crate::event::EventKind;

/// A pipeline topic by role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TopicRole {
    Raw,
    Enriched,
    Scored,
    Tiered,
    Packets,
    Deliveries,
    Activity,
    Escalations,
    Outcomes,
    ModelParams,
    Reps,
    Exceptions,
    /// Every model version ever fitted, promoted, rejected or rolled back (compacted, key
    /// `model@version`); `model.params` carries only the live one.
    ModelHistory,
    ExceptionsState,
    /// The enrich stage's deduplication changelog: one small `DedupKey` per lead it produced
    /// (hashes, no plaintext email), in `DedupKeyBatch` records, replayed by every enrich instance
    /// for the dedup window.
    /// Deleted after [`TopicRole::retention`] (not compacted: one record per sighting).
    DedupKeys,
    /// What happened to every SLA deadline, as the sla-watchdog decided it (its record of SLA
    /// adherence: the SLA report, the console and the KPIs read it).
    SlaOutcomes,
    /// The latest state of every lead (compacted, key = lead id): the merged lead with its latest
    /// score, enough to re-score it without the source system (`crates/rescore/RULES.md`).
    LeadState,
}

/// How long the dedup changelog keeps records: the enrich stage's default dedup window (720 h =
/// 30 days). A longer `dedup_window_hours` needs a longer `retention.ms` on the topic.
pub const DEDUP_KEYS_RETENTION: std::time::Duration = std::time::Duration::from_secs(720 * 3600);

impl TopicRole {
    pub const ALL: [TopicRole; 17] = [
        TopicRole::Raw,
        TopicRole::Enriched,
        TopicRole::Scored,
        TopicRole::Tiered,
        TopicRole::Packets,
        TopicRole::Deliveries,
        TopicRole::Activity,
        TopicRole::Escalations,
        TopicRole::Outcomes,
        TopicRole::ModelParams,
        TopicRole::Reps,
        TopicRole::Exceptions,
        TopicRole::ModelHistory,
        TopicRole::ExceptionsState,
        TopicRole::DedupKeys,
        TopicRole::SlaOutcomes,
        TopicRole::LeadState,
    ];

    /// The event kind the topic carries (every role has one; `Option` kept for callers written when
    /// `reps` had no schema yet).
    pub fn event_kind(self) -> Option<EventKind> {
        Some(match self {
            TopicRole::Raw => EventKind::LeadEvent,
            TopicRole::Enriched => EventKind::EnrichedLead,
            TopicRole::Scored => EventKind::ScoredLead,
            TopicRole::Tiered => EventKind::TierDecision,
            TopicRole::Packets => EventKind::HandoffPacket,
            TopicRole::Deliveries => EventKind::DeliveryReceipt,
            TopicRole::Activity => EventKind::RepActivity,
            TopicRole::Escalations => EventKind::SlaEscalation,
            TopicRole::Outcomes => EventKind::LeadOutcome,
            TopicRole::ModelParams => EventKind::ModelParams,
            TopicRole::Exceptions => EventKind::ExceptionRecord,
            TopicRole::Reps => EventKind::RepState,
            TopicRole::ModelHistory => EventKind::ModelParams,
            TopicRole::ExceptionsState => EventKind::ExceptionState,
            TopicRole::DedupKeys => EventKind::DedupKeyBatch,
            TopicRole::SlaOutcomes => EventKind::SlaOutcome,
            TopicRole::LeadState => EventKind::ScoredLead,
        })
    }

    /// Kinds earlier versions wrote on the topic, which its readers still accept: `enrich.dedup-keys`
    /// held one `DedupKey` per record before batching.
    pub fn earlier_kinds(self) -> &'static [EventKind] {
        match self {
            TopicRole::DedupKeys => &[EventKind::DedupKey],
            _ => &[],
        }
    }

    /// The role's key in the `[topics]` configuration table, e.g. `model_params`.
    pub fn config_key(self) -> &'static str {
        match self {
            TopicRole::Raw => "raw",
            TopicRole::Enriched => "enriched",
            TopicRole::Scored => "scored",
            TopicRole::Tiered => "tiered",
            TopicRole::Packets => "packets",
            TopicRole::Deliveries => "deliveries",
            TopicRole::Activity => "activity",
            TopicRole::Escalations => "escalations",
            TopicRole::Outcomes => "outcomes",
            TopicRole::ModelParams => "model_params",
            TopicRole::Reps => "reps",
            TopicRole::Exceptions => "exceptions",
            TopicRole::ModelHistory => "model_history",
            TopicRole::ExceptionsState => "exceptions_state",
            TopicRole::DedupKeys => "dedup_keys",
            TopicRole::SlaOutcomes => "sla_outcomes",
            TopicRole::LeadState => "lead_state",
        }
    }

    /// Compacted topics keep the latest value per key (model parameters, rep roster, the exception
    /// queue's state: each state record carries its entry's whole history).
    pub fn compacted(self) -> bool {
        matches!(
            self,
            TopicRole::ModelParams
                | TopicRole::Reps
                | TopicRole::ModelHistory
                | TopicRole::ExceptionsState
                | TopicRole::LeadState
        )
    }

    /// A time-based retention the topic must be created with (`cleanup.policy=delete`,
    /// `retention.ms`), for roles whose readers depend on it; `None`: the broker's default.
    pub fn retention(self) -> Option<std::time::Duration> {
        match self {
            TopicRole::DedupKeys => Some(DEDUP_KEYS_RETENTION),
            _ => None,
        }
    }
}

/// Topic names, defaulting to the documented ones; every field can be overridden in config
/// (`[topics] raw = "..."`) or the environment (`LEADFLOW_TOPICS__RAW`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TopicNames {
    pub raw: String,
    pub enriched: String,
    pub scored: String,
    pub tiered: String,
    pub packets: String,
    pub deliveries: String,
    pub activity: String,
    pub escalations: String,
    pub outcomes: String,
    pub model_params: String,
    pub reps: String,
    pub exceptions: String,
    pub model_history: String,
    pub exceptions_state: String,
    pub dedup_keys: String,
    pub sla_outcomes: String,
    pub lead_state: String,
}

impl Default for TopicNames {
    fn default() -> Self {
        Self {
            raw: "leads.raw".into(),
            enriched: "leads.enriched".into(),
            scored: "leads.scored".into(),
            tiered: "leads.tiered".into(),
            packets: "handoff.packets".into(),
            deliveries: "handoff.deliveries".into(),
            activity: "handoff.activity".into(),
            escalations: "sla.escalations".into(),
            outcomes: "leads.outcomes".into(),
            model_params: "model.params".into(),
            reps: "reps".into(),
            exceptions: "leads.exceptions".into(),
            model_history: "model.history".into(),
            exceptions_state: "exceptions.state".into(),
            dedup_keys: "enrich.dedup-keys".into(),
            sla_outcomes: "sla.outcomes".into(),
            lead_state: "leads.state".into(),
        }
    }
}

impl TopicNames {
    /// The configured name of a role.
    pub fn name(&self, role: TopicRole) -> &str {
        match role {
            TopicRole::Raw => &self.raw,
            TopicRole::Enriched => &self.enriched,
            TopicRole::Scored => &self.scored,
            TopicRole::Tiered => &self.tiered,
            TopicRole::Packets => &self.packets,
            TopicRole::Deliveries => &self.deliveries,
            TopicRole::Activity => &self.activity,
            TopicRole::Escalations => &self.escalations,
            TopicRole::Outcomes => &self.outcomes,
            TopicRole::ModelParams => &self.model_params,
            TopicRole::Reps => &self.reps,
            TopicRole::Exceptions => &self.exceptions,
            TopicRole::ModelHistory => &self.model_history,
            TopicRole::ExceptionsState => &self.exceptions_state,
            TopicRole::DedupKeys => &self.dedup_keys,
            TopicRole::SlaOutcomes => &self.sla_outcomes,
            TopicRole::LeadState => &self.lead_state,
        }
    }

    /// The role of a configured topic name.
    pub fn role_of(&self, topic: &str) -> Option<TopicRole> {
        TopicRole::ALL.into_iter().find(|r| self.name(*r) == topic)
    }

    /// Every name, in pipeline order.
    pub fn all(&self) -> Vec<(TopicRole, &str)> {
        TopicRole::ALL
            .into_iter()
            .map(|r| (r, self.name(r)))
            .collect()
    }

    /// Fails when two roles share a name or a name is not a legal Kafka topic name.
    pub fn validate(&self) -> Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        for (role, name) in self.all() {
            if name.is_empty() || name.len() > 249 {
                return Err(format!(
                    "topic for {role:?} must be 1 to 249 characters, got {name:?}"
                ));
            }
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            {
                return Err(format!(
                    "topic {name:?} for {role:?} may only contain ASCII letters, digits, '.', '_' and '-'"
                ));
            }
            if !seen.insert(name) {
                return Err(format!(
                    "topic {name:?} is configured for more than one role"
                ));
            }
        }
        Ok(())
    }
}
