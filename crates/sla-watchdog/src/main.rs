//! `leadflow-sla-watchdog`: every open SLA deadline (handoff.packets + handoff.activity ->
//! sla.escalations).

use std::sync::{Arc, Mutex};

use leadflow_runtime::{ServiceConfig, StageRegistry, SystemClock};
use leadflow_sla_watchdog::timer::spawn_timers;
use leadflow_sla_watchdog::{Engine, WatchdogMetrics, WatchdogSettings, WatchdogStage};

fn main() -> anyhow::Result<()> {
    leadflow_runtime::service_main::<WatchdogSettings, WatchdogStage, _>(
        |cfg: &ServiceConfig<WatchdogSettings>, registry: &StageRegistry| {
            let calendar = cfg.stage.calendar().map_err(anyhow::Error::msg)?;
            let engine = Arc::new(Mutex::new(Engine::new(cfg.stage.rules(), calendar)));
            let metrics = WatchdogMetrics::register(registry)?;
            let timers = spawn_timers(cfg, engine.clone(), metrics.clone(), Arc::new(SystemClock))?;
            Ok(WatchdogStage::new(engine, metrics, Some(timers)))
        },
    )
}
