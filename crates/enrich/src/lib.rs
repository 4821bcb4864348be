//! The enrich stage (leads.raw -> leads.enriched): validates and normalises raw leads, drops repeated
//! events, marks repeated leads as updates, looks up firmographics, classifies the persona and groups
//! buying committees by account. Next to each lead it writes a small dedup changelog record
//! (`enrich.dedup-keys`, hashes only) from which every instance rebuilds its dedup memory. The rules
//! and their numbers are in `crates/enrich/RULES.md`.
//!
//! Pure parts — [`normalise`], [`validate`], [`persona`], [`dedup`], [`dedup_key`],
//! [`provider::CircuitBreaker`] — have no I/O; [`stage::EnrichStage`] is the thin `Stage` shell the runtime
//! drives.

pub mod address;
pub mod bands;
pub mod country;
pub mod dataset;
pub mod dedup;
pub mod dedup_key;
pub mod disposable;
pub mod free_mail;
pub mod industry;
pub mod metrics;
pub mod names;
pub mod normalise;
pub mod persona;
pub mod phone;
pub mod provider;
pub mod reference_data;
pub mod role_account;
pub mod settings;
pub mod stage;
pub mod transform;
pub mod validate;
pub mod warnings;

pub use settings::{EnrichSettings, ProviderKind, ProviderSettings};
pub use stage::EnrichStage;
pub use transform::{EnrichOutcome, Enricher};
pub use validate::Invalid;
