//! The `Stage` shell on the runtime's timers: `handoff.packets` is the input (its consumer group
//! decides which instance fires which lead; a bad packet goes to the exceptions topic); the state is
//! rebuilt and followed from the side inputs (packets, tier decisions, activity, the escalations
//! already raised); every `tick_ms` the runtime calls [`Stage::on_timer`] for the leads of the
//! partitions this instance owns, and each escalation is marked fired once the broker
//! acknowledged it ([`Stage::on_timer_delivered`]). What happened to every deadline is published
//! on `sla.outcomes` the same way, in the order it was decided ([`crate::ledger`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use leadflow_events::{AnyEvent, ErrorKind, HandoffPacket, Timestamp, TopicRole};
use leadflow_runtime::{
    Clock, Context, Output, OwnedKeys, RuntimeError, ServiceConfig, SideInput, SideStart, Stage,
    StageError, StageRegistry,
};

use crate::engine::{Engine, Outcome};
use crate::ledger::Ledger;
use crate::metrics::WatchdogMetrics;
use crate::settings::WatchdogSettings;
use crate::validate::check;
use crate::withdrawal::Withdrawals;

/// Rounds between two evictions of settled leads.
const EVICT_EVERY: u64 = 300;

/// The watchdog stage.
pub struct WatchdogStage {
    engine: Arc<Mutex<Engine>>,
    ledger: Mutex<Ledger>,
    withdrawals: Mutex<Withdrawals>,
    metrics: WatchdogMetrics,
    settings: WatchdogSettings,
    clock: Arc<dyn Clock>,
    rounds: AtomicU64,
}

/// The side inputs the state is rebuilt from and follows, each from `now - retention_days`.
pub fn state_inputs(settings: &WatchdogSettings) -> Vec<SideInput> {
    let window = SideStart::Since(Duration::from_secs(
        settings.retention_days.saturating_mul(86_400),
    ));
    [
        TopicRole::Packets,
        TopicRole::Tiered,
        TopicRole::Activity,
        TopicRole::Escalations,
        TopicRole::SlaOutcomes,
    ]
    .into_iter()
    .map(|role| SideInput {
        role,
        start: window,
    })
    .collect()
}

impl WatchdogStage {
    /// A stage over `engine`; `clock` times the acknowledged escalations.
    pub fn new(
        engine: Engine,
        metrics: WatchdogMetrics,
        settings: WatchdogSettings,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            engine: Arc::new(Mutex::new(engine)),
            ledger: Mutex::new(Ledger::default()),
            withdrawals: Mutex::new(Withdrawals::default()),
            metrics,
            settings,
            clock,
            rounds: AtomicU64::new(0),
        }
    }

    /// The service as `leadflow-sla-watchdog` runs it: the engine and its KPIs in `registry`.
    pub fn start(
        cfg: &ServiceConfig<WatchdogSettings>,
        registry: &StageRegistry,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, RuntimeError> {
        let calendar = cfg.stage.calendar().map_err(RuntimeError::Config)?;
        let engine = Engine::new(cfg.stage.rules(), calendar);
        let metrics =
            WatchdogMetrics::register(registry).map_err(|e| RuntimeError::Metrics(Box::new(e)))?;
        Ok(Self::new(engine, metrics, cfg.stage.clone(), clock))
    }

    pub fn engine(&self) -> &Arc<Mutex<Engine>> {
        &self.engine
    }

    /// Runs `f` on the engine and hands what it decided to the ledger and the withdrawals (engine
    /// lock first, then the ledger's, then the withdrawals': the one order they are taken in).
    fn with_engine<T>(&self, f: impl FnOnce(&mut Engine) -> T) -> Result<T, StageError> {
        let mut guard = self
            .engine
            .lock()
            .map_err(|_| StageError::fatal("the watchdog state lock is poisoned"))?;
        let result = f(&mut guard);
        let decided = guard.take_journal();
        if !decided.is_empty() {
            self.with_withdrawals(|w| w.decided(&decided))?;
            self.with_ledger(|l| l.decided(decided))?;
        }
        Ok(result)
    }

    fn with_withdrawals<T>(&self, f: impl FnOnce(&mut Withdrawals) -> T) -> Result<T, StageError> {
        let mut guard = self
            .withdrawals
            .lock()
            .map_err(|_| StageError::fatal("the watchdog withdrawals lock is poisoned"))?;
        Ok(f(&mut guard))
    }

    fn with_ledger<T>(&self, f: impl FnOnce(&mut Ledger) -> T) -> Result<T, StageError> {
        let mut guard = self
            .ledger
            .lock()
            .map_err(|_| StageError::fatal("the watchdog ledger lock is poisoned"))?;
        Ok(f(&mut guard))
    }
}

