//! I4: what the idempotency memory accounts per entry (what `idempotency_max_bytes` bounds) covers
//! what the process really grows by, with the services' allocator. One test in its own binary: no
//! other test allocates meanwhile.

#![allow(clippy::unwrap_used)]

leadflow_runtime::service_allocator!();

use leadflow_ingest::idempotency::{Claim, IdempotencyStore, Stored, event_key};

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[test]
fn the_accounted_bytes_cover_the_resident_growth() {
    let n = 300_000;
    let before = rss_bytes();
    let mut store = IdempotencyStore::new(86_400, usize::MAX, ["website-forms"]);
    for i in 0..n {
        let id = format!("{i:08x}-0000-4000-8000-{:012x}", i * 7919);
        let key = event_key("website-forms", &id);
        if let Claim::Fresh(_) = store.claim(&key, [7; 32], 0) {
            store.complete(
                &key,
                [7; 32],
                Stored {
                    event_ids: vec![id],
                },
                0,
            );
        }
    }
    let grown = rss_bytes().saturating_sub(before);
    assert_eq!(store.len(), n);
    eprintln!(
        "resident +{grown} bytes ({} per entry), accounted {} ({} per entry)",
        grown / n,
        store.bytes(),
        store.bytes() / n
    );
    assert!(
        grown <= store.bytes(),
        "resident +{grown} bytes ({} per entry), accounted {} ({} per entry)",
        grown / n,
        store.bytes(),
        store.bytes() / n
    );
}
