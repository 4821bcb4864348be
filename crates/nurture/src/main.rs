//! `leadflow-nurture`: the nurture stage as a service (leads.tiered -> HubSpot list enrolment,
//! handoff.deliveries and handoff.activity).

leadflow_runtime::service_allocator!();

use leadflow_nurture::{NurtureSettings, NurtureStage};
use leadflow_runtime::{ServiceConfig, StageRegistry};

fn main() -> anyhow::Result<()> {
    leadflow_runtime::service_main::<NurtureSettings, NurtureStage, _>(
        |cfg: &ServiceConfig<NurtureSettings>, metrics: &StageRegistry| {
            Ok(NurtureStage::new(&cfg.stage, metrics)?)
        },
    )
}