impl Stage for WatchdogStage {
    type Input = HandoffPacket;
    const NAME: &'static str = crate::SERVICE_NAME;
    const INPUT: TopicRole = TopicRole::Packets;

    /// Checks a packet (a bad one goes to the exceptions topic). The packet itself reaches the
    /// state once, through the `handoff.packets` side input.
    async fn process(
        &self,
        input: HandoffPacket,
        _ctx: &Context,
    ) -> Result<Vec<Output>, StageError> {
        check(&input).map_err(|r| StageError::poison(ErrorKind::Validation, r))?;
        Ok(Vec::new())
    }

    fn side_inputs(&self) -> Vec<SideInput> {
        state_inputs(&self.settings)
    }

    fn on_side_input(&self, event: AnyEvent) -> Result<(), StageError> {
        if let AnyEvent::SlaOutcome(o) = &event {
            return self.with_ledger(|l| l.published(&o.outcome_id));
        }
        if let AnyEvent::HandoffPacket(p) = &event {
            // a withdrawal notice opens nothing: it only marks its reassignment withdrawn
            if self.with_withdrawals(|w| w.packet(p))? {
                return Ok(());
            }
        }
        let outcomes: Vec<Outcome> = self.with_engine(|e| match &event {
            // a bad packet went to the exceptions topic through the input (validate::check)
            AnyEvent::HandoffPacket(p) if check(p).is_ok() => e.apply_packet(p),
            AnyEvent::TierDecision(d) => e.apply_decision(d),
            AnyEvent::RepActivity(a) => {
                // quality rule Q10: each activity once, under the tier of the lead's packet
                let (tier, new) = e.activity_context(&a.lead_id, &a.activity_id);
                if new {
                    self.metrics
                        .answered(tier.as_deref().unwrap_or("unknown"), a);
                }
                e.apply_activity(a)
            }
            AnyEvent::SlaEscalation(s) => e.apply_escalation(s),
            _ => Vec::new(),
        })?;
        self.metrics.record(&outcomes);
        Ok(())
    }

    fn timer_interval(&self) -> Option<Duration> {
        Some(Duration::from_millis(self.settings.tick_ms))
    }

    /// Every escalation due now for the leads this instance owns (nothing is marked fired before
    /// the broker acknowledged it: a round waits for its acknowledgements before the next one).
    async fn on_timer(&self, owned: &OwnedKeys, now: Timestamp) -> Result<Vec<Output>, StageError> {
        let owns = |lead: &str| owned.owns(lead);
        let retention_ms = self.settings.retention_days.saturating_mul(86_400_000);
        let round = self.rounds.fetch_add(1, Ordering::Relaxed) + 1;
        let (escalations, outcomes, open, leads) = self.with_engine(|e| {
            let (esc, out) = e.due(now, &owns);
            if round % EVICT_EVERY == 0 {
                let evicted = e.evict(now);
                let horizon = now.0 - (retention_ms as i64);
                if let Ok(mut w) = self.withdrawals.lock() {
                    w.evict(Timestamp(horizon));
                }
                if evicted > 0 {
                    tracing::debug!(evicted, "settled leads forgotten");
                }
            }
            (esc, out, e.open_counts().clone(), e.lead_count())
        })?;
        self.metrics.record(&outcomes);
        self.metrics.set_open(&open, leads);
        let decided = self.with_ledger(|l| l.due(&owns))?;
        let notices = self.with_withdrawals(|w| w.due(&owns))?;
        // notices first: a change of topic waits for the earlier outputs' acknowledgements, so an
        // outcome read back implies the notices of its round are on the topic
        Ok(notices
            .into_iter()
            .map(|n| Output::to(TopicRole::Packets, n))
            .chain(
                escalations
                    .into_iter()
                    .map(|esc| Output::to(TopicRole::Escalations, esc)),
            )
            .chain(
                decided
                    .into_iter()
                    .map(|o| Output::to(TopicRole::SlaOutcomes, o)),
            )
            .collect())
    }

