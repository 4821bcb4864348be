//! The locator's cost per lead: books `BOOK_BENCH_LEADS` leads (default 1,000,000) with one record
//! on `leads.raw` and one on `leads.scored` each (keys as the pipeline's: 36-character UUIDs), and
//! prints the CPU per record booked and the memory per lead (resident set growth, with the
//! services' allocator, and the book's own estimate). Then 1,000,000 lookups.
//!
//! cargo bench -p leadflow-locator --bench book
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

leadflow_runtime::service_allocator!();

use std::time::Instant;

use leadflow_locator::api::Shared;
use leadflow_locator::book::{Book, BookLimits};

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn main() {
    let leads: usize = std::env::var("BOOK_BENCH_LEADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let keys: Vec<String> = (0..leads)
        .map(|i| format!("{:08x}-0000-4000-8000-{:012x}", i * 7919, i))
        .collect();
    let rss0 = rss_bytes();
    let mut book = Book::new(
        vec!["leads.raw".into(), "leads.scored".into()],
        BookLimits::default(),
    );
    let t = Instant::now();
    for (i, k) in keys.iter().enumerate() {
        let offset = i64::try_from(i / 6).unwrap_or(0);
        let partition = i32::try_from(i % 6).unwrap_or(0);
        book.observe(0, k.as_bytes(), partition, offset, 1_700_000_000_000);
        book.observe(1, k.as_bytes(), partition, offset, 1_700_000_000_070);
    }
    let booked = t.elapsed();
    let rss = rss_bytes().saturating_sub(rss0);
    println!(
        "booked {leads} leads x 2 records in {:.0} ms: {:.3} µs per record; resident +{} MB = {:.0} B per lead (estimate {:.0} B)",
        booked.as_secs_f64() * 1e3,
        booked.as_secs_f64() * 1e6 / (2 * leads) as f64,
        rss / 1_000_000,
        rss as f64 / leads as f64,
        book.bytes() as f64 / leads as f64,
    );
    let shared =
        Shared::new(book, leadflow_runtime::StageRegistry::new("locator")).expect("metrics");
    let t = Instant::now();
    let mut spots = 0;
    for k in keys
        .iter()
        .step_by(1.max(leads / 1_000_000))
        .take(1_000_000)
    {
        spots += shared.locate(k).spots.len();
    }
    let n = keys.len().min(1_000_000);
    println!(
        "{n} lookups ({spots} spots) in {:.0} ms: {:.2} µs per lookup",
        t.elapsed().as_secs_f64() * 1e3,
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
}
