//! The `Stage` shell: `handoff.packets` in, no outputs caused by inputs. Packets open deadlines in the
//! shared engine; the timer task ([`crate::timer`]) rebuilds the rest of the state and fires.

use std::sync::{Arc, Mutex};

use leadflow_events::{HandoffPacket, TopicRole};
use leadflow_runtime::{Context, Output, Stage, StageError};

use crate::engine::Engine;
use crate::timer::TimerGuard;

/// The watchdog stage. Cloning shares the engine.
pub struct WatchdogStage {
    engine: Arc<Mutex<Engine>>,
    _timers: Option<TimerGuard>,
}

impl WatchdogStage {
    /// A stage over `engine`; `timers` is stopped when the stage is dropped (end of the run).
    pub fn new(engine: Arc<Mutex<Engine>>, timers: Option<TimerGuard>) -> Self {
        Self {
            engine,
            _timers: timers,
        }
    }

    pub fn engine(&self) -> &Arc<Mutex<Engine>> {
        &self.engine
    }

    /// Applies one packet (also used by the timer task for the replayed ones).
    pub fn apply(engine: &Mutex<Engine>, packet: &HandoffPacket) -> Result<(), StageError> {
        let outcomes = engine
            .lock()
            .map_err(|_| StageError::fatal("the watchdog state lock is poisoned"))?
            .apply_packet(packet);
        crate::metrics::record(&outcomes);
        Ok(())
    }
}

impl Stage for WatchdogStage {
    type Input = HandoffPacket;
    const NAME: &'static str = "sla-watchdog";
    const INPUT: TopicRole = TopicRole::Packets;

    async fn process(
        &mut self,
        input: HandoffPacket,
        _ctx: &Context,
    ) -> Result<Vec<Output>, StageError> {
        Self::apply(&self.engine, &input)?;
        Ok(Vec::new())
    }
}
