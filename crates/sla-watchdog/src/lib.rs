//! The leadflow **sla-watchdog** stage: `handoff.packets` + `handoff.activity` → `sla.escalations`.
//!
//! Every packet opens its SLA deadlines (assignment, first contact, qualification — as tier computed
//! them in business time); rep activity closes them by event time; a deadline nobody closed fires
//! once, `allowed_lateness_ms` after it was due, as one `SlaEscalation`: level 1 sends the lead to the
//! next eligible rep of the same pool (route picks the rep with its eligibility rules), a second breach
//! of the lead goes to the pool's manager (level 2). No-handoff decisions with a deadline
//! (NURTURE_24H's automated sequence) are tracked for the KPIs and never escalated.
//!
//! The rules and every number are in `RULES.md`. The pure [`Engine`] takes the time as an argument
//! (tests inject it); [`WatchdogStage`] is the runtime shell: its state comes from the runtime's side
//! inputs and its escalations from the runtime's timer hook (`leadflow_runtime::Stage::on_timer`).

pub mod business_time;
pub mod deadline;
pub mod engine;
pub mod ledger;
pub mod metrics;
pub mod settings;
pub mod stage;
pub mod validate;
pub mod withdrawal;

pub use deadline::{ActivityTimes, Deadline, DeadlineState};
pub use engine::{DeadlineView, Engine, EngineRules, Outcome};
pub use metrics::WatchdogMetrics;
pub use settings::WatchdogSettings;
pub use stage::WatchdogStage;

/// The service's name: its metrics prefix and default consumer group (`leadflow-sla-watchdog`).
pub const SERVICE_NAME: &str = "sla-watchdog";
