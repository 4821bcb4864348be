//! The fit: L2-regularised logistic regression over the score's features (RULES.md R5), with
//! linfa-logistic (L-BFGS).

use linfa::Dataset;
use linfa::traits::Fit;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};

use crate::features::Features;

/// Fitted log-odds: `logit p = intercept + Σ coefficient_j · x_j`.
#[derive(Clone, Debug, PartialEq)]
pub struct Logistic {
    pub intercept: f64,
    pub coefficients: Vec<f64>,
}

impl Logistic {
    /// The log-odds of a row.
    pub fn logit(&self, features: &Features) -> f64 {
        self.intercept
            + features
                .iter()
                .map(|&(i, x)| {
                    self.coefficients
                        .get(usize::from(i))
                        .copied()
                        .unwrap_or(0.0)
                        * f64::from(x)
                })
                .sum::<f64>()
    }

    pub fn probability(&self, features: &Features) -> f64 {
        sigmoid(self.logit(features))
    }
}

pub fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Why a fit could not be made.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error(
        "needs both converted and not converted leads to learn from ({positives} of {rows} converted)"
    )]
    OneClass { rows: usize, positives: usize },
    #[error("the optimiser failed: {0}")]
    Solver(String),
}

/// Fits `rows` (features over `dims` codes, label) with L2 weight `l2` (on the coefficients; the
/// cost is Σ log-loss + l2/2 · |β|²).
pub fn fit(
    rows: &[(&Features, bool)],
    dims: usize,
    l2: f64,
    max_iterations: u64,
) -> Result<Logistic, FitError> {
    let positives = rows.iter().filter(|(_, y)| *y).count();
    if positives == 0 || positives == rows.len() {
        return Err(FitError::OneClass {
            rows: rows.len(),
            positives,
        });
    }
    let mut x = Array2::<f64>::zeros((rows.len(), dims));
    for (r, (features, _)) in rows.iter().enumerate() {
        for &(i, v) in features.iter() {
            if let Some(cell) = x.get_mut((r, usize::from(i))) {
                *cell = f64::from(v);
            }
        }
    }
    let y: Array1<bool> = rows.iter().map(|(_, y)| *y).collect();
    let data = Dataset::new(x, y);
    let fitted = LogisticRegression::default()
        .alpha(l2)
        .with_intercept(true)
        .max_iterations(max_iterations)
        .gradient_tolerance(1e-5)
        .fit(&data)
        .map_err(|e| FitError::Solver(e.to_string()))?;
    // linfa's "positive" class is the larger one; turn the log-odds towards `true`
    let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
    Ok(Logistic {
        intercept: sign * fitted.intercept(),
        coefficients: fitted.params().iter().map(|b| sign * b).collect(),
    })
}

/// A one-feature logistic fit of label on score (Platt scaling): how a 0–100 score maps to a
/// probability on the training window.
pub fn platt(scores: &[f64], labels: &[bool]) -> Result<(f64, f64), FitError> {
    let rows: Vec<(Features, bool)> = scores
        .iter()
        .zip(labels)
        .map(|(s, y)| (vec![(0u16, (*s / 100.0) as f32)], *y))
        .collect();
    let refs: Vec<(&Features, bool)> = rows.iter().map(|(f, y)| (f, *y)).collect();
    let l = fit(&refs, 1, 1e-3, 200)?;
    Ok((
        l.intercept,
        l.coefficients.first().copied().unwrap_or(0.0) / 100.0,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random stream (tests only).
    fn lcg(state: &mut u64) -> f64 {
        *state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((*state >> 11) as f64) / ((1u64 << 53) as f64)
    }

    #[test]
    fn recovers_known_coefficients() {
        // logit p = -1 + 2 x0 - 1.5 x1, x binary
        let mut s = 7u64;
        let rows: Vec<(Features, bool)> = (0..6000)
            .map(|_| {
                let x0 = lcg(&mut s) < 0.5;
                let x1 = lcg(&mut s) < 0.5;
                let z = -1.0 + 2.0 * f64::from(u8::from(x0)) - 1.5 * f64::from(u8::from(x1));
                let y = lcg(&mut s) < sigmoid(z);
                let mut f = Vec::new();
                if x0 {
                    f.push((0, 1.0));
                }
                if x1 {
                    f.push((1, 1.0));
                }
                (f, y)
            })
            .collect();
        let refs: Vec<(&Features, bool)> = rows.iter().map(|(f, y)| (f, *y)).collect();
        let l = fit(&refs, 2, 0.1, 200).unwrap();
        assert!((l.intercept + 1.0).abs() < 0.2, "{l:?}");
        assert!((l.coefficients[0] - 2.0).abs() < 0.2, "{l:?}");
        assert!((l.coefficients[1] + 1.5).abs() < 0.2, "{l:?}");
    }

    #[test]
    fn sign_is_right_whichever_class_is_larger() {
        // mostly converted: linfa's positive class is `true`; mostly not: `false`
        for base in [2.0, -2.0] {
            let rows: Vec<(Features, bool)> = (0..400)
                .map(|i| {
                    let x = i % 2 == 0;
                    let y = if x { i % 10 != 0 } else { i % 10 == 1 };
                    let y = if base > 0.0 {
                        y || i % 3 == 0
                    } else {
                        y && i % 3 != 0
                    };
                    (if x { vec![(0, 1.0)] } else { vec![] }, y)
                })
                .collect();
            let refs: Vec<(&Features, bool)> = rows.iter().map(|(f, y)| (f, *y)).collect();
            let l = fit(&refs, 1, 0.1, 200).unwrap();
            assert!(l.coefficients[0] > 1.0, "base {base}: {l:?}");
        }
    }

    #[test]
    fn regularisation_shrinks() {
        let rows: Vec<(Features, bool)> = (0..200)
            .map(|i| (if i % 2 == 0 { vec![(0, 1.0)] } else { vec![] }, i % 4 == 0))
            .collect();
        let refs: Vec<(&Features, bool)> = rows.iter().map(|(f, y)| (f, *y)).collect();
        let loose = fit(&refs, 1, 0.01, 200).unwrap();
        let tight = fit(&refs, 1, 100.0, 200).unwrap();
        assert!(tight.coefficients[0].abs() < loose.coefficients[0].abs() / 2.0);
    }

    #[test]
    fn one_class_is_an_error() {
        let f: Features = vec![(0, 1.0)];
        let rows = vec![(&f, true), (&f, true)];
        assert!(matches!(
            fit(&rows, 1, 1.0, 50),
            Err(FitError::OneClass { .. })
        ));
    }
}
