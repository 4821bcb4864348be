//! Synthetic data for leadflow, pure and seeded: the lead generator behind `leadflow generate`, the
//! benches and the end-to-end tests, the sales outcomes of its leads, and the rep roster file parser
//! behind `leadflow reps import`.
//!
//! [`LeadGenerator`] yields a realistic stream of `LeadEvent`s: companies mostly from the enrich
//! stage's bundled dataset plus unknown domains, executives, managers and practitioners, competitors,
//! researchers and free-mail leads, from forms, chat, Salesforce, an intent feed, webinars and sign-ups,
//! with activity history, chat signals, repeats for dedup and times that follow business hours. The
//! same seed and start always give the same events. [`outcomes::outcomes_for`] derives each lead's
//! sales outcomes from a hidden conversion function. Neither touches a broker or a file: the CLI paces
//! and writes the stream (`crates/cli/src/generate.rs`).
//!
//! [`roster_file::parse`] reads a roster file (`.csv`, JSON array or JSON lines) as a whole into
//! validated `RepState`s, or rejects it with the line at fault.

mod activity;
mod catalogue;
mod chat;
mod clock;
mod companies;
mod generator;
pub mod outcomes;
mod people;
mod pick;
pub mod roster_file;
mod sources;
#[cfg(test)]
mod tests;

pub use chat::is_hot;
pub use companies::{COMPETITOR_DOMAINS, FREE_MAIL_DOMAINS};
pub use generator::{GeneratedLead, LeadGenerator, Quirk, Repeat, shift};
pub use people::SyntheticPersona;
pub use roster_file::RosterError;
pub use sources::Source;

/// The default start of the stream: Friday 2026-11-20 12:00 UTC, so a few hundred events cover
/// business hours, the evening and the weekend.
pub const DEFAULT_START: &str = "2026-11-20T12:00:00Z";

/// How interested a lead is, which drives its activity and chat signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Intent {
    Cold,
    Warm,
    Hot,
}
