//! `leadflow-recalibrate`: sales outcomes recalibrate the scoring model (leads.outcomes +
//! leads.scored -> model.params, model.history).

use std::sync::{Arc, Mutex};

use leadflow_recalibrate::timer::spawn_timer;
use leadflow_recalibrate::{Engine, RecalibrateMetrics, RecalibrateSettings, RecalibrateStage};
use leadflow_runtime::{ServiceConfig, StageRegistry, SystemClock};

fn main() -> anyhow::Result<()> {
    leadflow_runtime::service_main::<RecalibrateSettings, RecalibrateStage, _>(
        |cfg: &ServiceConfig<RecalibrateSettings>, registry: &StageRegistry| {
            let engine = Arc::new(Mutex::new(Engine::new(cfg.stage.clone())?));
            let metrics = RecalibrateMetrics::register(registry)?;
            let timer = spawn_timer(cfg, engine, metrics.clone(), Arc::new(SystemClock))?;
            Ok(RecalibrateStage::new(metrics, Some(timer)))
        },
    )
}
