//! Memory per idempotency entry, measured: the process's resident set grows by how much for each
//! event id ingest remembers, next to what the store accounts for it (`idempotency_max_bytes` bounds
//! the accounted bytes). `cargo bench -p leadflow-ingest --bench idempotency_memory`; the figure is
//! quoted in `crates/ingest/RULES.md` (I4) and next to the memory limit in `deploy/k8s/base/ingest.yaml`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

leadflow_runtime::service_allocator!();

use leadflow_ingest::idempotency::{Claim, IdempotencyStore, Stored, event_key};

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn main() {
    for n in [100_000usize, 1_000_000] {
        let before = rss_bytes();
        let mut store = IdempotencyStore::new(86_400, usize::MAX, ["website-forms"]);
        for i in 0..n {
            // a typical event id: a UUID
            let id = format!("{:08x}-0000-4000-8000-{:012x}", i, i * 7919);
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
        println!(
            "{n} entries: resident +{} MiB = {} bytes/entry; accounted {} bytes/entry",
            grown >> 20,
            grown / n,
            store.bytes() / n
        );
        drop(store);
    }
}
