//! Holdout figures (RULES.md R6): AUC, Brier score, expected calibration error, calibration per
//! decile, tier shift.

/// Area under the ROC curve (Mann–Whitney, ties count ½); 0.5 when one class is missing.
pub fn auc(scores: &[f64], labels: &[bool]) -> f64 {
    let mut rows: Vec<(f64, bool)> = scores.iter().copied().zip(labels.iter().copied()).collect();
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let pos = rows.iter().filter(|r| r.1).count() as f64;
    let neg = rows.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return 0.5;
    }
    // average ranks over ties
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < rows.len() {
        let mut j = i;
        while j < rows.len() && rows[j].0 == rows[i].0 {
            j += 1;
        }
        let avg_rank = (i + j + 1) as f64 / 2.0; // ranks i+1..=j
        rank_sum_pos += avg_rank * rows[i..j].iter().filter(|r| r.1).count() as f64;
        i = j;
    }
    (rank_sum_pos - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

/// Mean squared error of the probabilities.
pub fn brier(probs: &[f64], labels: &[bool]) -> f64 {
    if probs.is_empty() {
        return 0.0;
    }
    probs
        .iter()
        .zip(labels)
        .map(|(p, y)| (p - f64::from(u8::from(*y))).powi(2))
        .sum::<f64>()
        / probs.len() as f64
}

/// One calibration bin.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Bin {
    pub lower: f64,
    pub upper: f64,
    pub count: usize,
    pub mean_predicted: f64,
    pub observed_rate: f64,
}

/// Calibration in `bins` equal-width probability bins (empty bins left out).
pub fn calibration(probs: &[f64], labels: &[bool], bins: usize) -> Vec<Bin> {
    let bins = bins.max(1);
    let mut acc = vec![(0usize, 0.0f64, 0usize); bins];
    for (p, y) in probs.iter().zip(labels) {
        let b = ((p * bins as f64) as usize).min(bins - 1);
        acc[b].0 += 1;
        acc[b].1 += p;
        acc[b].2 += usize::from(*y);
    }
    acc.iter()
        .enumerate()
        .filter(|(_, a)| a.0 > 0)
        .map(|(b, a)| Bin {
            lower: b as f64 / bins as f64,
            upper: (b + 1) as f64 / bins as f64,
            count: a.0,
            mean_predicted: a.1 / a.0 as f64,
            observed_rate: a.2 as f64 / a.0 as f64,
        })
        .collect()
}

/// Expected calibration error over 10 equal-width bins: Σ (n_b / n) · |observed − predicted|.
pub fn ece(probs: &[f64], labels: &[bool]) -> f64 {
    let n = probs.len() as f64;
    if n == 0.0 {
        return 0.0;
    }
    calibration(probs, labels, 10)
        .iter()
        .map(|b| b.count as f64 / n * (b.observed_rate - b.mean_predicted).abs())
        .sum()
}

/// The tier band of a score: index into descending `boundaries` (0 = top band).
pub fn band(score: i32, boundaries: &[i32]) -> usize {
    boundaries
        .iter()
        .position(|b| score >= *b)
        .unwrap_or(boundaries.len())
}

/// Share of leads whose band differs between two scorings.
pub fn tier_shift(old: &[i32], new: &[i32], boundaries: &[i32]) -> f64 {
    if old.is_empty() {
        return 0.0;
    }
    old.iter()
        .zip(new)
        .filter(|(a, b)| band(**a, boundaries) != band(**b, boundaries))
        .count() as f64
        / old.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_of_perfect_random_and_inverted_rankings() {
        let labels = [false, false, true, true];
        assert_eq!(auc(&[1.0, 2.0, 3.0, 4.0], &labels), 1.0);
        assert_eq!(auc(&[4.0, 3.0, 2.0, 1.0], &labels), 0.0);
        assert_eq!(auc(&[1.0, 1.0, 1.0, 1.0], &labels), 0.5);
        assert_eq!(auc(&[1.0, 3.0, 2.0, 4.0], &labels), 0.75);
        assert_eq!(auc(&[1.0], &[true]), 0.5);
    }

    #[test]
    fn brier_and_ece() {
        assert_eq!(brier(&[1.0, 0.0], &[true, false]), 0.0);
        assert_eq!(brier(&[0.5, 0.5], &[true, false]), 0.25);
        // perfectly calibrated bins: 0.25 predicted, 1 in 4 converted
        let probs = [0.25; 8];
        let labels = [true, false, false, false, true, false, false, false];
        assert!(ece(&probs, &labels) < 1e-12);
        // over-confident: 0.95 predicted, half converted
        let probs = [0.95; 4];
        let labels = [true, false, true, false];
        assert!((ece(&probs, &labels) - 0.45).abs() < 1e-9);
    }

    #[test]
    fn bands_and_shift() {
        let b = [85, 70, 50];
        assert_eq!(band(90, &b), 0);
        assert_eq!(band(85, &b), 0);
        assert_eq!(band(84, &b), 1);
        assert_eq!(band(50, &b), 2);
        assert_eq!(band(10, &b), 3);
        assert_eq!(tier_shift(&[90, 60, 10, 72], &[86, 72, 10, 69], &b), 0.5);
    }
}
