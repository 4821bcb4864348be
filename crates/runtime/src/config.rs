//! Service configuration: one serde struct with defaults, layered defaults → `--config` file →
//! `LEADFLOW_*` environment → command-line flags, validated at start-up with a clear message.
//!
//! Nested keys use `__` in the environment: `LEADFLOW_TOPICS__RAW=leads.raw.v2`,
//! `LEADFLOW_STAGE__CONFIDENCE_THRESHOLD=0.8`, `LEADFLOW_SECURITY__PROTOCOL=SASL_SSL`. Broker security
//! is the `[security]` table (`kafka_security.rs`: SASL/SCRAM, TLS, passwords as secrets); other raw
//! librdkafka settings go in the `[kafka]` table of the file or in
//! `LEADFLOW_KAFKA_OVERRIDES="client.rack=eu-west-1a,linger.ms=20"` (never a password there).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use leadflow_events::{RegistryConfig, TopicNames};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Default broker address, shared by every binary.
pub const DEFAULT_BOOTSTRAP_SERVERS: &str = "127.0.0.1:9092";

/// Arguments every leadflow binary takes.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct CommonArgs {
    /// Kafka bootstrap servers, comma separated.
    #[arg(long, env = "LEADFLOW_BOOTSTRAP_SERVERS", global = true)]
    pub bootstrap_servers: Option<String>,
    /// TOML configuration file; environment variables (LEADFLOW_*) override it.
    #[arg(long, env = "LEADFLOW_CONFIG", global = true)]
    pub config: Option<PathBuf>,
}

/// Stage-specific settings, the `[stage]` table of a service's config.
pub trait StageSettings: Serialize + DeserializeOwned + Default + Send + Sync + 'static {
    /// Checks values that serde cannot; the message names the key and what is wrong.
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }
}

/// No stage-specific settings (the CLI, simple stages).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoSettings {}

impl StageSettings for NoSettings {}

pub use crate::kafka_security::SecurityConfig;

/// The HTTP endpoint serving `/metrics`, `/healthz`, `/readyz`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// `host:port`; port 0 picks a free port (tests).
    pub listen: String,
    /// `/readyz` answers 503 once no request to the broker has succeeded for this long (the
    /// stage probes the broker every quarter of it; `crates/runtime/RULES.md` rule 5). 0: never.
    pub unready_after_ms: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:9100".into(),
            unready_after_ms: 15_000,
        }
    }
}

/// Where unprocessable input goes and who owns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExceptionsConfig {
    /// Team that owns exceptions unless the stage names another.
    pub owner: String,
    /// Hours the owner has to resolve one (the record's `due_at`).
    pub due_in_hours: u32,
}

impl Default for ExceptionsConfig {
    fn default() -> Self {
        Self {
            owner: "revops".into(),
            due_in_hours: 24,
        }
    }
}

/// Backoff for retryable errors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryConfig {
    pub initial_backoff_ms: u64,
    pub max_backoff_ms: u64,
    /// Attempts before a retryable error becomes fatal (the process exits non-zero for its supervisor).
    pub max_attempts: u32,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            initial_backoff_ms: 200,
            max_backoff_ms: 30_000,
            // 8 doubling delays (51 s) + 6 x 30 s = about 4 minutes, under librdkafka's default
            // max.poll.interval.ms (5 minutes); see `resilience::backoff` tests
            max_attempts: 15,
        }
    }
}

/// How the stage's consumer lives in its group (`crates/runtime/RULES.md`, rules 1 and 3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupConfig {
    /// Lagging input partitions that no live member of the group has held for this long make the
    /// member leave and rejoin the group, so the coordinator assigns them (0 turns the watch off).
    pub rejoin_after_ms: u64,
    /// Offsets of acknowledged inputs are committed at least this often: a crash (SIGKILL)
    /// redelivers at most the inputs acknowledged in the last interval.
    pub commit_interval_ms: u64,
    /// Static group membership (`group.instance.id`, KIP-345): a stable name per instance, e.g. the
    /// pod name. A restarted instance with the same name takes its partitions back without a
    /// rebalance; a stopped one keeps them until its session times out. Unset: dynamic membership.
    pub instance_id: Option<String>,
}

impl Default for GroupConfig {
    fn default() -> Self {
        Self {
            rejoin_after_ms: 10_000,
            // measured: 3 SIGKILLs of a busy stage redelivered ~33 inputs per kill at 1 s, ~9 at
            // 200 ms (crates/runtime/RULES.md 3); a commit is sent only when offsets moved
            commit_interval_ms: 200,
            instance_id: None,
        }
    }
}

/// Logging output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: String,
    /// A tracing filter, e.g. `info` or `leadflow_runtime=debug,info`; `RUST_LOG` overrides it.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: "text".into(),
            level: "info".into(),
        }
    }
}

/// Everything a service needs, with the stage's own settings under `stage`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, bound = "S: StageSettings")]
pub struct ServiceConfig<S: StageSettings> {
    pub bootstrap_servers: String,
    /// Consumer group; `leadflow-<stage>` when unset.
    pub group_id: Option<String>,
    pub topics: TopicNames,
    /// Confluent-compatible schema registry; single-object encoding when absent.
    pub registry: Option<RegistryConfig>,
    pub security: SecurityConfig,
    /// Raw librdkafka settings, passed through unchanged (they win over everything else).
    pub kafka: BTreeMap<String, String>,
    pub http: HttpConfig,
    pub exceptions: ExceptionsConfig,
    pub retry: RetryConfig,
    pub group: GroupConfig,
    pub log: LogConfig,
    /// Milliseconds to finish in-flight work after SIGTERM before giving up.
    pub shutdown_grace_ms: u64,
    pub stage: S,
}

