//! Topic administration against any Kafka-protocol broker: idempotent creation of the pipeline topics.

use std::time::Duration;

use leadflow_events::{TopicNames, TopicRole};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;

use crate::config::{ServiceConfig, StageSettings};
use crate::kafka::base_config;

/// What happened to one topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TopicOutcome {
    Created,
    AlreadyExists,
}

/// Topic creation failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("cannot create an admin client: {0}")]
    Client(#[source] rdkafka::error::KafkaError),
    #[error("creating topics failed: {0}")]
    Request(#[source] rdkafka::error::KafkaError),
    #[error("topic {topic}: {code}")]
    Topic {
        topic: String,
        code: RDKafkaErrorCode,
    },
}

/// How to create a topic.
#[derive(Clone, Debug)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: i32,
    pub replication: i32,
    pub compacted: bool,
    /// `retention.ms` with `cleanup.policy=delete`, for roles whose readers need a minimum history
    /// (the dedup changelog: the dedup window); `None`: the broker's default.
    pub retention_ms: Option<i64>,
}

/// Specs for every pipeline topic: `partitions` each, the compacted roles compacted.
pub fn pipeline_topics(names: &TopicNames, partitions: i32, replication: i32) -> Vec<TopicSpec> {
    TopicRole::ALL
        .into_iter()
        .map(|role| TopicSpec {
            name: names.name(role).to_owned(),
            partitions: if role.compacted() {
                partitions.min(3)
            } else {
                partitions
            },
            replication,
            compacted: role.compacted(),
            retention_ms: role
                .retention()
                .map(|r| i64::try_from(r.as_millis()).unwrap_or(i64::MAX)),
        })
        .collect()
}

/// Creates the topics that do not exist yet; existing ones are left as they are.
pub async fn create_topics<S: StageSettings>(
    cfg: &ServiceConfig<S>,
    specs: &[TopicSpec],
) -> Result<Vec<(String, TopicOutcome)>, AdminError> {
    let admin: AdminClient<DefaultClientContext> =
        base_config(cfg).create().map_err(AdminError::Client)?;
    let retention: Vec<Option<String>> = specs
        .iter()
        .map(|s| s.retention_ms.map(|ms| ms.to_string()))
        .collect();
    let topics: Vec<NewTopic<'_>> = specs
        .iter()
        .zip(&retention)
        .map(|(s, retention_ms)| {
            let t = NewTopic::new(
                &s.name,
                s.partitions,
                TopicReplication::Fixed(s.replication),
            );
            match (s.compacted, retention_ms) {
                (true, _) => t.set("cleanup.policy", "compact"),
                (false, Some(ms)) => t.set("cleanup.policy", "delete").set("retention.ms", ms),
                (false, None) => t,
            }
        })
        .collect();
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = admin
        .create_topics(topics.iter(), &opts)
        .await
        .map_err(AdminError::Request)?;
    let mut out = Vec::new();
    for r in results {
        match r {
            Ok(name) => out.push((name, TopicOutcome::Created)),
            Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => {
                out.push((name, TopicOutcome::AlreadyExists));
            }
            Err((topic, code)) => return Err(AdminError::Topic { topic, code }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dedup_changelog_keeps_a_window_and_the_state_topics_are_compacted() {
        let specs = pipeline_topics(&TopicNames::default(), 6, 3);
        assert_eq!(specs.len(), TopicRole::ALL.len());
        let spec = |name: &str| {
            specs
                .iter()
                .find(|s| s.name == name)
                .unwrap_or_else(|| panic!("no spec for {name}"))
        };
        let keys = spec("enrich.dedup-keys");
        assert!(!keys.compacted);
        assert_eq!(keys.retention_ms, Some(720 * 3_600_000));
        assert_eq!(keys.partitions, 6);
        let reps = spec("reps");
        assert!(reps.compacted);
        assert_eq!(reps.retention_ms, None);
        assert_eq!(reps.partitions, 3);
        assert_eq!(spec("leads.enriched").retention_ms, None);
    }
}
