//! How the latency harnesses (`pipeline-latency`, `notify-latency`) report a set of latencies.

/// `p50 X ms, p95 Y ms, p99 Z ms, max W ms` of `sorted_ms` (ascending; -1 for every figure when empty).
pub fn summary(sorted_ms: &[i64]) -> String {
    let pct = |p: f64| {
        sorted_ms
            .get(((sorted_ms.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(-1)
    };
    format!(
        "p50 {} ms, p95 {} ms, p99 {} ms, max {} ms",
        pct(0.5),
        pct(0.95),
        pct(0.99),
        sorted_ms.last().copied().unwrap_or(-1)
    )
}
