//! The `Stage` shell: `handoff.packets` in, no outputs caused by inputs. Packets are checked (a bad
//! one goes to the exceptions topic) and open deadlines in the shared engine; the timer task
//! ([`crate::timer`]) rebuilds the rest of the state and fires.

use std::sync::{Arc, Mutex};

use leadflow_events::{ErrorKind, HandoffPacket, TopicRole};
use leadflow_runtime::{
    Clock, Context, Output, RuntimeError, ServiceConfig, Stage, StageError, StageRegistry,
};

use crate::engine::Engine;
use crate::metrics::WatchdogMetrics;
use crate::settings::WatchdogSettings;
use crate::timer::{TimerGuard, spawn_timers};
use crate::validate::check;

/// The watchdog stage. Cloning shares the engine.
pub struct WatchdogStage {
    engine: Arc<Mutex<Engine>>,
    metrics: WatchdogMetrics,
    _timers: Option<TimerGuard>,
}

impl WatchdogStage {
    /// A stage over `engine`; `timers` is stopped when the stage is dropped (end of the run).
    pub fn new(
        engine: Arc<Mutex<Engine>>,
        metrics: WatchdogMetrics,
        timers: Option<TimerGuard>,
    ) -> Self {
        Self {
            engine,
            metrics,
            _timers: timers,
        }
    }

    /// The service as `leadflow-sla-watchdog` runs it: the engine, its KPIs in `registry`, and the
    /// timer task on `clock` (must be called inside the tokio runtime).
    pub fn start(
        cfg: &ServiceConfig<WatchdogSettings>,
        registry: &StageRegistry,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, RuntimeError> {
        let calendar = cfg.stage.calendar().map_err(RuntimeError::Config)?;
        let engine = Arc::new(Mutex::new(Engine::new(cfg.stage.rules(), calendar)));
        let metrics =
            WatchdogMetrics::register(registry).map_err(|e| RuntimeError::Metrics(Box::new(e)))?;
        let timers = spawn_timers(cfg, engine.clone(), metrics.clone(), clock)?;
        Ok(Self::new(engine, metrics, Some(timers)))
    }

    pub fn engine(&self) -> &Arc<Mutex<Engine>> {
        &self.engine
    }

    /// Applies one packet.
    pub fn apply(&self, packet: &HandoffPacket) -> Result<(), StageError> {
        let outcomes = self
            .engine
            .lock()
            .map_err(|_| StageError::fatal("the watchdog state lock is poisoned"))?
            .apply_packet(packet);
        self.metrics.record(&outcomes);
        Ok(())
    }
}

impl Stage for WatchdogStage {
    type Input = HandoffPacket;
    const NAME: &'static str = crate::SERVICE_NAME;
    const INPUT: TopicRole = TopicRole::Packets;

    async fn process(
        &self,
        input: HandoffPacket,
        _ctx: &Context,
    ) -> Result<Vec<Output>, StageError> {
        check(&input).map_err(|r| StageError::poison(ErrorKind::Validation, r))?;
        self.apply(&input)?;
        Ok(Vec::new())
    }
}
