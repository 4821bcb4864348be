//! `leadflow-enrich`: the enrich service (leads.raw -> leads.enriched).

leadflow_runtime::service_allocator!();

use leadflow_enrich::{EnrichSettings, EnrichStage};

fn main() -> anyhow::Result<()> {
    leadflow_runtime::service_main::<EnrichSettings, EnrichStage, _>(
        |cfg: &leadflow_runtime::ServiceConfig<EnrichSettings>,
         metrics: &leadflow_runtime::StageRegistry| EnrichStage::new(&cfg.stage, metrics),
    )
}
