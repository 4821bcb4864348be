//! `leadflow-sla-watchdog`: every open SLA deadline (handoff.packets + handoff.activity ->
//! sla.escalations).

leadflow_runtime::service_allocator!();

use std::sync::Arc;

use leadflow_runtime::{ServiceConfig, StageRegistry, SystemClock};
use leadflow_sla_watchdog::{WatchdogSettings, WatchdogStage};

fn main() -> anyhow::Result<()> {
    leadflow_runtime::service_main::<WatchdogSettings, WatchdogStage, _>(
        |cfg: &ServiceConfig<WatchdogSettings>, registry: &StageRegistry| {
            Ok(WatchdogStage::start(cfg, registry, Arc::new(SystemClock))?)
        },
    )
}
