//! Broker helpers shared by the commands: configuration loading, topic lookup, event-kind resolution.

use std::time::Duration;

use leadflow_events::{EventKind, TopicNames};
use leadflow_runtime::topic_metadata::{fetch_cluster_metadata, partitions_of};
use leadflow_runtime::{CommonArgs, NoSettings, ServiceConfig};
use rdkafka::client::{Client, ClientContext};

use crate::error::CliError;

/// The CLI's configuration: the service config without stage settings.
pub type CliConfig = ServiceConfig<NoSettings>;

/// How long to wait for the broker to answer a metadata request.
pub const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

/// The client settings of a range read (`leadflow_runtime::topic_range`): the configured cluster
/// and security, a throw-away group id named after `purpose`, nothing committed.
pub fn range_config(cfg: &CliConfig, purpose: &str) -> rdkafka::ClientConfig {
    let group = format!("leadflow-cli-{purpose}-{}", uuid::Uuid::new_v4());
    let mut config = leadflow_runtime::kafka::consumer_config(cfg, &group);
    config.set("statistics.interval.ms", "0");
    config
}

/// A range read's settings for a scan of many records: larger fetches, no wait for a fuller one.
pub fn scan_config(cfg: &CliConfig, purpose: &str) -> rdkafka::ClientConfig {
    let mut config = range_config(cfg, purpose);
    config
        .set("fetch.wait.max.ms", "10")
        .set("queued.min.messages", "200000")
        .set("fetch.max.bytes", "52428800")
        .set("max.partition.fetch.bytes", "10485760")
        .remove("partitioner");
    config
}

/// Loads defaults → `--config` file → `LEADFLOW_*` environment → flags.
pub fn load_config(common: &CommonArgs) -> Result<CliConfig, CliError> {
    Ok(CliConfig::load("cli", common)?)
}

/// Parses an event kind given as `LeadEvent`, `leadevent` or `leadflow.LeadEvent`.
pub fn parse_event_kind(s: &str) -> Result<EventKind, String> {
    EventKind::ALL
        .into_iter()
        .find(|k| {
            let short = k.full_name().trim_start_matches("leadflow.");
            short.eq_ignore_ascii_case(s) || k.full_name().eq_ignore_ascii_case(s)
        })
        .ok_or_else(|| {
            let names: Vec<_> = EventKind::ALL
                .iter()
                .map(|k| k.full_name().trim_start_matches("leadflow."))
                .collect();
            format!("unknown event kind {s:?}; one of {}", names.join(", "))
        })
}

/// The short name of a kind, e.g. `LeadEvent`.
pub fn kind_name(kind: EventKind) -> &'static str {
    kind.full_name().trim_start_matches("leadflow.")
}

/// The event kind a topic carries: `--kind` when given, else the kind of the topic's configured role.
/// `None` means the topic is not a configured pipeline topic.
pub fn kind_for_topic(
    names: &TopicNames,
    topic: &str,
    explicit: Option<EventKind>,
) -> Option<EventKind> {
    explicit.or_else(|| names.role_of(topic).and_then(|r| r.event_kind()))
}

/// The partitions of `topic`, failing with a clear message when the broker is unreachable or the topic
/// does not exist (see `leadflow_runtime::topic_metadata`).
pub fn topic_partitions<C: ClientContext>(
    client: &Client<C>,
    bootstrap: &str,
    topic: &str,
) -> Result<Vec<i32>, CliError> {
    let metadata = fetch_cluster_metadata(client, METADATA_TIMEOUT).map_err(|e| {
        CliError::Broker(format!(
            "cannot read metadata of topic {topic} from {bootstrap}: {e} (is the broker running?)"
        ))
    })?;
    partitions_of(&metadata, topic).ok_or_else(|| missing_topic(topic))
}

fn missing_topic(topic: &str) -> CliError {
    CliError::Broker(format!(
        "topic {topic} does not exist; create the pipeline topics with `leadflow topics create`"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_by_short_or_full_name() {
        let cases = [
            ("LeadEvent", Some(EventKind::LeadEvent)),
            ("leadevent", Some(EventKind::LeadEvent)),
            ("leadflow.ScoredLead", Some(EventKind::ScoredLead)),
            ("ModelParams", Some(EventKind::ModelParams)),
            ("Lead", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_event_kind(text).ok(), want, "{text}");
        }
        let err = parse_event_kind("Nope").expect_err("unknown");
        assert!(err.contains("LeadEvent"), "{err}");
    }

    #[test]
    fn topic_kind_comes_from_role_or_flag() {
        let names = TopicNames::default();
        let cases = [
            ("leads.raw", None, Some(EventKind::LeadEvent)),
            ("leads.scored", None, Some(EventKind::ScoredLead)),
            ("reps", None, Some(EventKind::RepState)),
            ("my.topic", None, None),
            (
                "my.topic",
                Some(EventKind::LeadEvent),
                Some(EventKind::LeadEvent),
            ),
            (
                "leads.raw",
                Some(EventKind::ScoredLead),
                Some(EventKind::ScoredLead),
            ),
        ];
        for (topic, flag, want) in cases {
            assert_eq!(kind_for_topic(&names, topic, flag), want, "{topic}");
        }
    }
}
