//! The timer task: rebuilds the state from Kafka, then fires due deadlines of the shards this
//! instance owns, within `tick_ms` of their firing time, through the runtime's [`Emitter`].
//!
//! State sources, replayed from `now - retention_days` before anything fires: `handoff.packets`
//! (deadlines), `leads.tiered` (automated-sequence deadlines), `handoff.activity` (what closes them)
//! and `sla.escalations` (this stage's own output: what already fired, so each breach fires once).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use leadflow_events::AnyEvent;
use leadflow_events::{Codec, TopicRole};
use leadflow_runtime::emitter::{Emitter, ShardOwnership};
use leadflow_runtime::side_input::{SideMessage, spawn_side_inputs};
use leadflow_runtime::{Clock, Output, RuntimeError, ServiceConfig, SideInput, SideStart};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::engine::{Engine, Outcome};
use crate::metrics::WatchdogMetrics;
use crate::settings::WatchdogSettings;

/// Stops the timer task and leaves the ownership group when dropped.
pub struct TimerGuard {
    stop: CancellationToken,
    ownership: Arc<ShardOwnership>,
}

impl Drop for TimerGuard {
    fn drop(&mut self) {
        self.stop.cancel();
        self.ownership.leave(Duration::from_secs(3));
    }
}

/// The side inputs the state is rebuilt from.
pub fn state_inputs(settings: &WatchdogSettings) -> Vec<SideInput> {
    let window = SideStart::Since(Duration::from_secs(
        settings.retention_days.saturating_mul(86_400),
    ));
    [
        TopicRole::Packets,
        TopicRole::Tiered,
        TopicRole::Activity,
        TopicRole::Escalations,
    ]
    .into_iter()
    .map(|role| SideInput {
        role,
        start: window,
    })
    .collect()
}

/// Starts the timer task (must be called inside the tokio runtime). Fatal start-up errors are
/// returned; a fatal error later ends the process with exit code 1 so the supervisor restarts it.
pub fn spawn_timers(
    cfg: &ServiceConfig<WatchdogSettings>,
    engine: Arc<Mutex<Engine>>,
    metrics: WatchdogMetrics,
    clock: Arc<dyn Clock>,
) -> Result<TimerGuard, RuntimeError> {
    let group = cfg.group_for(crate::SERVICE_NAME);
    let ownership = Arc::new(ShardOwnership::join(
        cfg,
        &format!("{group}-timers"),
        cfg.topics.name(TopicRole::Packets),
    )?);
    let emitter = Emitter::new(cfg)?;
    let codec = Arc::new(
        Codec::from_config(cfg.registry.as_ref()).map_err(|e| RuntimeError::Codec(Box::new(e)))?,
    );
    let stop = CancellationToken::new();
    let task = Task {
        cfg: cfg.clone(),
        group,
        engine,
        metrics,
        clock,
        ownership: ownership.clone(),
        emitter,
        codec,
        stop: stop.clone(),
    };
    tokio::spawn(async move {
        if let Err(e) = task.run().await {
            tracing::error!(error = %e, "sla-watchdog timers stopped; exiting for a restart");
            std::process::exit(1);
        }
    });
    Ok(TimerGuard { stop, ownership })
}

struct Task {
    cfg: ServiceConfig<WatchdogSettings>,
    group: String,
    engine: Arc<Mutex<Engine>>,
    metrics: WatchdogMetrics,
    clock: Arc<dyn Clock>,
    ownership: Arc<ShardOwnership>,
    emitter: Emitter,
    codec: Arc<Codec>,
    stop: CancellationToken,
}

