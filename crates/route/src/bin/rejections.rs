//! `leadflow-route-rejections`: a lead its rep rejected goes back to the pool (handoff.activity ->
//! handoff.packets).

leadflow_runtime::service_allocator!();

use leadflow_route::{RejectionStage, RouteSettings};
use leadflow_runtime::{ServiceConfig, StageRegistry};

fn main() -> anyhow::Result<()> {
    leadflow_runtime::service_main::<RouteSettings, RejectionStage, _>(
        |cfg: &ServiceConfig<RouteSettings>, metrics: &StageRegistry| {
            Ok(RejectionStage::new(&cfg.stage, metrics)?)
        },
    )
}
