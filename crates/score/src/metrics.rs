//! Prometheus metrics of the score stage (default registry, served by the runtime's `/metrics`).

use std::sync::LazyLock;

use prometheus::{Histogram, HistogramOpts, IntCounterVec, Opts};

/// The stage's metrics; cheap to clone (handles to shared counters).
#[derive(Clone, Debug)]
pub struct ScoreMetrics {
    /// `leadflow_score_model_updates_total{result="applied|unchanged|ignored|rejected"}`.
    pub model_updates: IntCounterVec,
    /// `leadflow_score_priority_score_points`: distribution of emitted scores.
    pub scores: Histogram,
}

static GLOBAL: LazyLock<Result<ScoreMetrics, String>> = LazyLock::new(|| {
    let m = ScoreMetrics::unregistered().map_err(|e| e.to_string())?;
    let registry = prometheus::default_registry();
    registry
        .register(Box::new(m.model_updates.clone()))
        .and_then(|()| registry.register(Box::new(m.scores.clone())))
        .map_err(|e| e.to_string())?;
    Ok(m)
});

impl ScoreMetrics {
    /// The process-wide metrics, registered in the default registry on first use.
    pub fn global() -> Result<Self, String> {
        GLOBAL.clone()
    }

    /// Metrics registered nowhere (tests).
    pub fn unregistered() -> Result<Self, prometheus::Error> {
        let model_updates = IntCounterVec::new(
            Opts::new(
                "leadflow_score_model_updates_total",
                "Model parameter versions seen on the model topic, by result",
            ),
            &["result"],
        )?;
        let scores = Histogram::with_opts(
            HistogramOpts::new(
                "leadflow_score_priority_score_points",
                "Lead Priority Scores emitted",
            )
            .buckets(vec![
                10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 85.0, 90.0, 100.0,
            ]),
        )?;
        Ok(Self {
            model_updates,
            scores,
        })
    }

    /// How many model updates ended with `result`.
    pub fn model_updates(&self, result: &str) -> u64 {
        self.model_updates.with_label_values(&[result]).get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_build_and_register() {
        let m = ScoreMetrics::unregistered().unwrap();
        m.model_updates.with_label_values(&["applied"]).inc();
        assert_eq!(m.model_updates("applied"), 1);
        let g = ScoreMetrics::global().unwrap();
        g.scores.observe(91.0);
        assert!(g.scores.get_sample_count() >= 1);
        let names: Vec<_> = prometheus::default_registry()
            .gather()
            .into_iter()
            .map(|f| f.name().to_owned())
            .collect();
        assert!(
            names
                .iter()
                .any(|n| n == "leadflow_score_priority_score_points")
        );
    }
}
