//! The fresh topics of one check run, the configuration naming them, and reading them back.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use leadflow_events::{AnyEvent, Codec, TopicNames, TopicRole};
use leadflow_runtime::{NoSettings, ServiceConfig};

use crate::{TopicReader, bootstrap, create_topic, produce_raw_all, unique_name};

/// How long the check waits for outputs.
pub(crate) const WAIT: Duration = Duration::from_secs(60);
/// The session timeout the process check runs its stage processes with.
pub(crate) const SESSION_TIMEOUT_MS: u64 = 6_000;

/// How an output is told apart in the comparison.
pub(crate) type Identify = fn(&AnyEvent) -> String;

/// The default identity of an output: its lead id, else its record key.
pub(crate) fn lead_or_key(event: &AnyEvent) -> String {
    event.lead_id().unwrap_or(event.key()).to_owned()
}

/// The topics of one check run and the configuration naming them.
pub(crate) struct Topics {
    pub(crate) bootstrap: String,
    pub(crate) cfg: ServiceConfig<NoSettings>,
    pub(crate) outputs: Vec<TopicRole>,
    pub(crate) input_role: TopicRole,
    pub(crate) partitions: i32,
    identify: Identify,
}

impl Topics {
    /// Fresh topics for every role: `input` with `partitions` partitions, the exceptions topic,
    /// `others` (side inputs, state topics) and the topics of `side_events` with one, `outputs`
    /// with `partitions`; then `side_events` produced on theirs.
    pub(crate) async fn create(
        stage: &str,
        input: TopicRole,
        outputs: Vec<TopicRole>,
        others: &[TopicRole],
        partitions: i32,
        side_events: &[(TopicRole, AnyEvent)],
        identify: Identify,
    ) -> Self {
        let bootstrap = bootstrap();
        let mut names = serde_json::to_value(TopicNames::default()).expect("topic names");
        for role in TopicRole::ALL {
            names[role.config_key()] =
                serde_json::Value::String(unique_name(&format!("{stage}-{}", role.config_key())));
        }
        let mut cfg = ServiceConfig::<NoSettings> {
            topics: serde_json::from_value(names).expect("topic names"),
            bootstrap_servers: bootstrap.clone(),
            group_id: Some(unique_name(&format!("{stage}-compliance"))),
            shutdown_grace_ms: 20_000,
            ..ServiceConfig::default()
        };
        cfg.http.listen = "127.0.0.1:0".into();
        // a role both read in full and written (enrich's dedup input is its own output) keeps
        // one partition, as the first mention wins
        let mut create: Vec<(TopicRole, i32)> =
            vec![(input, partitions), (TopicRole::Exceptions, 1)];
        create.extend(others.iter().map(|r| (*r, 1)));
        create.extend(side_events.iter().map(|(r, _)| (*r, 1)));
        create.extend(outputs.iter().map(|r| (*r, partitions)));
        let mut done = BTreeSet::new();
        for (role, n) in create {
            if done.insert(role.config_key()) {
                create_topic(&bootstrap, cfg.topics.name(role), n).await;
            }
        }
        let codec = Codec::single_object().expect("codec");
        for (role, event) in side_events {
            let topic = cfg.topics.name(*role);
            let bytes = event
                .encode(&codec, topic)
                .await
                .expect("side event encodes");
            produce_raw_all(
                &bootstrap,
                topic,
                vec![(Some(event.key().as_bytes().to_vec()), bytes)],
            )
            .await;
        }
        Self {
            bootstrap,
            cfg,
            outputs,
            input_role: input,
            partitions,
            identify,
        }
    }

    pub(crate) fn input(&self) -> &str {
        self.cfg.topics.name(self.input_role)
    }

    /// (role, identity) of every output so far, in topic order, once `at_least` arrived or the
    /// wait is over (`usize::MAX`: whatever is there after `quiet`).
    pub(crate) async fn outputs_within(
        &self,
        codec: &Codec,
        at_least: usize,
        quiet: Duration,
    ) -> Vec<(TopicRole, String)> {
        let wait = if at_least == usize::MAX { quiet } else { WAIT };
        let mut out = Vec::new();
        for role in &self.outputs {
            out.extend(self.outputs_on(codec, *role, at_least, wait).await);
        }
        out
    }

    /// The outputs, waiting (at most [`WAIT`]) on each output topic for as many outputs as
    /// `expected` holds for its role — not for the total, which a stage with several output topics
    /// never reaches on any one of them.
    pub(crate) async fn outputs_expected(
        &self,
        codec: &Codec,
        expected: &[(TopicRole, String)],
    ) -> Vec<(TopicRole, String)> {
        let mut out = Vec::new();
        for role in &self.outputs {
            let want = expected.iter().filter(|(r, _)| r == role).count();
            out.extend(self.outputs_on(codec, *role, want, WAIT).await);
        }
        out
    }

