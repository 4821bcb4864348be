//! Publishing rep activity: encodes `RepActivity` records and produces them to `handoff.activity`,
//! keyed by lead id (used by `leadflow activity record|import` and by the simulated reps).

use leadflow_events::{AnyEvent, Codec, Event, EventKind, RepActivity, TopicRole};

use crate::error::CliError;
use crate::kafka::CliConfig;
use crate::sink::Sink;

/// Encodes and produces activities to `handoff.activity`, keyed by lead id.
pub async fn publish(cfg: &CliConfig, activities: &[RepActivity]) -> Result<u64, CliError> {
    let codec = Codec::from_config(cfg.registry.as_ref())?;
    let topic = cfg.topics.name(TopicRole::Activity).to_owned();
    let mut sink = Sink::connect(cfg, &topic)?;
    for a in activities {
        let event = AnyEvent::RepActivity(a.clone());
        let payload = event.encode(&codec, &topic).await.map_err(|e| {
            CliError::Internal(format!(
                "a {} does not encode: {e}",
                EventKind::RepActivity.full_name()
            ))
        })?;
        sink.send(a.key(), &payload).await?;
    }
    sink.finish().await
}
