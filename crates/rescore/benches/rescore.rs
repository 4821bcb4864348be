//! Re-scoring stored leads: `RESCORE_BENCH_LEADS` (default 1 000 000) generated leads
//! (`leadflow-generate`), scored once, held as state records Avro-encoded as they sit on
//! `leads.state`; then, timed on one core: decode, the book's rebuild (merge into the held state,
//! rule M4), the scheduled re-score of every lead with the default model (S3: the re-entry lead and
//! `assess`), and the pure score's share. Prints leads/s and the resident bytes per held lead.
//!
//! `CARGO_TARGET_DIR=... cargo bench -p leadflow-rescore` (release).

use std::time::Instant;

use leadflow_events::{Codec, EnrichedLead, ScoredLead, Timestamp, samples};
use leadflow_generate::LeadGenerator;
use leadflow_rescore::state::{STATE_HANDOFF, STATE_TIER, STATE_VERSION, scheduled};
use leadflow_rescore::{Book, RescoreSettings};
use leadflow_score::{DEFAULT_MAX_FACTORS, Model, assess, score_with};

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn main() {
    let n: usize = std::env::var("RESCORE_BENCH_LEADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let Ok(model) = Model::embedded("lead-priority") else {
        eprintln!("no embedded model");
        return;
    };
    let Ok(codec) = Codec::single_object() else {
        eprintln!("no codec");
        return;
    };
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    let settings = RescoreSettings {
        max_per_round: usize::MAX,
        ..RescoreSettings::default()
    };
    let start = Timestamp(1_765_000_000_000);
    let template = samples::enriched_lead();

    // the stored states, encoded as on leads.state
    let t = Instant::now();
    let mut generator = LeadGenerator::new(7, start);
    let mut encoded: Vec<Vec<u8>> = Vec::with_capacity(n);
    let mut latest = start;
    let mut activities = 0usize;
    rt.block_on(async {
        for i in 0..n {
            let event = generator.next_lead().event;
            latest = Timestamp(latest.0.max(event.occurred_at.0));
            activities += event.activities.len();
            let mut enriched = EnrichedLead {
                account_key: event
                    .company
                    .domain
                    .clone()
                    .unwrap_or_else(|| event.lead_id.clone()),
                lead: event,
                ..template.clone()
            };
            enriched.lead.lead_id = format!("bench-{i}");
            let mut s: ScoredLead = score_with(enriched, &model, DEFAULT_MAX_FACTORS);
            let attributes = &mut s.enriched.lead.attributes;
            attributes.insert(STATE_TIER.into(), "NURTURE".into());
            attributes.insert(STATE_HANDOFF.into(), "NONE".into());
            attributes.insert(STATE_VERSION.into(), "1".into());
            if let Ok(bytes) = codec.encode("leads.state", &s).await {
                encoded.push(bytes);
            }
        }
    });
    let bytes: usize = encoded.iter().map(Vec::len).sum();
    println!(
        "generated {} stored leads in {:.1} s: {:.0} encoded bytes/lead, {:.1} activities/lead",
        encoded.len(),
        t.elapsed().as_secs_f64(),
        bytes as f64 / encoded.len().max(1) as f64,
        activities as f64 / n.max(1) as f64
    );

    // decode + rebuild the book (merge into held state)
    let rss0 = rss_bytes();
    let mut book = Book::default();
    let t = Instant::now();
    let mut decode_s = 0.0;
    rt.block_on(async {
        for b in &encoded {
            let d = Instant::now();
            let Ok(record) = codec.decode::<ScoredLead>(b).await else {
                continue;
            };
            decode_s += d.elapsed().as_secs_f64();
            book.side(&record);
        }
    });
    let rebuild_s = t.elapsed().as_secs_f64();
    let rss1 = rss_bytes();
    drop(encoded);

    // the scheduled round over every held lead, a week after the newest
    let now = Timestamp(latest.0 + settings.interval_ms());
    let t = Instant::now();
    let due = book.due(now, &settings, |_| true);
    let due_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut reentered = 0usize;
    for stored in &due {
        if scheduled(stored, now, &model, &settings).is_some() {
            reentered += 1;
        }
    }
    let rescore_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut sum = 0i64;
    for stored in &due {
        sum += i64::from(assess(&stored.lead, &model, 0).score);
    }
    let assess_s = t.elapsed().as_secs_f64();
    let held = book.nurtured().max(1) as f64;
    let total = rebuild_s + due_s + rescore_s;
    println!(
        "decode {:.0} leads/s ({:.2} s); rebuild incl. decode {:.0} leads/s ({:.2} s); due scan {:.2} s",
        held / decode_s,
        decode_s,
        held / rebuild_s,
        rebuild_s,
        due_s
    );
    println!(
        "scheduled re-score {:.0} leads/s ({:.2} s, {reentered} of {} reach a human band); pure assess {:.0} leads/s ({:.0}% of the re-score; checksum {sum})",
        due.len() as f64 / rescore_s,
        rescore_s,
        due.len(),
        due.len() as f64 / assess_s,
        100.0 * assess_s / rescore_s
    );
    println!(
        "end to end (decode + rebuild + due + re-score): {:.0} leads/s ({:.2} s for {} leads)",
        held / total,
        total,
        book.nurtured()
    );
    println!(
        "memory: {:.0} resident bytes per held lead ({} MB for {} leads)",
        rss1.saturating_sub(rss0) as f64 / held,
        rss1.saturating_sub(rss0) / 1_000_000,
        book.nurtured()
    );
}
