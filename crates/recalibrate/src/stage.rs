//! The `Stage` shell on the runtime's timers: consumes `leads.outcomes` (its consumer group decides
//! which instance reports which unknown lead and which one fits), checks each outcome and counts
//! it. The join state is rebuilt and followed from the side inputs (`model.params`,
//! `model.history` from the beginning, `leads.scored` and `leads.outcomes` from `now − retention`),
//! so a restart loses nothing; every `tick_ms` the runtime calls [`Stage::on_timer`], which reports
//! overdue unknown-lead outcomes, forgets what left the retention window and runs a recalibration
//! attempt when one is due (RULES.md R4–R7).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use leadflow_events::{
    AnyEvent, ErrorKind, ExceptionRecord, LeadOutcome, ModelStatus, Timestamp, TopicRole,
};
use leadflow_runtime::{
    Clock, Context, Output, OwnedKeys, RuntimeError, ServiceConfig, SideInput, SideStart, Stage,
    StageError, StageRegistry,
};

use crate::engine::{Due, Engine, Verdict};
use crate::metrics::RecalibrateMetrics;
use crate::settings::RecalibrateSettings;

/// The input partition whose owner runs the attempts (one fit for the whole model, R7).
const FIT_PARTITION: i32 = 0;

pub struct RecalibrateStage {
    engine: Arc<Mutex<Engine>>,
    metrics: RecalibrateMetrics,
    settings: RecalibrateSettings,
    clock: Arc<dyn Clock>,
    /// Where exceptions about outcomes say they came from, and whom they are for.
    outcomes_topic: String,
    exception_owner: String,
    exception_due_hours: u32,
}

/// The side inputs the state is rebuilt from and follows.
pub fn state_inputs(settings: &RecalibrateSettings) -> Vec<SideInput> {
    let window = SideStart::Since(Duration::from_secs(
        settings.retention_days.saturating_mul(86_400),
    ));
    vec![
        SideInput {
            role: TopicRole::ModelParams,
            start: SideStart::Beginning,
        },
        SideInput {
            role: TopicRole::ModelHistory,
            start: SideStart::Beginning,
        },
        SideInput {
            role: TopicRole::Scored,
            start: window,
        },
        SideInput {
            role: TopicRole::Outcomes,
            start: window,
        },
    ]
}

