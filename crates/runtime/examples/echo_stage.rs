//! A minimal stage as a real process, for the runtime's crash test
//! (`tests/pipeline.rs::sigkilled_stage_process_loses_no_acknowledged_event`): copies each lead from
//! the raw topic to the enriched topic, taking `ECHO_DELAY_MS` per record (default 0) so a test can
//! SIGKILL it while records are in flight. Configured like every stage (`LEADFLOW_*` environment).

use std::time::Duration;

use leadflow_events::{LeadEvent, TopicRole};
use leadflow_runtime::{
    Context, NoSettings, Output, ServiceConfig, Stage, StageError, StageRegistry,
};

struct EchoStage {
    delay: Duration,
}

impl Stage for EchoStage {
    type Input = LeadEvent;
    const NAME: &'static str = "echo";
    const INPUT: TopicRole = TopicRole::Raw;

    async fn process(&self, input: LeadEvent, _ctx: &Context) -> Result<Vec<Output>, StageError> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        Ok(vec![Output::to(TopicRole::Enriched, input)])
    }
}

fn main() -> anyhow::Result<()> {
    let delay_ms: u64 = std::env::var("ECHO_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    leadflow_runtime::service_main::<NoSettings, EchoStage, _>(
        |_cfg: &ServiceConfig<NoSettings>, _metrics: &StageRegistry| {
            Ok(EchoStage {
                delay: Duration::from_millis(delay_ms),
            })
        },
    )
}