impl Task {
    async fn run(self) -> Result<(), RuntimeError> {
        let settings = &self.cfg.stage;
        let inputs = state_inputs(settings);
        let (tx, mut rx) = mpsc::channel::<SideMessage>(4_096);
        spawn_side_inputs(
            &self.cfg,
            &self.group,
            &inputs,
            self.codec.clone(),
            self.clock.clone(),
            tx,
            self.stop.clone(),
        )
        .await?;
        let mut waiting: Vec<TopicRole> = inputs.iter().map(|i| i.role).collect();
        let settle = Duration::from_millis(settings.handover_settle_ms);
        let mut tick = tokio::time::interval(Duration::from_millis(settings.tick_ms));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut ticks: u64 = 0;
        loop {
            tokio::select! {
                biased;
                _ = self.stop.cancelled() => break,
                msg = rx.recv() => match msg {
                    Some(SideMessage::Event(_, event)) => self.apply(*event)?,
                    Some(SideMessage::CaughtUp(role)) => {
                        waiting.retain(|r| *r != role);
                        if waiting.is_empty() {
                            let (leads, next) = self.with_engine(|e| (e.lead_count(), e.next_fire_at()))?;
                            tracing::info!(leads, next_fire_at = ?next, "sla-watchdog state rebuilt; timers armed");
                        }
                    }
                    // the readers stop with the stage (shutdown): not an error then
                    None if self.stop.is_cancelled() => break,
                    None => return Err(RuntimeError::Config("state inputs stopped".into())),
                },
                _ = tick.tick() => {
                    if !waiting.is_empty() {
                        continue; // never fire on a partial state (replay)
                    }
                    self.fire(settle).await?;
                    ticks += 1;
                    if ticks % 300 == 0 {
                        let now = self.clock.now();
                        let evicted = self.with_engine(|e| e.evict(now))?;
                        if evicted > 0 {
                            tracing::debug!(evicted, "settled leads forgotten");
                        }
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
            .map_err(|_| RuntimeError::Config("the watchdog state lock is poisoned".into()))?;
        Ok(f(&mut guard))
    }

    fn apply(&self, event: AnyEvent) -> Result<(), RuntimeError> {
        let outcomes: Vec<Outcome> = self.with_engine(|e| match &event {
            // a bad packet went to the exceptions topic through the input (validate::check)
            AnyEvent::HandoffPacket(p) if crate::validate::check(p).is_ok() => e.apply_packet(p),
            AnyEvent::TierDecision(d) => e.apply_decision(d),
            AnyEvent::RepActivity(a) => e.apply_activity(a),
            AnyEvent::SlaEscalation(s) => e.apply_escalation(s),
            _ => Vec::new(),
        })?;
        self.metrics.record(&outcomes);
        Ok(())
    }

    /// Produces every escalation due now in this instance's shards; each is marked fired only once
    /// the broker acknowledged it (a failed send is retried on the next tick).
    async fn fire(&self, settle: Duration) -> Result<(), RuntimeError> {
        let now = self.clock.now();
        let ownership = &self.ownership;
        let owns = |lead: &str| ownership.owns(lead, settle);
        let (escalations, outcomes, open, leads, lateness) = self.with_engine(|e| {
            let (esc, out) = e.due(now, &owns);
            (
                esc,
                out,
                e.open_counts().clone(),
                e.lead_count(),
                e.rules().allowed_lateness_ms,
            )
        })?;
        self.metrics.record(&outcomes);
        let sends = escalations.iter().map(|esc| async move {
            let out = Output::to(TopicRole::Escalations, esc.clone());
            (esc, self.emitter.emit(&out).await)
        });
        for (esc, result) in futures::future::join_all(sends).await {
            match result {
                Ok(()) => {
                    let acked = self.clock.now();
                    let delay = (acked.0 - esc.due_at.0 - lateness) as f64 / 1000.0;
                    let tier = esc.tier.clone().unwrap_or_default();
                    self.metrics.escalated(&tier, esc.level, delay);
                    tracing::info!(
                        lead_id = %esc.lead_id, escalation_id = %esc.escalation_id, level = esc.level,
                        kind = ?esc.sla_kind, late_by_ms = esc.late_by_ms.unwrap_or_default(), to = %esc.to,
                        "SLA breach escalated"
                    );
                    let outcomes = self.with_engine(|e| e.apply_escalation(esc))?;
                    self.metrics.record(&outcomes);
                }
                Err(e) => {
                    self.metrics.emit_failed();
                    tracing::warn!(lead_id = %esc.lead_id, error = %e, "escalation not acknowledged; retrying on the next tick");
                }
            }
        }
        self.metrics.set_open(&open, leads);
        Ok(())
    }
}
