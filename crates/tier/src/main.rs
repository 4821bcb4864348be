//! `leadflow-tier`: the tier stage as a service (leads.scored -> leads.tiered).

leadflow_runtime::service_allocator!();

use leadflow_runtime::{ServiceConfig, StageRegistry};
use leadflow_tier::{TierSettings, TierStage};

fn main() -> anyhow::Result<()> {
    leadflow_runtime::service_main::<TierSettings, TierStage, _>(
        |cfg: &ServiceConfig<TierSettings>, metrics: &StageRegistry| {
            Ok(TierStage::new(&cfg.stage, metrics)?)
        },
    )
}
