//! Joining encoded records that hold only an array (the dedup changelog's `DedupKeyBatch`).
//!
//! Avro writes an array as blocks (a count, then that many items) ended by a block of count 0, and a
//! record as its fields in order. A record whose only field is an array is therefore its blocks
//! then one `0` byte, and two such bodies join into one valid body by dropping the first one's
//! final `0`: `[n1 items1 0] + [n2 items2 0]` → `[n1 items1 n2 items2 0]`, which decodes as the
//! items of both, in order (Avro specification, "Complex Types: Arrays"). No decoding or re-encoding
//! is needed, so the send gate can join records of any framing at the cost of a copy.

use apache_avro::Schema;

use super::{CONFLUENT_HEADER_LEN, CONFLUENT_MAGIC, SINGLE_OBJECT_HEADER_LEN, SINGLE_OBJECT_MAGIC};

/// Whether `schema` is a record whose only field is an array: encodings of it join with
/// [`join_array_records`].
pub(crate) fn is_array_record(schema: &Schema) -> bool {
    match schema {
        Schema::Record(record) => {
            record.fields.len() == 1 && matches!(record.fields[0].schema, Schema::Array(_))
        }
        _ => false,
    }
}

/// The frame header length of a payload (single-object or Confluent), or `None` for neither.
fn header_len(payload: &[u8]) -> Option<usize> {
    if payload.starts_with(&SINGLE_OBJECT_MAGIC) {
        Some(SINGLE_OBJECT_HEADER_LEN)
    } else if payload.first() == Some(&CONFLUENT_MAGIC) {
        Some(CONFLUENT_HEADER_LEN)
    } else {
        None
    }
}

/// One payload holding the array items of every part, in order.
///
/// The parts must be encodings of one kind whose schema is a record holding only an array (see
/// [`crate::Codec::joins`]); they must share one frame header (the same writer schema), and each
/// body must end with the array's closing `0`. `None` when any of that does not hold (the caller then
/// sends the parts as they are).
pub fn join_array_records(parts: &[&[u8]]) -> Option<Vec<u8>> {
    let first = parts.first()?;
    let header = first.get(..header_len(first)?)?;
    let total: usize = parts.iter().map(|p| p.len()).sum();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(header);
    for part in parts {
        let body = part.strip_prefix(header)?;
        let (last, blocks) = body.split_last()?;
        if *last != 0 {
            return None;
        }
        out.extend_from_slice(blocks);
    }
    out.push(0);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventKind;
    use crate::model::{DedupKey, DedupKeyBatch};
    use crate::{Codec, samples};

    fn key(n: i64) -> DedupKey {
        let mut k = samples::dedup_key();
        k.event_id = format!("evt-{n}");
        k.input_offset = n;
        if n % 2 == 0 {
            k.email_hash = None;
            k.previous_event_id = None;
        }
        k
    }

    #[tokio::test]
    async fn joined_batches_decode_as_all_their_keys_in_order() {
        let codec = Codec::single_object().expect("codec");
        assert!(codec.joins(EventKind::DedupKeyBatch));
        assert!(!codec.joins(EventKind::DedupKey));
        assert!(!codec.joins(EventKind::LeadEvent));
        let batches = [
            DedupKeyBatch::of(key(1)),
            DedupKeyBatch {
                keys: vec![key(2), key(3)],
            },
            DedupKeyBatch::of(key(4)),
        ];
        let mut encoded = Vec::new();
        for b in &batches {
            encoded.push(codec.encode("t", b).await.expect("encode"));
        }
        let parts: Vec<&[u8]> = encoded.iter().map(Vec::as_slice).collect();
        let joined = join_array_records(&parts).expect("joins");
        let back: DedupKeyBatch = codec.decode(&joined).await.expect("decode");
        let expected: Vec<DedupKey> = (1..=4).map(key).collect();
        assert_eq!(back.keys, expected);
        // what a reader counting outputs sees: one entry per lead
        let entries = crate::AnyEvent::DedupKeyBatch(back).into_entries();
        let as_events: Vec<crate::AnyEvent> = expected
            .iter()
            .cloned()
            .map(crate::AnyEvent::DedupKey)
            .collect();
        assert_eq!(entries, as_events);
        let single = crate::AnyEvent::LeadEvent(samples::lead_event());
        assert_eq!(single.clone().into_entries(), vec![single]);
        // one header, one closing 0: the sum of the parts less what they repeat
        assert_eq!(
            joined.len(),
            encoded.iter().map(Vec::len).sum::<usize>() - 2 * (SINGLE_OBJECT_HEADER_LEN + 1)
        );
        // a single part is itself
        assert_eq!(join_array_records(&parts[..1]).as_deref(), Some(parts[0]));
    }

    #[test]
    fn parts_of_different_writers_or_frames_are_not_joined() {
        let a = [0xC3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 2, 9, 0];
        let other_fingerprint = [0xC3, 0x01, 1, 2, 3, 4, 5, 6, 7, 9, 2, 9, 0];
        let confluent = [0, 0, 0, 0, 7, 2, 9, 0];
        let unterminated = [0xC3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 2, 9];
        assert!(join_array_records(&[&a, &a]).is_some());
        assert_eq!(join_array_records(&[&a, &other_fingerprint]), None);
        assert_eq!(join_array_records(&[&a, &confluent]), None);
        assert_eq!(join_array_records(&[&a, &unterminated]), None);
        assert_eq!(join_array_records(&[&[9, 9, 0][..]]), None);
        assert_eq!(join_array_records(&[]), None);
        assert_eq!(
            join_array_records(&[&confluent, &confluent]),
            Some(vec![0, 0, 0, 0, 7, 2, 9, 2, 9, 0])
        );
    }
}
