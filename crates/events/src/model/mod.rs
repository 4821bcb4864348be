//! Rust types of the events in `schemas/`, one module per schema file.
//!
//! Field names and enum symbols match the `.avsc` files exactly: `tests/codec.rs`
//! (`every_event_round_trips_single_object`) encodes a sample of every type through its schema and
//! decodes it back, so a drift between the two fails the tests.

mod dedup_key;
mod delivery;
mod enriched;
mod exception;
mod exception_state;
mod handoff;
mod lead;
mod model_params;
mod outcome;
mod rep_activity;
mod rep_state;
mod scored;
mod sla;
mod sla_outcome;
mod tier;

pub use dedup_key::*;
pub use delivery::*;
pub use enriched::*;
pub use exception::*;
pub use exception_state::*;
pub use handoff::*;
pub use lead::*;
pub use model_params::*;
pub use outcome::*;
pub use rep_activity::*;
pub use rep_state::*;
pub use scored::*;
pub use sla::*;
pub use sla_outcome::*;
pub use tier::*;
