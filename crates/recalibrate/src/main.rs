//! `leadflow-recalibrate`: sales outcomes recalibrate the scoring model (leads.outcomes +
//! leads.scored -> model.params, model.history).

leadflow_runtime::service_allocator!();

use std::sync::Arc;

use leadflow_recalibrate::{RecalibrateSettings, RecalibrateStage};
use leadflow_runtime::{ServiceConfig, StageRegistry, SystemClock};

fn main() -> anyhow::Result<()> {
    leadflow_runtime::service_main::<RecalibrateSettings, RecalibrateStage, _>(
        |cfg: &ServiceConfig<RecalibrateSettings>, registry: &StageRegistry| {
            Ok(RecalibrateStage::start(
                cfg,
                registry,
                Arc::new(SystemClock),
            )?)
        },
    )
}
