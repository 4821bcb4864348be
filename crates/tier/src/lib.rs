//! The leadflow **tier** stage: `leads.scored` → `leads.tiered`.
//!
//! For every scored lead it decides the tier, whether and how a human takes over (escalation,
//! capture or none), what caused it, which team owns the next step, the SLA deadlines in business
//! time, the follow-up commitment given to the visitor, and why — one plain line per rule that fired.
//!
//! # Policy (see `POLICY.md`)
//! Bands and SLAs are configuration filled from a preset, each value overridable:
//! - **`four-band` — the default** (POLICY.md B1), because it is the Lead Priority Score's own banding:
//!   85–100 HOT (AE, first contact < 5 min), 70–84 WARM (SDR queue, < 4 h), 50–69 NURTURE_24H
//!   (automated sequence within 24 h, then a human if they reply), below 50 NURTURE.
//! - `hql-mql` (B2): 80+ HQL straight to an AE (assignment immediate, contact 1 h,
//!   qualification 4 h), 60–79 MQL to an SDR (15 min / 4 h / 24 h), 40–59 MEL nurture, below 40 COLD.
//!
//! On top of the bands, the handoff triggers of POLICY.md in priority order: T1 hot lead (gated by the
//! confidence of the dimensions that fired it), T2 explicit request for a human (any persona, any
//! score), T3 out-of-scope question (routed by category), T4 stall (derived from the conversation) or
//! frustration, T5 soft escalation of a warm lead after several exchanges (a recommended resource).
//! Negative personas (N1, N2) reach a human only by asking for one; below the confidence threshold
//! (0.80) the score band puts nobody in the human queue.
//!
//! # Time
//! Decisions use the event's own time (`occurred_at`), never the wall clock, so replaying a topic
//! reproduces them. The [`Calendar`] (Europe/Paris, Mon–Fri 09:00–18:00, French public holidays
//! computed for any year by default) counts SLAs in business time and is correct across
//! daylight-saving changes. Outside business hours an escalation becomes a capture with a specific
//! commitment ("before 10:00 CET on Monday 23 November"); arrivals at or after 16:00 get no same-day
//! promise; the rep's first-contact deadline is never after the promise (POLICY.md S1–S4).
//!
//! The pure entry point is [`decide`]; [`TierStage`] is the thin [`leadflow_runtime::Stage`] shell.

pub mod calendar;
pub mod commitment;
pub mod conversation;
pub mod decide;
pub mod holidays;
mod metrics;
pub mod nurture_reply;
pub mod policy;
pub mod settings;
pub mod stage;
pub mod triggers;

pub use calendar::Calendar;
pub use commitment::{Commitment, CommitmentRules, CommitmentSlot};
pub use conversation::{Resource, ResourceCatalogue, SoftEscalationRules, StallRules};
pub use decide::{
    InputError, RESCORE_ATTRIBUTE, RESCORE_PREVIOUS_SCORE_ATTRIBUTE, check_input, decide,
    decide_owned, decide_with,
};
pub use holidays::{HolidayRules, Holidays, easter_sunday};
pub use metrics::TierMetrics;
pub use nurture_reply::{Enrolment, EnrolmentMemory, NurtureReplyRules};
pub use policy::{Band, BandAction, OutOfScopeRouting, PolicyPreset, SlaMinutes, TierPolicy};
pub use settings::{BandOverride, CalendarSettings, SettingsError, TierSettings};
pub use stage::{TierInitError, TierStage};
