//! `leadflow-notify`: the notify stage as a service (handoff.packets -> handoff.deliveries).

leadflow_runtime::service_allocator!();

use leadflow_notify::{NotifySettings, NotifyStage};
use leadflow_runtime::{ServiceConfig, StageRegistry};

fn main() -> anyhow::Result<()> {
    leadflow_runtime::service_main::<NotifySettings, NotifyStage, _>(
        |cfg: &ServiceConfig<NotifySettings>, metrics: &StageRegistry| {
            NotifyStage::from_settings(&cfg.stage, metrics).map_err(anyhow::Error::msg)
        },
    )
}
