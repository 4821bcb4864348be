//! `leadflow-notify`: the notify stage as a service (handoff.packets -> handoff.deliveries).

use leadflow_notify::{NotifySettings, NotifyStage};
use leadflow_runtime::ServiceConfig;

fn main() -> anyhow::Result<()> {
    leadflow_runtime::service_main::<NotifySettings, NotifyStage, _>(
        |cfg: &ServiceConfig<NotifySettings>| {
            NotifyStage::from_settings(&cfg.stage).map_err(anyhow::Error::msg)
        },
    )
}
