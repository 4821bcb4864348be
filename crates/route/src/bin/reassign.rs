//! `leadflow-route-reassign`: reassignment after SLA breaches (sla.escalations -> handoff.packets).

leadflow_runtime::service_allocator!();

use leadflow_route::{ReassignStage, RouteSettings};
use leadflow_runtime::{ServiceConfig, StageRegistry};

fn main() -> anyhow::Result<()> {
    leadflow_runtime::service_main::<RouteSettings, ReassignStage, _>(
        |cfg: &ServiceConfig<RouteSettings>, metrics: &StageRegistry| {
            Ok(ReassignStage::new(&cfg.stage, metrics)?)
        },
    )
}
