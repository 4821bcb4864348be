//! The dedup changelog record (`DedupKey` on `enrich.dedup-keys`, RULES.md §12): what the dedup
//! memory needs of one produced lead, and nothing more — the event id, 128-bit hashes of the lead id
//! and of the normalised email, the event time, the verdict it was given and the input record's
//! position.
//!
//! Hash128 = the first 16 bytes of SHA-256 (the `sha2` crate). A cryptographic hash because lead
//! ids and emails come from public forms: with a fast non-cryptographic hash a crafted email could
//! collide with a real one and make a stranger's lead an "update" of it; 2^64 work for a truncated
//! SHA-256 collision rules that out. Stable by definition (FIPS 180-4), across builds, versions and
//! machines, which a changelog read back by other instances needs. The hashes are pseudonymous,
//! not anonymous (a guessed email can be checked against them): the topic is protected like
//! `leads.enriched`.

use leadflow_events::{DedupKey, Hash128, Timestamp};
use sha2::{Digest, Sha256};

/// The first 16 bytes of the SHA-256 of `text` (UTF-8).
pub fn hash128(text: &str) -> Hash128 {
    let digest = Sha256::digest(text.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

/// Where an input record was read: (partition, offset) of the input topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InputPosition {
    pub partition: i32,
    pub offset: i64,
}

/// The hashed identity of one lead event: what the dedup index keys on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeadHashes {
    /// Hash128 of the lead id.
    pub lead: Hash128,
    /// Hash128 of the normalised (lower-cased, RULES.md §2) email.
    pub email: Option<Hash128>,
}

impl LeadHashes {
    /// Hashes a lead id and its normalised email (already lower-cased by validation; hashed as
    /// given, so the caller passes the normalised form).
    pub fn of(lead_id: &str, normalised_email: Option<&str>) -> Self {
        Self {
            lead: hash128(lead_id),
            email: normalised_email.map(hash128),
        }
    }
}

/// The changelog record of a produced lead.
pub fn dedup_key(
    event_id: &str,
    hashes: LeadHashes,
    occurred_at: Timestamp,
    previous_event_id: Option<&str>,
    input: Option<InputPosition>,
) -> DedupKey {
    DedupKey {
        event_id: event_id.to_owned(),
        lead_hash: hashes.lead,
        email_hash: hashes.email,
        occurred_at,
        previous_event_id: previous_event_id.map(str::to_owned),
        input_partition: input.map_or(-1, |p| p.partition),
        input_offset: input.map_or(-1, |p| p.offset),
    }
}

/// The input position a changelog record carries, when it has one.
pub fn input_position(key: &DedupKey) -> Option<InputPosition> {
    (key.input_partition >= 0 && key.input_offset >= 0).then_some(InputPosition {
        partition: key.input_partition,
        offset: key.input_offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(h: &Hash128) -> String {
        h.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Pinned values: a change here would make every instance forget the window on upgrade.
    #[test]
    fn hashes_are_pinned() {
        assert_eq!(
            hex(&hash128("lead-0001")),
            "1887cd19a25068fd667f2ba9e8374b19"
        );
        assert_eq!(
            hex(&hash128("ada.lovelace@northwind.io")),
            "2e78d9cc956be0c9b3725affd97c08f0"
        );
        // what samples::dedup_key() carries is what the stage computes for samples::enriched_lead()
        let sample = leadflow_events::samples::dedup_key();
        let lead = leadflow_events::samples::enriched_lead().lead;
        let h = LeadHashes::of(&lead.lead_id, lead.contact.email.as_deref());
        assert_eq!(h.lead, sample.lead_hash);
        assert_eq!(h.email, sample.email_hash);
    }

    #[test]
    fn distinct_inputs_distinct_hashes() {
        assert_ne!(hash128("ada@northwind.io"), hash128("ada@northwind.com"));
        assert_ne!(hash128(""), hash128(" "));
    }

    #[test]
    fn the_record_carries_hashes_and_position_only() {
        let h = LeadHashes::of("lead-7", Some("ada@northwind.io"));
        let pos = InputPosition {
            partition: 2,
            offset: 41,
        };
        let key = dedup_key("evt-7", h, Timestamp(5), Some("evt-6"), Some(pos));
        assert_eq!(key.event_id, "evt-7");
        assert_eq!(key.lead_hash, hash128("lead-7"));
        assert_eq!(key.email_hash, Some(hash128("ada@northwind.io")));
        assert_eq!(key.occurred_at, Timestamp(5));
        assert_eq!(key.previous_event_id.as_deref(), Some("evt-6"));
        assert_eq!(input_position(&key), Some(pos));
        let text = format!("{key:?}");
        assert!(!text.contains("ada") && !text.contains("lead-7"), "{text}");

        let unknown = dedup_key(
            "evt-8",
            LeadHashes::of("lead-8", None),
            Timestamp(5),
            None,
            None,
        );
        assert_eq!(unknown.email_hash, None);
        assert_eq!((unknown.input_partition, unknown.input_offset), (-1, -1));
        assert_eq!(input_position(&unknown), None);
    }
}