impl<S: StageSettings> Default for ServiceConfig<S> {
    fn default() -> Self {
        Self {
            bootstrap_servers: DEFAULT_BOOTSTRAP_SERVERS.into(),
            group_id: None,
            topics: TopicNames::default(),
            registry: None,
            security: SecurityConfig::default(),
            kafka: BTreeMap::new(),
            http: HttpConfig::default(),
            exceptions: ExceptionsConfig::default(),
            retry: RetryConfig::default(),
            group: GroupConfig::default(),
            log: LogConfig::default(),
            shutdown_grace_ms: 10_000,
            stage: S::default(),
        }
    }
}

/// The configuration could not be loaded or is invalid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Parse(#[source] Box<figment::Error>),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl<S: StageSettings> ServiceConfig<S> {
    /// Loads defaults → file → `LEADFLOW_*` environment → flags, then validates.
    pub fn load(args: &CommonArgs) -> Result<Self, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Self::default()));
        if let Some(path) = &args.config {
            if !Path::new(path).exists() {
                return Err(ConfigError::MissingFile(path.clone()));
            }
            fig = fig.merge(Toml::file(path));
        }
        let known = known_top_level_keys::<S>();
        let mut overrides = BTreeMap::new();
        if let Ok(v) = std::env::var("LEADFLOW_KAFKA_OVERRIDES") {
            for pair in v.split(',').filter(|p| !p.trim().is_empty()) {
                let (pk, pv) = pair.split_once('=').ok_or_else(|| {
                    ConfigError::Invalid(format!(
                        "LEADFLOW_KAFKA_OVERRIDES entry {pair:?} is not key=value"
                    ))
                })?;
                overrides.insert(pk.trim().to_owned(), pv.trim().to_owned());
            }
        }
        fig = fig.merge(
            Env::prefixed("LEADFLOW_")
                .filter(move |k| {
                    let k = k.as_str().to_ascii_lowercase();
                    let top = k.split("__").next().unwrap_or_default();
                    known.iter().any(|n| n == top)
                })
                .split("__"),
        );
        if let Some(b) = &args.bootstrap_servers {
            fig = fig.merge(Serialized::default("bootstrap_servers", b));
        }
        let mut cfg: Self = fig.extract().map_err(|e| ConfigError::Parse(Box::new(e)))?;
        cfg.kafka.extend(overrides);
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks values serde cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if self.bootstrap_servers.trim().is_empty() {
            return bad(
                "bootstrap_servers is empty; set --bootstrap-servers or LEADFLOW_BOOTSTRAP_SERVERS"
                    .into(),
            );
        }
        for server in self.bootstrap_servers.split(',') {
            if !server.trim().contains(':') {
                return bad(format!(
                    "bootstrap server {server:?} must be host:port (in bootstrap_servers)"
                ));
            }
        }
        self.topics.validate().map_err(ConfigError::Invalid)?;
        if self.http.listen.parse::<std::net::SocketAddr>().is_err() {
            return bad(format!(
                "http.listen {:?} must be an address like 127.0.0.1:9100",
                self.http.listen
            ));
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return bad(format!(
                "log.format must be text or json, got {:?}",
                self.log.format
            ));
        }
        if self.retry.initial_backoff_ms == 0
            || self.retry.max_backoff_ms < self.retry.initial_backoff_ms
        {
            return bad("retry.initial_backoff_ms must be > 0 and <= retry.max_backoff_ms".into());
        }
        if self.group.commit_interval_ms == 0 {
            return bad("group.commit_interval_ms must be > 0".into());
        }
        if self
            .group
            .instance_id
            .as_deref()
            .is_some_and(|i| i.trim().is_empty())
        {
            return bad("group.instance_id must not be empty when set".into());
        }
        if self.exceptions.owner.trim().is_empty() {
            return bad("exceptions.owner must name a team".into());
        }
        self.security
            .validate(&self.kafka)
            .map_err(ConfigError::Invalid)?;
        self.stage
            .validate()
            .map_err(|m| ConfigError::Invalid(format!("stage.{m}")))
    }

    /// The consumer group for `stage`.
    pub fn group_for(&self, stage: &str) -> String {
        self.group_id
            .clone()
            .unwrap_or_else(|| format!("leadflow-{stage}"))
    }

    /// librdkafka client settings common to consumers and producers.
    pub fn client_settings(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        m.insert("bootstrap.servers".into(), self.bootstrap_servers.clone());
        m.extend(self.security.client_settings());
        m.extend(self.kafka.clone());
        m
    }
}

/// `LEADFLOW_*` variables in the environment that no setting reads (typos, other tools' settings);
/// services log them at start so a misspelt override does not go unnoticed.
pub fn unknown_env_vars<S: StageSettings>() -> Vec<String> {
    let known = known_top_level_keys::<S>();
    std::env::vars()
        .filter_map(|(k, _)| {
            let rest = k.strip_prefix("LEADFLOW_")?.to_ascii_lowercase();
            let top = rest.split("__").next().unwrap_or_default().to_owned();
            let read =
                known.contains(&top) || matches!(rest.as_str(), "config" | "kafka_overrides");
            (!read).then_some(k)
        })
        .collect()
}

fn known_top_level_keys<S: StageSettings>() -> Vec<String> {
    match serde_json::to_value(ServiceConfig::<S>::default()) {
        Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}
