//! `leadflow-score`: consumes `leads.enriched`, produces `leads.scored`.

leadflow_runtime::service_allocator!();

use leadflow_score::{ScoreSettings, ScoreStage};

fn main() -> anyhow::Result<()> {
    leadflow_runtime::service_main::<ScoreSettings, ScoreStage, _>(
        |cfg: &leadflow_runtime::ServiceConfig<ScoreSettings>,
         metrics: &leadflow_runtime::StageRegistry| {
            Ok(ScoreStage::new(&cfg.stage, metrics)?)
        },
    )
}
