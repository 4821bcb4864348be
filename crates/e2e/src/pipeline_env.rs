//! What every end-to-end test sets up the same way: a set of unique topics per role, the sample roster
//! and a generated lead stream on them, and each service's `LEADFLOW_*` environment pointing at them.

use std::collections::BTreeMap;
use std::ops::Index;

use leadflow_events::{Codec, Event, LeadEvent, RepState, Timestamp};
use leadflow_generate::LeadGenerator;
use leadflow_generate::roster_file;
use leadflow_sandbox::Sandbox;
use leadflow_testkit::{create_topic, produce_raw_all, unique_name};

/// Unique topic names for one test, by role (the `[topics]` configuration key, e.g. `model_params`).
pub struct TestTopics {
    names: BTreeMap<&'static str, String>,
}

impl TestTopics {
    /// Creates one topic per role named `<prefix>-<role>-<unique>`: `partitions` partitions each, one
    /// for the compacted `reps` and `model_params`.
    pub async fn create(
        bootstrap: &str,
        prefix: &str,
        roles: &[&'static str],
        partitions: i32,
    ) -> Self {
        let names: BTreeMap<&'static str, String> = roles
            .iter()
            .map(|role| (*role, unique_name(&format!("{prefix}-{role}"))))
            .collect();
        for (role, topic) in &names {
            let n = if matches!(*role, "reps" | "model_params") {
                1
            } else {
                partitions
            };
            create_topic(bootstrap, topic, n).await;
        }
        Self { names }
    }

    /// (role, topic) pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.names.iter().map(|(r, t)| (*r, t.as_str()))
    }
}

impl Index<&str> for TestTopics {
    type Output = String;

    fn index(&self, role: &str) -> &String {
        self.names
            .get(role)
            .unwrap_or_else(|| panic!("the test created no topic for role {role}"))
    }
}

/// The `LEADFLOW_*` environment of one service in a test: the broker, a unique consumer group, the
/// metrics endpoint on an ephemeral port, a 15 s shutdown grace, the test's topics — and for
/// `leadflow-enrich` the bundled demo dataset, said explicitly (production names its own file).
pub struct StageEnv {
    vars: BTreeMap<String, String>,
}

impl StageEnv {
    pub fn new(bootstrap: &str, binary: &str, topics: &TestTopics) -> Self {
        let mut env = Self {
            vars: BTreeMap::new(),
        };
        env = env
            .set("BOOTSTRAP_SERVERS", bootstrap)
            .set("GROUP_ID", &unique_name(&format!("e2e-{binary}")))
            .set("HTTP__LISTEN", "127.0.0.1:0")
            .set("SHUTDOWN_GRACE_MS", "15000");
        for (role, topic) in topics.iter() {
            env = env.set(&format!("TOPICS__{}", role.to_ascii_uppercase()), topic);
        }
        if binary == "leadflow-enrich" {
            env = env.stage("PROVIDER__KIND", "demo");
        }
        env
    }

    /// `LEADFLOW_<key>` = value (`key` as in the environment, e.g. `HTTP__LISTEN`).
    pub fn set(mut self, key: &str, value: &str) -> Self {
        self.vars
            .insert(format!("LEADFLOW_{key}"), value.to_owned());
        self
    }

    /// `LEADFLOW_STAGE__<key>` = value.
    pub fn stage(self, key: &str, value: &str) -> Self {
        self.set(&format!("STAGE__{key}"), value)
    }

    /// notify's Slack, HubSpot and SMTP endpoints on the sandbox's stand-ins.
    pub fn notify_on(mut self, sandbox: &Sandbox) -> Self {
        self.vars.extend(notify_sandbox_vars(sandbox));
        self
    }

    pub fn vars(&self) -> &BTreeMap<String, String> {
        &self.vars
    }
}

/// notify's `LEADFLOW_STAGE__*` variables pointing Slack, HubSpot and SMTP at the sandbox's stand-ins.
pub fn notify_sandbox_vars(sandbox: &Sandbox) -> Vec<(String, String)> {
    [
        ("SLACK__API_URL", sandbox.slack_api_url()),
        ("SLACK__BOT_TOKEN", "xoxb-sandbox-token".to_owned()),
        ("HUBSPOT__API_URL", sandbox.hubspot_api_url()),
        ("HUBSPOT__TOKEN", "pat-sandbox-token".to_owned()),
        ("EMAIL__SMTP_HOST", "127.0.0.1".to_owned()),
        ("EMAIL__SMTP_PORT", sandbox.smtp_addr.port().to_string()),
        ("EMAIL__TLS", "none".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (format!("LEADFLOW_STAGE__{k}"), v))
    .collect()
}

/// Publishes `deploy/roster.csv` to `topic` the way `leadflow reps import` does; returns the reps.
pub async fn publish_sample_roster(
    bootstrap: &str,
    topic: &str,
    codec: &Codec,
    start: Timestamp,
) -> Vec<RepState> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/roster.csv"
    ))
    .expect("deploy/roster.csv is readable");
    let roster = roster_file::parse("roster.csv", &text, start).expect("the sample roster parses");
    let mut records = Vec::new();
    for r in &roster {
        records.push((
            Some(r.rep_id.as_bytes().to_vec()),
            codec.encode(topic, r).await.expect("a rep encodes"),
        ));
    }
    produce_raw_all(bootstrap, topic, records).await;
    roster
}

/// Publishes `count` generated leads (`seed`, starting at `start`) to `topic`, keyed like upstream
/// publishers key them; returns them in order.
pub async fn publish_generated_leads(
    bootstrap: &str,
    topic: &str,
    codec: &Codec,
    seed: u64,
    start: Timestamp,
    count: usize,
) -> Vec<LeadEvent> {
    let mut generator = LeadGenerator::new(seed, start);
    let mut leads = Vec::with_capacity(count);
    let mut records = Vec::with_capacity(count);
    for _ in 0..count {
        let lead = generator.next_lead().event;
        records.push((
            Some(lead.key().as_bytes().to_vec()),
            codec.encode(topic, &lead).await.expect("a lead encodes"),
        ));
        leads.push(lead);
    }
    produce_raw_all(bootstrap, topic, records).await;
    leads
}
