//! What each event embedding its whole input costs per hop: for every event kind along the
//! pipeline (LeadEvent ⊂ EnrichedLead ⊂ ScoredLead ⊂ TierDecision ⊂ HandoffPacket), the record size and
//! the time one hop spends decoding its input and encoding its output with the production codec
//! (single-object encoding), on one thread. The "own fields" column is the hop's cost minus what
//! decoding and re-encoding the embedded input costs, i.e. what a hop would pay if events carried
//! only their own fields plus the lead id.
//!
//! ```text
//! cargo build --release -p leadflow-bench-pipeline && target/release/codec-hops
//! ```
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod timing;

use std::hint::black_box;

use leadflow_events::{Codec, Event, samples};
use timing::best_us;

fn measure<E: Event>(codec: &Codec, event: &E) -> (usize, f64, f64) {
    let bytes = futures::executor::block_on(codec.encode("t", event)).unwrap();
    let encode = best_us(7, 3_000, || {
        black_box(futures::executor::block_on(codec.encode("t", black_box(event))).unwrap());
    });
    let decode = best_us(7, 3_000, || {
        black_box(futures::executor::block_on(codec.decode::<E>(black_box(&bytes))).unwrap());
    });
    (bytes.len(), encode, decode)
}

fn main() {
    let codec = Codec::single_object().unwrap();
    let rows = [
        (
            "LeadEvent (leads.raw)",
            measure(&codec, &samples::lead_event()),
        ),
        (
            "EnrichedLead (leads.enriched)",
            measure(&codec, &samples::enriched_lead()),
        ),
        (
            "ScoredLead (leads.scored)",
            measure(&codec, &samples::scored_lead()),
        ),
        (
            "TierDecision (leads.tiered)",
            measure(&codec, &samples::tier_decision()),
        ),
        (
            "HandoffPacket (handoff.packets)",
            measure(&codec, &samples::handoff_packet()),
        ),
    ];
    println!(
        "| event | bytes | encode µs | decode µs | hop writing it: decode input + encode it, µs | same hop if events held only their own fields, µs |"
    );
    println!("|---|---|---|---|---|---|");
    let costs: Vec<(f64, f64)> = rows.iter().map(|(_, (_, e, d))| (*e, *d)).collect();
    for (i, (name, (len, enc, dec))) in rows.iter().enumerate() {
        let (hop, own) = if i == 0 {
            ("—".to_owned(), "—".to_owned())
        } else {
            let dec_in = costs[i - 1].1;
            let dec_in_own = dec_in - if i >= 2 { costs[i - 2].1 } else { 0.0 };
            let enc_own = enc - costs[i - 1].0;
            (
                format!("{:.1}", dec_in + enc),
                format!("{:.1}", dec_in_own.max(0.0) + enc_own.max(0.0)),
            )
        };
        println!("| {name} | {len} | {enc:.1} | {dec:.1} | {hop} | {own} |");
    }
}
