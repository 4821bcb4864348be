//! The leadflow **rescore** stage: `leads.tiered` → `leads.state` (+ re-entries on `leads.enriched`).
//!
//! The pipeline keeps the latest state of every lead on the compacted `leads.state` (key: lead id,
//! value: the existing `ScoredLead` record: the merged lead — latest non-empty contact and company
//! fields, activities unioned — with its latest score, model version, and the tier and handoff of its
//! latest decision as `leadflow.state.*` attributes). A lead whose latest decision hands it to
//! nobody is kept in memory and re-scored with the live model:
//!
//! - **at once** when a new event of it brings intent the event alone did not turn into a handoff,
//!   but the merged lead does (rules I1–I5);
//! - **on a schedule** (weekly by default) in its nurture tier (rules S1–S4).
//!
//! A re-score that reaches a human band sends the merged lead back onto `leads.enriched` (a
//! re-entry): score, tier and route decide it like any lead, and tier's first reason says
//! `re-scored (intent): score 74, was 48` (tier POLICY.md RS1). The rules with their numbers:
//! `RULES.md`. [`state`] is the pure part; [`RescoreStage`] the runtime shell.

pub mod metrics;
pub mod settings;
pub mod stage;
pub mod state;

pub use metrics::RescoreMetrics;
pub use settings::RescoreSettings;
pub use stage::{RescoreInitError, RescoreStage};
pub use state::{Book, Entry, Reentry, Stored, Why};

/// The service's name: its metrics prefix and default consumer group (`leadflow-rescore`).
pub const SERVICE_NAME: &str = "rescore";
