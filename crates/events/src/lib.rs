//! The leadflow event model and wire codecs.
//!
//! The `.avsc` files under `schemas/` are the contract; this crate embeds them, gives each event a Rust
//! type, and encodes/decodes events in the two supported wire formats:
//! - Confluent framing (magic byte 0 + 4-byte schema id) through a Confluent-compatible schema registry;
//! - Avro single-object encoding (`C3 01` + CRC-64-AVRO fingerprint) when no registry is configured.
//!
//! Decoders accept both, resolve older writer schemas to the current reader schema, and reject truncated
//! or unknown payloads with a typed [`DecodeError`].

pub mod any;
pub mod bands;
pub mod codec;
pub mod event;
pub mod json;
pub mod model;
pub mod rejection;
#[cfg(any(test, feature = "test-util"))]
pub mod samples;
pub mod schema;
pub mod secret;
pub mod slack_actions;
pub mod stable_hash;
pub mod time;
pub mod topics;

pub use any::{AnyEvent, Tombstone};
pub use codec::{Codec, DecodeError, EncodeError, RegistryClient, RegistryConfig};
pub use event::{Event, EventKind};
pub use model::*;
pub use rejection::{REJECTION_REASONS, rejection_reason};
pub use secret::Secret;
pub use time::Timestamp;
pub use topics::{TopicNames, TopicRole};
