//! The timer task: rebuilds the state from Kafka (`leads.scored` and `leads.outcomes` from
//! `now − retention`, `model.params` and `model.history` from the beginning), then every `tick_ms`
//! reports overdue unknown-lead outcomes, forgets what left the retention window, and runs a
//! recalibration attempt when one is due, publishing its verdict (RULES.md R4–R7).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use leadflow_events::{AnyEvent, Codec, ErrorKind, ExceptionRecord, LeadOutcome, TopicRole};
use leadflow_runtime::emitter::Emitter;
use leadflow_runtime::side_input::{SideMessage, spawn_side_inputs};
use leadflow_runtime::{Clock, Output, RuntimeError, ServiceConfig, SideInput, SideStart};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::engine::{Due, Engine, Verdict};
use crate::metrics::RecalibrateMetrics;
use crate::settings::RecalibrateSettings;

/// Stops the timer task when dropped.
pub struct TimerGuard {
    stop: CancellationToken,
}

impl Drop for TimerGuard {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// The side inputs the state is rebuilt from.
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

/// Starts the timer task (inside the tokio runtime). A fatal error later ends the process with exit
/// code 1 so the supervisor restarts it.
pub fn spawn_timer(
    cfg: &ServiceConfig<RecalibrateSettings>,
    engine: Arc<Mutex<Engine>>,
    metrics: RecalibrateMetrics,
    clock: Arc<dyn Clock>,
) -> Result<TimerGuard, RuntimeError> {
    let emitter = Emitter::new(cfg)?;
    let codec = Arc::new(
        Codec::from_config(cfg.registry.as_ref()).map_err(|e| RuntimeError::Codec(Box::new(e)))?,
    );
    let stop = CancellationToken::new();
    let task = Task {
        cfg: cfg.clone(),
        engine,
        metrics,
        clock,
        emitter,
        codec,
        stop: stop.clone(),
    };
    tokio::spawn(async move {
        if let Err(e) = task.run().await {
            tracing::error!(error = %e, "recalibrate timer stopped; exiting for a restart");
            std::process::exit(1);
        }
    });
    Ok(TimerGuard { stop })
}

struct Task {
    cfg: ServiceConfig<RecalibrateSettings>,
    engine: Arc<Mutex<Engine>>,
    metrics: RecalibrateMetrics,
    clock: Arc<dyn Clock>,
    emitter: Emitter,
    codec: Arc<Codec>,
    stop: CancellationToken,
}

impl Task {
    async fn run(self) -> Result<(), RuntimeError> {
        let settings = self.cfg.stage.clone();
        let inputs = state_inputs(&settings);
        let (tx, mut rx) = mpsc::channel::<SideMessage>(4_096);
        let group = format!("{}-state", self.cfg.group_for(crate::SERVICE_NAME));
        spawn_side_inputs(
            &self.cfg,
            &group,
            &inputs,
            self.codec.clone(),
            self.clock.clone(),
            tx,
            self.stop.clone(),
        )
        .await?;
        let mut waiting: Vec<TopicRole> = inputs.iter().map(|i| i.role).collect();
        let mut tick = tokio::time::interval(Duration::from_millis(settings.tick_ms));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                _ = self.stop.cancelled() => break,
                msg = rx.recv() => match msg {
                    Some(SideMessage::Event(role, event)) => self.apply(role, *event)?,
                    Some(SideMessage::CaughtUp(role)) => {
                        waiting.retain(|r| *r != role);
                        if waiting.is_empty() {
                            let (leads, labelled, live) = self.with_engine(|e| {
                                (e.join().leads(), e.join().labelled(), e.live().version.clone())
                            })?;
                            tracing::info!(leads, labelled, live = %live, "recalibrate state rebuilt");
                        }
                    }
                    None if self.stop.is_cancelled() => break,
                    None => return Err(RuntimeError::Config("state inputs stopped".into())),
                },
                _ = tick.tick() => {
                    if waiting.is_empty() {
                        self.on_tick().await?;
                    }
                }
            }
        }
        Ok(())
    }

    fn with_engine<T>(&self, f: impl FnOnce(&mut Engine) -> T) -> Result<T, RuntimeError> {
        let mut guard = self
            .engine
            .lock()
            .map_err(|_| RuntimeError::Config("the recalibrate state lock is poisoned".into()))?;
        Ok(f(&mut guard))
    }

    fn apply(&self, role: TopicRole, event: AnyEvent) -> Result<(), RuntimeError> {
        let now = self.clock.now();
        self.with_engine(|e| match (role, &event) {
            (TopicRole::Scored, AnyEvent::ScoredLead(s)) => e.join_mut().apply_scored(s),
            (TopicRole::Outcomes, AnyEvent::LeadOutcome(o)) if crate::stage::check(o).is_ok() => {
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

    async fn on_tick(&self) -> Result<(), RuntimeError> {
        let now = self.clock.now();
        let settings = &self.cfg.stage;
        let (overdue, due) = self.with_engine(|e| {
            let overdue = e.join_mut().overdue_unknown(now, settings.grace_ms());
            e.join_mut().evict(now);
            self.metrics.labelled.set(e.join().labelled() as i64);
            self.metrics.retained.set(e.join().leads() as i64);
            self.metrics
                .pending_unknown
                .set(e.join().unknown_pending() as i64);
            (overdue, e.due(now))
        })?;
        for outcome in overdue {
            self.report_unknown(&outcome, now).await?;
        }
        let Due::Yes { new_labels } = due else {
            return Ok(());
        };
        tracing::info!(new_labels, "recalibration due");
        // the fit is CPU work: off the async threads, with the state lock held (side inputs wait)
        let engine = self.engine.clone();
        let verdict = tokio::task::spawn_blocking(move || {
            engine
                .lock()
                .map(|mut e| e.run(now))
                .map_err(|_| RuntimeError::Config("the recalibrate state lock is poisoned".into()))
        })
        .await
        .map_err(|e| RuntimeError::Config(format!("the recalibration task failed: {e}")))??;
        match verdict {
            Err(e) => {
                let result = match e {
                    crate::AttemptError::Fit(_) => "failed",
                    _ => "skipped",
                };
                self.metrics.attempts.with_label_values(&[result]).inc();
                tracing::warn!(error = %e, "no recalibration candidate");
            }
            Ok(v) => self.publish(v).await?,
        }
        Ok(())
    }

    /// Publishes a verdict: a promotion on `model.params` first, then the attempt on
    /// `model.history`, which is what a restart counts as done (R7). A crash or a failed send in
    /// between leaves no attempt on the history, so the restarted process fits again (against the
    /// new live model) instead of losing the promotion.
    async fn publish(&self, verdict: Verdict) -> Result<(), RuntimeError> {
        let params = verdict.params().clone();
        if let Verdict::Promote(p) = &verdict {
            self.emitter
                .emit(&Output::to(TopicRole::ModelParams, p.clone()))
                .await?;
        }
        let key = params.history_key();
        self.emitter
            .emit(&Output::to(TopicRole::ModelHistory, params.clone()).with_key(key))
            .await?;
        match verdict {
            Verdict::Promote(p) => {
                self.metrics.attempts.with_label_values(&["promoted"]).inc();
                tracing::info!(version = %p.version, parent = ?p.parent_version, description = %p.description, "recalibrated model promoted");
            }
            Verdict::Reject(p) => {
                self.metrics.attempts.with_label_values(&["rejected"]).inc();
                tracing::warn!(version = %p.version, description = %p.description, "recalibration candidate refused by the gate");
            }
        }
        Ok(())
    }

    async fn report_unknown(
        &self,
        outcome: &LeadOutcome,
        now: leadflow_events::Timestamp,
    ) -> Result<(), RuntimeError> {
        let settings = &self.cfg.stage;
        let record = ExceptionRecord {
            exception_id: format!("recalibrate:unknown-lead:{}", outcome.outcome_id),
            stage: crate::SERVICE_NAME.to_owned(),
            source_topic: self.cfg.topics.name(TopicRole::Outcomes).to_owned(),
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
            owner: self.cfg.exceptions.owner.clone(),
            lead_id: Some(outcome.lead_id.clone()),
            raised_at: now,
            due_at: leadflow_events::Timestamp(
                now.0 + i64::from(self.cfg.exceptions.due_in_hours) * 3_600_000,
            ),
            original: leadflow_events::json::event_to_json(outcome)
                .map(|j| j.to_string().into_bytes())
                .unwrap_or_default(),
        };
        self.emitter
            .emit(&Output::to(TopicRole::Exceptions, record))
            .await?;
        self.metrics.unknown_outcomes.inc();
        Ok(())
    }
}