    fn on_timer_delivered(&self, output: &Output) {
        if let AnyEvent::HandoffPacket(notice) = &output.event {
            tracing::info!(
                lead_id = %notice.lead_id(), withdraws = ?notice.withdraws,
                "reassignment withdrawn: the previous owner's contact was in time"
            );
            if let Err(e) = self.with_withdrawals(|w| w.delivered(notice)) {
                tracing::error!(error = %e, "withdrawal not marked delivered");
            }
            return;
        }
        if let AnyEvent::SlaOutcome(o) = &output.event {
            self.metrics.settled(o);
            if let Err(e) = self.with_ledger(|l| l.published(&o.outcome_id)) {
                tracing::error!(error = %e, "outcome not marked published");
            }
            return;
        }
        let AnyEvent::SlaEscalation(esc) = &output.event else {
            return;
        };
        let lateness = self.settings.rules().allowed_lateness_ms;
        let delay = (self.clock.now().0 - esc.due_at.0 - lateness) as f64 / 1000.0;
        let tier = esc.tier.clone().unwrap_or_default();
        self.metrics.escalated(&tier, esc.level, delay);
        tracing::info!(
            lead_id = %esc.lead_id, escalation_id = %esc.escalation_id, level = esc.level,
            kind = ?esc.sla_kind, late_by_ms = esc.late_by_ms.unwrap_or_default(), to = %esc.to,
            "SLA breach escalated"
        );
        match self.with_engine(|e| e.apply_escalation(esc)) {
            Ok(outcomes) => self.metrics.record(&outcomes),
            Err(e) => tracing::error!(error = %e, "escalation not marked fired"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use leadflow_events::{RepActivityKind, samples};
    use leadflow_runtime::SystemClock;

    use super::*;

    /// Quality rule Q10: each answer counted once, under the tier of the lead's packet, with its
    /// reason mapped onto the fixed list; REASSIGNED answers nothing.
    #[test]
    fn answers_are_counted_once_by_tier_and_reason() {
        let settings = WatchdogSettings::default();
        let engine = Engine::new(settings.rules(), settings.calendar().unwrap());
        let registry = StageRegistry::new("sla-watchdog");
        let metrics = WatchdogMetrics::register(&registry).unwrap();
        let stage = WatchdogStage::new(engine, metrics, settings, Arc::new(SystemClock));
        let packet = samples::handoff_packet();
        let tier = packet.tier().to_owned();
        let lead = packet.lead_id().to_owned();
        stage
            .on_side_input(AnyEvent::HandoffPacket(packet))
            .unwrap();
        let act = |id: &str, kind: RepActivityKind, reason: Option<&str>| {
            let mut a = samples::rep_activity();
            a.activity_id = id.into();
            a.lead_id = lead.clone();
            a.kind = kind;
            a.reason = reason.map(str::to_owned);
            AnyEvent::RepActivity(a)
        };
        for e in [
            act("a1", RepActivityKind::Accepted, None),
            act("a1", RepActivityKind::Accepted, None), // read twice
            act("a2", RepActivityKind::Rejected, Some("Not a fit")),
            act("a3", RepActivityKind::Reassigned, None),
        ] {
            stage.on_side_input(e).unwrap();
        }
        let text = registry.render();
        for want in [
            format!("leadflow_sla_watchdog_answers_total{{answer=\"accepted\",tier=\"{tier}\"}} 1"),
            format!("leadflow_sla_watchdog_answers_total{{answer=\"rejected\",tier=\"{tier}\"}} 1"),
            format!(
                "leadflow_sla_watchdog_rejections_total{{reason=\"not_a_fit\",tier=\"{tier}\"}} 1"
            ),
        ] {
            assert!(text.contains(&want), "{want} missing in\n{text}");
        }
    }
}
