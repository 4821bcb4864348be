//! `schemas/dedup_key.avsc`: one lead sighting of the enrich stage's deduplication changelog
//! (`enrich.dedup-keys`), produced next to each enriched lead and replayed by every enrich instance
//! to rebuild its dedup memory. Hashes only: no plaintext email or name. The topic carries them in
//! batches (`schemas/dedup_key_batch.avsc`, [`DedupKeyBatch`]): the send gate joins the sightings
//! waiting for one partition into one record.

use serde::{Deserialize, Serialize};

use crate::event::{Event, EventKind};
use crate::time::Timestamp;

/// A 128-bit hash (Avro `fixed(16)` `leadflow.Hash128`): the first 16 bytes of a SHA-256.
pub type Hash128 = [u8; 16];

/// One lead sighting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DedupKey {
    /// The produced lead event's id (the dedup index answers `previous_event_id` with it).
    pub event_id: String,
    /// Hash128 of the lead id.
    #[serde(with = "serde_bytes")]
    pub lead_hash: Hash128,
    /// Hash128 of the normalised email, when the lead has one.
    #[serde(default, with = "serde_bytes")]
    pub email_hash: Option<Hash128>,
    /// The lead event's `occurred_at`.
    pub occurred_at: Timestamp,
    /// The verdict the event was given: the earlier sighting it updates, `None` for a new lead.
    #[serde(default)]
    pub previous_event_id: Option<String>,
    /// Partition of the input topic the event was read from (-1: unknown).
    #[serde(default = "unknown")]
    pub input_partition: i32,
    /// Offset of the input record in that partition (-1: unknown).
    #[serde(default = "unknown_offset")]
    pub input_offset: i64,
}

fn unknown() -> i32 {
    -1
}

fn unknown_offset() -> i64 {
    -1
}

impl Event for DedupKey {
    const KIND: EventKind = EventKind::DedupKey;
    /// The event id: the record carries no lead id in clear. The enrich stage produces it with the
    /// lead id as the record key (like `leads.enriched`).
    fn key(&self) -> &str {
        &self.event_id
    }
    fn lead_id(&self) -> Option<&str> {
        None
    }
}

/// `schemas/dedup_key_batch.avsc`: the sightings of one or more leads, in production order — one
/// record of `enrich.dedup-keys`. enrich submits a batch of one per lead; the runtime's send gate
/// joins consecutive batches bound for the same partition (a batch kind: `crates/runtime/src/send_gate.rs`), which the Avro
/// encoding of a record holding only an array allows by concatenating their array blocks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DedupKeyBatch {
    /// One sighting per produced lead; never empty.
    pub keys: Vec<DedupKey>,
}

impl DedupKeyBatch {
    /// A batch of one sighting.
    pub fn of(key: DedupKey) -> Self {
        Self { keys: vec![key] }
    }
}

impl Event for DedupKeyBatch {
    const KIND: EventKind = EventKind::DedupKeyBatch;
    /// The first sighting's event id; the enrich stage keys the record by that lead's id.
    fn key(&self) -> &str {
        self.keys.first().map_or("", |k| k.event_id.as_str())
    }
    fn lead_id(&self) -> Option<&str> {
        None
    }
}
