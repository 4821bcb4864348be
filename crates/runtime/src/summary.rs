//! Counts of one run: what the partition tasks count while running, and what `run_stage` returns.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counts of one run, returned at a clean stop.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Inputs whose processing started (inputs fetched but still queued at a stop or a revoke are
    /// not counted: they are redelivered).
    pub consumed: u64,
    /// Output records acknowledged by the broker.
    pub produced: u64,
    /// Exception records acknowledged by the broker.
    pub exceptions: u64,
}

/// The same counts, shared by the partition tasks.
#[derive(Debug, Default)]
pub(crate) struct SummaryCounters {
    consumed: AtomicU64,
    produced: AtomicU64,
    exceptions: AtomicU64,
}

impl SummaryCounters {
    pub(crate) fn consumed(&self) {
        self.consumed.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn produced(&self) {
        self.produced.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn exception(&self) {
        self.exceptions.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> RunSummary {
        RunSummary {
            consumed: self.consumed.load(Ordering::Relaxed),
            produced: self.produced.load(Ordering::Relaxed),
            exceptions: self.exceptions.load(Ordering::Relaxed),
        }
    }
}
