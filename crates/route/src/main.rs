//! `leadflow-route`: the route stage as a service (leads.tiered -> handoff.packets).

leadflow_runtime::service_allocator!();

use leadflow_route::{RouteSettings, RouteStage};
use leadflow_runtime::{ServiceConfig, StageRegistry};

fn main() -> anyhow::Result<()> {
    leadflow_runtime::service_main::<RouteSettings, RouteStage, _>(
        |cfg: &ServiceConfig<RouteSettings>, metrics: &StageRegistry| {
            Ok(RouteStage::new(&cfg.stage, metrics)?)
        },
    )
}
