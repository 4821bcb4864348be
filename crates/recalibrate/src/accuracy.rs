//! Scoring accuracy: predicted against actual conversion per score decile, and whether each
//! decile is within the 15 % tolerance. One implementation for the quality report
//! (`leadflow quality report`) and this stage's `leadflow_recalibrate_calibration_*` gauges; the
//! rules are Q8 and Q9 of `crates/cli/src/quality/RULES.md`.

use serde::Serialize;

/// Q9: a decile is within tolerance when |observed − predicted| ≤ 0.15 (percentage points).
pub const TOLERANCE: f64 = 0.15;
/// Q9: a decile is judged only with at least this many labelled leads.
pub const MIN_LABELLED: usize = 10;

/// One score decile's figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DecileAccuracy {
    /// 0 for scores 0–9, …, 9 for scores 90–100 (Q9).
    pub decile: usize,
    pub lower: i32,
    pub upper: i32,
    pub labelled: usize,
    pub converted: usize,
    /// Mean of score / 100 over the decile's labelled leads (Q9).
    pub predicted: Option<f64>,
    /// converted / labelled.
    pub observed: Option<f64>,
    /// |observed − predicted|.
    pub gap: Option<f64>,
    /// Labelled ≥ [`MIN_LABELLED`].
    pub judged: bool,
    /// gap ≤ [`TOLERANCE`], for a judged decile.
    pub within: Option<bool>,
}

/// The decile of a score (Q9): scores are clamped to 0–100, and 100 falls in the top decile.
pub fn decile_of(score: i32) -> usize {
    usize::try_from(score.clamp(0, 100) / 10)
        .unwrap_or(0)
        .min(9)
}

/// The predicted conversion of a score (Q9): the Lead Priority Score read as a percentage.
pub fn predicted_of(score: i32) -> f64 {
    f64::from(score.clamp(0, 100)) / 100.0
}

/// All ten deciles (empty ones with no figures) of labelled leads `(score, converted)`.
pub fn by_decile(rows: &[(i32, bool)]) -> Vec<DecileAccuracy> {
    let mut acc = [(0usize, 0usize, 0.0f64); 10];
    for (score, converted) in rows {
        let a = &mut acc[decile_of(*score)];
        a.0 += 1;
        a.1 += usize::from(*converted);
        a.2 += predicted_of(*score);
    }
    acc.iter()
        .enumerate()
        .map(|(d, (n, c, p))| {
            let predicted = (*n > 0).then(|| p / *n as f64);
            let observed = (*n > 0).then(|| *c as f64 / *n as f64);
            let gap = predicted.zip(observed).map(|(p, o)| (o - p).abs());
            let judged = *n >= MIN_LABELLED;
            let lower = i32::try_from(d).unwrap_or(0) * 10;
            DecileAccuracy {
                decile: d,
                lower,
                upper: if d == 9 { 100 } else { lower + 9 },
                labelled: *n,
                converted: *c,
                predicted,
                observed,
                gap,
                judged,
                // a tiny epsilon so a gap of exactly 0.15 computed in floating point passes
                within: judged.then(|| gap.is_some_and(|g| g <= TOLERANCE + 1e-9)),
            }
        })
        .collect()
}

/// The largest gap of a judged decile, if any was judged.
pub fn max_gap(deciles: &[DecileAccuracy]) -> Option<f64> {
    deciles
        .iter()
        .filter(|d| d.judged)
        .filter_map(|d| d.gap)
        .reduce(f64::max)
}

/// Q9: within tolerance when every judged decile is; `None` when no decile was judged.
pub fn within(deciles: &[DecileAccuracy]) -> Option<bool> {
    let judged: Vec<bool> = deciles.iter().filter_map(|d| d.within).collect();
    (!judged.is_empty()).then(|| judged.iter().all(|w| *w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deciles_and_the_tolerance() {
        assert_eq!(decile_of(0), 0);
        assert_eq!(decile_of(89), 8);
        assert_eq!(decile_of(90), 9);
        assert_eq!(decile_of(100), 9);
        assert_eq!(decile_of(130), 9);
        assert_eq!(decile_of(-4), 0);
        // decile 8: ten leads scored 80, 5 converted: predicted 0.80, observed 0.50, gap 0.30
        let mut rows: Vec<(i32, bool)> = (0..10).map(|i| (80, i < 5)).collect();
        // decile 2: ten leads scored 25, 1 converted: predicted 0.25, observed 0.10, gap 0.15 (within)
        rows.extend((0..10).map(|i| (25, i < 1)));
        // decile 5: nine leads, not judged
        rows.extend((0..9).map(|_| (55, false)));
        let d = by_decile(&rows);
        assert_eq!(d.len(), 10);
        assert_eq!(d[8].labelled, 10);
        assert!((d[8].gap.unwrap() - 0.30).abs() < 1e-9);
        assert_eq!(d[8].within, Some(false));
        assert_eq!(d[2].within, Some(true));
        assert!(!d[5].judged);
        assert_eq!(d[5].within, None);
        assert_eq!(d[0].predicted, None);
        assert!((max_gap(&d).unwrap() - 0.30).abs() < 1e-9);
        assert_eq!(within(&d), Some(false));
        assert_eq!(within(&by_decile(&[(55, true)])), None);
    }
}
