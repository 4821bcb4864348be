//! The leadflow **nurture** stage: `leads.tiered` → HubSpot → `handoff.deliveries` + `handoff.activity`.
//!
//! The automated half of the funnel. A decision that hands the lead to nobody (NURTURE_24H's
//! automated sequence, NURTURE) enrols the lead's CRM contact in the list that starts the tier's
//! sequence (HubSpot CRM v3 contact upsert by email, then lists v3 membership add — both
//! idempotent), writes a `CRM` receipt on `handoff.deliveries` and an `ENROLLED` activity by
//! `automation` on `handoff.activity`. The activity meets the decision's first-touch deadline in the
//! sla-watchdog and tells the tier stage the lead is listening for a reply (tier POLICY.md N1). A
//! failed enrolment is retried, then goes to the exceptions topic for marketing-ops; so does a lead
//! without an email. The rules with their numbers: `RULES.md`.
//!
//! [`plan`](enrol::plan) is the pure decision; [`NurtureStage`] is the runtime shell with the
//! HubSpot calls.

pub mod enrol;
pub mod lists;
pub mod metrics;
pub mod settings;
pub mod stage;

pub use enrol::{Enrol, Enrolled, NotEnrolled, Plan, Skip, plan};
pub use metrics::NurtureMetrics;
pub use settings::NurtureSettings;
pub use stage::{NurtureInitError, NurtureStage};

/// The service's name: its metrics prefix and default consumer group (`leadflow-nurture`).
pub const SERVICE_NAME: &str = "nurture";

/// The rep id automation's activities carry.
pub const AUTOMATION: &str = "automation";
