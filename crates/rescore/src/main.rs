//! `leadflow-rescore`: the rescore stage as a service (leads.tiered -> leads.state, and re-entries
//! on leads.enriched).

leadflow_runtime::service_allocator!();

use leadflow_rescore::{RescoreSettings, RescoreStage};
use leadflow_runtime::{ServiceConfig, StageRegistry};

fn main() -> anyhow::Result<()> {
    leadflow_runtime::service_main::<RescoreSettings, RescoreStage, _>(
        |cfg: &ServiceConfig<RescoreSettings>, metrics: &StageRegistry| {
            Ok(RescoreStage::new(&cfg.stage, metrics)?)
        },
    )
}
