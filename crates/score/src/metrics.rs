//! Prometheus metrics of the score stage, registered through the runtime's [`StageRegistry`] (served
//! by the runtime's `/metrics`).

use leadflow_runtime::StageRegistry;
use prometheus::{Histogram, IntCounterVec};

/// The stage's metrics; cheap to clone (handles to shared counters).
#[derive(Clone, Debug)]
pub struct ScoreMetrics {
    /// `leadflow_score_model_updates_total{result="applied|unchanged|ignored|rejected"}`.
    pub model_updates: IntCounterVec,
    /// `leadflow_score_priority_score_points`: distribution of emitted scores.
    pub scores: Histogram,
}

impl ScoreMetrics {
    /// Registers the metrics in the stage's registry; a registration error is returned, not dropped.
    pub fn register(registry: &StageRegistry) -> Result<Self, prometheus::Error> {
        Ok(Self {
            model_updates: registry.counter_vec(
                "model_updates_total",
                "Model parameter versions seen on the model topic, by result",
                &["result"],
            )?,
            scores: registry.histogram(
                "priority_score_points",
                "Lead Priority Scores emitted",
                vec![
                    10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 85.0, 90.0, 100.0,
                ],
            )?,
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
    fn metrics_register_in_the_stage_registry() {
        let registry = StageRegistry::new("score");
        let m = ScoreMetrics::register(&registry).unwrap();
        m.model_updates.with_label_values(&["applied"]).inc();
        assert_eq!(m.model_updates("applied"), 1);
        m.scores.observe(91.0);
        let text = registry.render();
        assert!(
            text.contains("leadflow_score_priority_score_points_count 1"),
            "{text}"
        );
        assert!(
            ScoreMetrics::register(&registry).is_err(),
            "a duplicate registration is reported"
        );
    }
}
