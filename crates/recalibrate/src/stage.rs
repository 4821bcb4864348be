//! The `Stage` shell: consumes `leads.outcomes` (its consumer group), checks each outcome and counts
//! it. The join state itself is rebuilt and followed by the timer task ([`crate::timer`]) from the
//! side inputs, so a restart loses nothing.

use leadflow_events::{ErrorKind, LeadOutcome, TopicRole};
use std::sync::{Arc, Mutex};

use leadflow_runtime::{
    Clock, Context, Output, RuntimeError, ServiceConfig, Stage, StageError, StageRegistry,
};

use crate::engine::Engine;
use crate::metrics::RecalibrateMetrics;
use crate::settings::RecalibrateSettings;
use crate::timer::{TimerGuard, spawn_timer};

pub struct RecalibrateStage {
    metrics: RecalibrateMetrics,
    _timer: Option<TimerGuard>,
}

impl RecalibrateStage {
    pub fn new(metrics: RecalibrateMetrics, timer: Option<TimerGuard>) -> Self {
        Self {
            metrics,
            _timer: timer,
        }
    }

    /// The service as `leadflow-recalibrate` runs it: the engine, its metrics in `registry`, and
    /// the timer task on `clock` (must be called inside the tokio runtime).
    pub fn start(
        cfg: &ServiceConfig<RecalibrateSettings>,
        registry: &StageRegistry,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, RuntimeError> {
        let engine = Engine::new(cfg.stage.clone()).map_err(|e| RuntimeError::Stage {
            stage: crate::SERVICE_NAME,
            source: Box::new(e),
        })?;
        let metrics = RecalibrateMetrics::register(registry)
            .map_err(|e| RuntimeError::Metrics(Box::new(e)))?;
        let timer = spawn_timer(cfg, Arc::new(Mutex::new(engine)), metrics.clone(), clock)?;
        Ok(Self::new(metrics, Some(timer)))
    }

    pub fn metrics(&self) -> &RecalibrateMetrics {
        &self.metrics
    }
}

/// Why an outcome cannot be learnt from (it goes to the exceptions topic).
pub fn check(outcome: &LeadOutcome) -> Result<(), String> {
    if outcome.outcome_id.trim().is_empty() {
        return Err("outcome_id is empty".into());
    }
    if outcome.lead_id.trim().is_empty() {
        return Err("lead_id is empty".into());
    }
    if let Some(a) = outcome.amount {
        if !a.is_finite() || a < 0.0 {
            return Err(format!("amount must be a finite number >= 0, got {a}"));
        }
    }
    Ok(())
}

impl Stage for RecalibrateStage {
    type Input = LeadOutcome;
    const NAME: &'static str = crate::SERVICE_NAME;
    const INPUT: TopicRole = TopicRole::Outcomes;

    fn partition_concurrency(&self) -> usize {
        4
    }

    async fn process(&self, input: LeadOutcome, _ctx: &Context) -> Result<Vec<Output>, StageError> {
        check(&input).map_err(|r| StageError::poison(ErrorKind::Validation, r))?;
        self.metrics
            .outcomes
            .with_label_values(&[input.stage.symbol()])
            .inc();
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use leadflow_events::{Timestamp, samples};
    use leadflow_runtime::StageRegistry;

    use super::*;

    #[tokio::test]
    async fn counts_good_outcomes_and_refuses_bad_ones() {
        let registry = StageRegistry::new(RecalibrateStage::NAME);
        let stage = RecalibrateStage::new(RecalibrateMetrics::register(&registry).unwrap(), None);
        let ctx = Context::for_test(Timestamp(0));
        assert!(
            stage
                .process(samples::lead_outcome(), &ctx)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            stage
                .metrics()
                .outcomes
                .with_label_values(&["CLOSED_WON"])
                .get(),
            1
        );
        let mut bad = samples::lead_outcome();
        bad.amount = Some(f64::NAN);
        let e = stage.process(bad, &ctx).await.unwrap_err();
        assert!(
            matches!(e, StageError::Poison { ref reason, .. } if reason.contains("amount")),
            "{e:?}"
        );
        let mut bad = samples::lead_outcome();
        bad.lead_id = " ".into();
        assert!(stage.process(bad, &ctx).await.is_err());
    }
}
