//! The `Stage` shell: `handoff.packets` in, no outputs caused by inputs. Packets open deadlines in the
//! shared engine; the timer task ([`crate::timer`]) rebuilds the rest of the state and fires.

use std::sync::{Arc, Mutex};

use leadflow_events::{HandoffPacket, TopicRole};
use leadflow_runtime::{Context, Output, Stage, StageError};

use crate::engine::Engine;
use crate::metrics::WatchdogMetrics;
use crate::timer::TimerGuard;

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
        self.apply(&input)?;
        Ok(Vec::new())
    }
}
