//! What enrich's dedup changelog costs next to reading `leads.enriched` back: generated leads go
//! through the real enrich stage (demo dataset); for each output pair it adds up the wire bytes of
//! the `EnrichedLead` and of its changelog entry (record key + single-object payload + ~8 bytes of
//! Kafka record framing) — both as a record of its own (a `DedupKeyBatch` of one: a lead arriving
//! alone) and joined into records of `JOINED` entries as the send gate joins them under load
//! (`join_array_records`) — and times decoding each (what every enrich instance does per record it
//! follows) and the Hash128 (SHA-256/128) of a lead id and an email (what enrich adds per lead).
//!
//! ```text
//! cargo build --release -p leadflow-bench-pipeline && target/release/dedup-key-size [COUNT] [JOINED]
//! ```
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod timing;

use std::hint::black_box;

use leadflow_enrich::dedup_key::hash128;
use leadflow_enrich::{EnrichSettings, EnrichStage};
use leadflow_events::codec::join_array_records;
use leadflow_events::{AnyEvent, Codec, DedupKeyBatch, EnrichedLead, Timestamp};
use leadflow_generate::{DEFAULT_START, LeadGenerator};
use leadflow_runtime::{Context, Stage, StageRegistry};
use timing::best_us;

/// Kafka record batch v2 framing per record: length, attributes, timestamp and offset deltas, key
/// and value lengths, header count (varints; 7–10 bytes for records of this size). The 61-byte batch
/// header is shared by a batch's records and left out.
const RECORD_FRAMING: usize = 8;

fn main() -> anyhow::Result<()> {
    let count: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(5_000);
    // entries per joined record (stage-throughput prints what a loaded enrich joins)
    let joined: usize = std::env::args()
        .nth(2)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(400)
        .max(1);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let codec = Codec::single_object()?;
    let stage = EnrichStage::new(&EnrichSettings::demo(), &StageRegistry::new("enrich"))?;
    let start = Timestamp::parse_rfc3339(DEFAULT_START)?;
    let mut generator = LeadGenerator::new(5, start);
    let (mut leads, mut enriched_bytes, mut key_bytes) = (0usize, 0usize, 0usize);
    let (mut sample_enriched, mut sample_key) = (Vec::new(), Vec::new());
    // (record key, payload) of every entry, in order
    let mut entries: Vec<(usize, Vec<u8>)> = Vec::new();
    for offset in 0..count {
        let ctx = Context {
            topic: "leads.raw".into(),
            partition: 0,
            offset: offset as i64,
            record_time: None,
            now: start,
        };
        let Ok(outputs) = rt.block_on(stage.process(generator.next_lead().event, &ctx)) else {
            continue; // invalid leads go to the exceptions topic: no output
        };
        for o in outputs {
            let bytes = rt.block_on(o.event.encode(&codec, "t"))?;
            let wire = o.record_key().len() + bytes.len() + RECORD_FRAMING;
            match o.event {
                AnyEvent::EnrichedLead(_) => {
                    leads += 1;
                    enriched_bytes += wire;
                    sample_enriched = bytes;
                }
                AnyEvent::DedupKeyBatch(_) => {
                    key_bytes += wire;
                    entries.push((o.record_key().len(), bytes.clone()));
                    sample_key = bytes;
                }
                _ => {}
            }
        }
    }
    anyhow::ensure!(leads > 0, "no lead was enriched");
    let decode_enriched = best_us(7, 3_000, || {
        black_box(rt.block_on(codec.decode::<EnrichedLead>(black_box(&sample_enriched)))).ok();
    });
    let decode_key = best_us(7, 3_000, || {
        black_box(rt.block_on(codec.decode::<DedupKeyBatch>(black_box(&sample_key)))).ok();
    });
    // joined as the send gate joins them: the first entry's record key, one header, one closing 0
    let (mut joined_bytes, mut sample_joined, mut sample_len) = (0usize, Vec::new(), 0usize);
    for chunk in entries.chunks(joined) {
        let parts: Vec<&[u8]> = chunk.iter().map(|(_, p)| p.as_slice()).collect();
        let payload = join_array_records(&parts).expect("entries of one writer join");
        joined_bytes += chunk[0].0 + payload.len() + RECORD_FRAMING;
        if chunk.len() > sample_len {
            sample_len = chunk.len();
            sample_joined = payload;
        }
    }
    let decode_joined = best_us(7, 30, || {
        black_box(rt.block_on(codec.decode::<DedupKeyBatch>(black_box(&sample_joined)))).ok();
    }) / sample_len as f64;
    let hash_lead_and_email = best_us(7, 30_000, || {
        black_box(hash128(black_box("lead-4f1c2a9e")));
        black_box(hash128(black_box("ada.lovelace@northwind.io")));
    });
    let per_enriched = enriched_bytes as f64 / leads as f64;
    let per_key = key_bytes as f64 / leads as f64;
    let per_joined = joined_bytes as f64 / leads as f64;
    println!("{count} generated leads, {leads} enriched (the rest invalid: exceptions)");
    println!(
        "| record | bytes on the wire (key + payload + ~{RECORD_FRAMING} framing) | decode µs |"
    );
    println!("|---|---|---|");
    println!("| EnrichedLead (leads.enriched) | {per_enriched:.1} | {decode_enriched:.2} |");
    println!("| changelog entry alone (DedupKeyBatch of 1) | {per_key:.1} | {decode_key:.2} |");
    println!(
        "| changelog entry joined ({joined} per record), per entry | {per_joined:.1} | {decode_joined:.2} |"
    );
    println!(
        "each enrich instance follows {:.1} % (entries alone) to {:.1} % (joined) of the bytes of leads.enriched",
        100.0 * per_key / per_enriched,
        100.0 * per_joined / per_enriched
    );
    println!("Hash128 of a lead id and an email: {hash_lead_and_email:.2} µs per lead");
    Ok(())
}