impl RecalibrateStage {
    /// The service as `leadflow-recalibrate` runs it: the engine and its metrics in `registry`;
    /// `clock` dates the outcomes the state reads.
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
        Ok(Self {
            engine: Arc::new(Mutex::new(engine)),
            metrics,
            settings: cfg.stage.clone(),
            clock,
            outcomes_topic: cfg.topics.name(TopicRole::Outcomes).to_owned(),
            exception_owner: cfg.exceptions.owner.clone(),
            exception_due_hours: cfg.exceptions.due_in_hours,
        })
    }

    pub fn metrics(&self) -> &RecalibrateMetrics {
        &self.metrics
    }

    fn with_engine<T>(&self, f: impl FnOnce(&mut Engine) -> T) -> Result<T, StageError> {
        let mut guard = self
            .engine
            .lock()
            .map_err(|_| StageError::fatal("the recalibrate state lock is poisoned"))?;
        Ok(f(&mut guard))
    }

    /// The exception record of an outcome whose lead stayed unknown (R4).
    fn unknown_lead(&self, outcome: &LeadOutcome, now: Timestamp) -> ExceptionRecord {
        let settings = &self.settings;
        ExceptionRecord {
            exception_id: format!("recalibrate:unknown-lead:{}", outcome.outcome_id),
            stage: crate::SERVICE_NAME.to_owned(),
            source_topic: self.outcomes_topic.clone(),
            source_partition: -1,
            source_offset: -1,
            source_key: Some(outcome.lead_id.clone()),
            error_kind: ErrorKind::Validation,
            reason: format!(
                "outcome {} ({}) is for lead {} which was not scored within the last {} days ({} minutes' grace)",
                outcome.outcome_id,
                outcome.stage.symbol(),
                outcome.lead_id,
                settings.retention_days,
                settings.unknown_lead_grace_minutes
            ),
            owner: self.exception_owner.clone(),
            lead_id: Some(outcome.lead_id.clone()),
            raised_at: now,
            due_at: Timestamp(now.0 + i64::from(self.exception_due_hours) * 3_600_000),
            original: leadflow_events::json::event_to_json(outcome)
                .map(|j| j.to_string().into_bytes())
                .unwrap_or_default(),
        }
    }

    /// Runs an attempt if one is due (the fit is CPU work: off the async threads, with the state
    /// lock held) and returns what to publish: a promotion on `model.params` first, then the
    /// attempt on `model.history`, which is what a restart counts as done (R7).
    async fn attempt(&self, now: Timestamp) -> Result<Vec<Output>, StageError> {
        let Due::Yes { new_labels } = self.with_engine(|e| e.due(now))? else {
            return Ok(Vec::new());
        };
        tracing::info!(new_labels, "recalibration due");
        let engine = self.engine.clone();
        let verdict = tokio::task::spawn_blocking(move || {
            engine
                .lock()
                .map(|mut e| e.run(now))
                .map_err(|_| StageError::fatal("the recalibrate state lock is poisoned"))
        })
        .await
        .map_err(|e| StageError::fatal(format!("the recalibration task failed: {e}")))??;
        let verdict = match verdict {
            Ok(v) => v,
            Err(e) => {
                let result = match e {
                    crate::AttemptError::Fit(_) => "failed",
                    _ => "skipped",
                };
                self.metrics.attempts.with_label_values(&[result]).inc();
                tracing::warn!(error = %e, "no recalibration candidate");
                return Ok(Vec::new());
            }
        };
        let mut out = Vec::new();
        if let Verdict::Promote(p) = &verdict {
            out.push(Output::to(TopicRole::ModelParams, p.clone()));
        }
        let params = verdict.params().clone();
        let key = params.history_key();
        out.push(Output::to(TopicRole::ModelHistory, params).with_key(key));
        Ok(out)
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

    /// Checks and counts an outcome; it reaches the state once, through the `leads.outcomes` side
    /// input.
    async fn process(&self, input: LeadOutcome, _ctx: &Context) -> Result<Vec<Output>, StageError> {
        check(&input).map_err(|r| StageError::poison(ErrorKind::Validation, r))?;
        self.metrics
            .outcomes
            .with_label_values(&[input.stage.symbol()])
            .inc();
        Ok(Vec::new())
    }

    fn side_inputs(&self) -> Vec<SideInput> {
        state_inputs(&self.settings)
    }

    fn on_side_input_from(&self, role: TopicRole, event: AnyEvent) -> Result<(), StageError> {
        let now = self.clock.now();
        self.with_engine(|e| match (role, &event) {
            (TopicRole::Scored, AnyEvent::ScoredLead(s)) => e.join_mut().apply_scored(s),
            (TopicRole::Outcomes, AnyEvent::LeadOutcome(o)) if check(o).is_ok() => {
                e.join_mut().apply_outcome(o, now);
            }
            (TopicRole::ModelParams, AnyEvent::ModelParams(p)) => {
                if let Err(err) = e.apply_live(p) {
                    tracing::warn!(version = %p.version, error = %err, "ignoring an invalid live model");
                }
            }
            (TopicRole::ModelHistory, AnyEvent::ModelParams(p)) => e.apply_history(p),
            _ => {}
        })
    }

    fn timer_interval(&self) -> Option<Duration> {
        Some(Duration::from_millis(self.settings.tick_ms))
    }

    /// Unknown-lead outcomes of the leads this instance owns, eviction, and (on the owner of
    /// input partition 0 only) an attempt when one is due.
    async fn on_timer(&self, owned: &OwnedKeys, now: Timestamp) -> Result<Vec<Output>, StageError> {
        let grace = self.settings.grace_ms();
        let overdue = self.with_engine(|e| {
            let overdue = e.join_mut().overdue_unknown(now, grace);
            e.join_mut().evict(now);
            self.metrics.labelled.set(e.join().labelled() as i64);
            self.metrics.retained.set(e.join().leads() as i64);
            self.metrics
                .pending_unknown
                .set(e.join().unknown_pending() as i64);
            self.metrics.set_calibration(&e.join().scored_labels());
            overdue
        })?;
        let mut out: Vec<Output> = overdue
            .iter()
            .filter(|o| owned.owns(&o.lead_id))
            .map(|o| Output::to(TopicRole::Exceptions, self.unknown_lead(o, now)))
            .collect();
        if owned.owns_partition(FIT_PARTITION) {
            out.extend(self.attempt(now).await?);
        }
        Ok(out)
    }

    fn on_timer_delivered(&self, output: &Output) {
        match (&output.role, &output.event) {
            (TopicRole::Exceptions, _) => self.metrics.unknown_outcomes.inc(),
            (TopicRole::ModelHistory, AnyEvent::ModelParams(p)) => {
                let promoted = p.status == ModelStatus::PROMOTED;
                let result = if promoted { "promoted" } else { "rejected" };
                self.metrics.attempts.with_label_values(&[result]).inc();
                if promoted {
                    tracing::info!(version = %p.version, parent = ?p.parent_version, description = %p.description, "recalibrated model promoted");
                } else {
                    tracing::warn!(version = %p.version, description = %p.description, "recalibration candidate refused by the gate");
                }
            }
            _ => {}
        }
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
        let stage = RecalibrateStage::start(
            &ServiceConfig::default(),
            &registry,
            Arc::new(leadflow_runtime::SystemClock),
        )
        .unwrap();
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
