//! Reps act where they work (RULES.md RA1–RA7): Slack's interactivity (Accept, Contacted, Reject
//! with a reason on notify's message) and HubSpot's webhooks (a task completed, a call logged, a
//! lead status) become `RepActivity` records on `handoff.activity`, judged against what leadflow
//! knows of the lead (who owns it, on which packet, what was already recorded).

pub mod decide;
pub mod hubspot_events;
pub mod metrics;
pub mod respond;
pub mod routes;
pub mod service;
pub mod signatures;
pub mod slack_payload;
pub mod view;

pub use service::{Answer, RepActions};
