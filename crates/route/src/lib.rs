//! The leadflow **route** stage: `leads.tiered` → `handoff.packets`, and reassignment after SLA
//! breaches (`sla.escalations` → `handoff.packets`).
//!
//! Tier decides *what* a lead is; route decides *who* talks to it, by when, and hands them the
//! context packet. The rules, with their numbers, are in `RULES.md` next to this crate:
//! - the decision's `target_team` selects the pool;
//! - account ownership first (a buying committee gets one rep) unless the owner is out of office,
//!   inactive or at their cap — the packet then says why;
//! - otherwise the least-loaded **eligible** rep, ties broken by who waited longest since their last
//!   assignment, then by rep id;
//! - nobody eligible → the pool's manager, flagged with `unassigned_reason`; no manager → the
//!   exceptions topic (owner `revops`, with a due time). Never a silent drop;
//! - decisions with no human handoff produce no packet and are counted.
//!
//! # Shared rules
//! [`eligibility`] is the pure, documented API the SLA watchdog reuses to pick the next owner:
//! [`eligibility::check`] (every rule), [`eligibility::LeadFacts::of`] (what the rules read from a
//! decision), [`Roster`] (validated roster + pools + the pool's manager) and [`RoutingState`]
//! (open loads rebuilt from packets and activity). [`assign::choose`] is the whole selection.
//!
//! # State
//! Load, rotation, account owners and the accounts' buying committees live in [`RoutingState`],
//! rebuilt at start from the `reps`, `handoff.packets` (route's own output), `handoff.activity` and
//! `leads.tiered` topics — never only in memory.

pub mod accounts;
pub mod assign;
pub mod committee;
pub mod eligibility;
pub mod hours;
pub mod metrics;
pub mod packet;
pub mod rejection_stage;
pub mod roster;
pub mod router;
pub mod settings;
pub mod stage;
pub mod state;
pub mod territory;

pub use assign::{Choice, choose};
pub use eligibility::{Ineligible, LeadFacts};
pub use metrics::RouteMetrics;
pub use rejection_stage::RejectionStage;
pub use roster::{Rep, Roster};
pub use router::{Reassigned, Routed, Router, RouterConfig};
pub use settings::RouteSettings;
pub use stage::{ReassignStage, RouteStage};
pub use state::RoutingState;
