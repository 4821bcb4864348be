//! Timing helpers shared by the micro-benchmark binaries.

use std::time::Instant;

/// Fastest of `rounds` rounds of `n` calls, in µs per call (the least disturbed by other load).
pub fn best_us(rounds: usize, n: usize, mut f: impl FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..rounds {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        best = best.min(t.elapsed().as_secs_f64() * 1e6 / n as f64);
    }
    best
}