    /// (role, identity) of the outputs on `role`'s topic, sorted by partition and offset, once
    /// `want` of them arrived or `wait` passed (`usize::MAX`: whatever is there after `wait`). A
    /// joined record (the dedup changelog's batches) holds several outputs: the outputs are counted,
    /// not the records.
    async fn outputs_on(
        &self,
        codec: &Codec,
        role: TopicRole,
        want: usize,
        wait: Duration,
    ) -> Vec<(TopicRole, String)> {
        let kind = role.event_kind().expect("output roles carry events");
        let deadline = tokio::time::Instant::now() + wait;
        let Some(mut reader) =
            TopicReader::open(&self.bootstrap, self.cfg.topics.name(role), wait).await
        else {
            return Vec::new();
        };
        let mut records = Vec::new();
        let mut outputs = 0;
        while outputs < want {
            let Some(r) = reader.next(deadline).await else {
                break;
            };
            let event = AnyEvent::decode(codec, kind, &r.payload)
                .await
                .unwrap_or_else(|e| panic!("an output on {role:?} does not decode: {e}"));
            let entries = event.into_entries();
            outputs += entries.len();
            records.push(((r.partition, r.offset), entries));
        }
        records.sort_by_key(|(at, _)| *at);
        records
            .into_iter()
            .flat_map(|(_, entries)| entries)
            .map(|entry| (role, (self.identify)(&entry)))
            .collect()
    }

    /// [`Topics::outputs_within`] with a 3 s look for `usize::MAX`.
    pub(crate) async fn outputs(&self, codec: &Codec, at_least: usize) -> Vec<(TopicRole, String)> {
        self.outputs_within(codec, at_least, Duration::from_secs(3))
            .await
    }

    /// Waits (at most [`WAIT`]) until the stage's consumer group committed at least `at_least`
    /// input offsets in total.
    pub(crate) async fn committed_at_least(&self, at_least: i64) -> i64 {
        let group = self
            .cfg
            .group_id
            .clone()
            .expect("the check names its group");
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let n = crate::offsets::committed_total(
                &self.bootstrap,
                &group,
                self.input(),
                self.partitions,
            )
            .await;
            if n >= at_least || std::time::Instant::now() > deadline {
                return n;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Produces `records` to the input topic a few at a time (about 100 per second), in a task.
    pub(crate) fn produce_paced(
        &self,
        records: Vec<(Option<Vec<u8>>, Vec<u8>)>,
    ) -> tokio::task::JoinHandle<()> {
        let (bootstrap, topic) = (self.bootstrap.clone(), self.input().to_owned());
        tokio::spawn(async move {
            let mut records = records;
            while !records.is_empty() {
                let rest = records.split_off(records.len().min(5));
                produce_raw_all(&bootstrap, &topic, records).await;
                records = rest;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    }

    /// The environment a stage process reads its configuration from.
    pub(crate) fn process_env(&self) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        env.insert("LEADFLOW_BOOTSTRAP_SERVERS".into(), self.bootstrap.clone());
        if let Some(g) = &self.cfg.group_id {
            env.insert("LEADFLOW_GROUP_ID".into(), g.clone());
        }
        for role in TopicRole::ALL {
            env.insert(
                format!(
                    "LEADFLOW_TOPICS__{}",
                    role.config_key().to_ascii_uppercase()
                ),
                self.cfg.topics.name(role).to_owned(),
            );
        }
        env.insert("LEADFLOW_HTTP__LISTEN".into(), "127.0.0.1:0".into());
        env.insert("LEADFLOW_SHUTDOWN_GRACE_MS".into(), "20000".into());
        env.insert(
            "LEADFLOW_KAFKA_OVERRIDES".into(),
            format!("session.timeout.ms={SESSION_TIMEOUT_MS},heartbeat.interval.ms=500"),
        );
        env
    }
}

/// The roles of `expected`, in first-seen order.
pub(crate) fn roles(expected: &[(TopicRole, String)]) -> Vec<TopicRole> {
    let mut roles = Vec::new();
    for (r, _) in expected {
        if !roles.contains(r) {
            roles.push(*r);
        }
    }
    roles
}

/// Encodes events as (key, payload) records.
pub(crate) async fn encode<E: leadflow_events::Event>(
    codec: &Codec,
    events: &[E],
) -> Vec<(Option<Vec<u8>>, Vec<u8>)> {
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        let bytes = codec.encode("compliance", e).await.expect("input encodes");
        out.push((Some(e.key().as_bytes().to_vec()), bytes));
    }
    out
}
