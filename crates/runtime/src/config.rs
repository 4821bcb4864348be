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
            // the duplicate window of a crash (crates/runtime/RULES.md 3); a commit is sent only
            // when offsets moved
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
    /// Loads defaults → file → `LEADFLOW_*` environment → flags, then validates. `service` is the
    /// binary's name (`enrich`, `sla-watchdog`, `cli`): its `[stage]` keys also come from
    /// `LEADFLOW_<SERVICE>__<KEY>` (see [`stage_env_prefix`]), so one environment (a shared
    /// ConfigMap or Secret) can hold every binary's settings.
    pub fn load(service: &str, args: &CommonArgs) -> Result<Self, ConfigError> {
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
                    top != "stage" && known.iter().any(|n| n == top)
                })
                .split("__"),
        );
        let shared = shared_stage_keys::<S>().read;
        fig = fig.merge(
            Env::prefixed(SHARED_STAGE_PREFIX)
                .filter(move |k| shared.iter().any(|s| s == &k.as_str().to_ascii_lowercase()))
                .split("__")
                .map(|k| format!("stage.{k}").into()),
        );
        fig = fig.merge(
            Env::prefixed(&stage_env_prefix(service))
                .split("__")
                .map(|k| format!("stage.{k}").into()),
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

/// The `[stage]` table of this repository's `deploy/config/<service>.toml`, read as `C`: what the
/// stages' tests compare with `C::default()` (the deploy files document every key with its
/// default).
pub fn deploy_config_stage<C: serde::de::DeserializeOwned>(
    service: &str,
) -> Result<C, Box<figment::Error>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/config")
        .join(format!("{service}.toml"));
    Figment::from(Toml::file(path))
        .extract_inner("stage")
        .map_err(Box::new)
}

/// The environment prefix of a binary's own `[stage]` keys: `LEADFLOW_ENRICH__`,
/// `LEADFLOW_SLA_WATCHDOG__` (the name upper-cased, `-` as `_`). Keys under it are checked as
/// strictly as the file's `[stage]` table: an unknown one stops the binary.
pub fn stage_env_prefix(service: &str) -> String {
    format!(
        "LEADFLOW_{}__",
        service.to_ascii_uppercase().replace('-', "_")
    )
}

/// The prefix every binary reads for `[stage]` keys, whoever they belong to: a binary takes the
/// keys its settings know and leaves the others (they belong to another binary's `[stage]`).
pub const SHARED_STAGE_PREFIX: &str = "LEADFLOW_STAGE__";

/// What a binary does with the `LEADFLOW_*` variables of its environment that it does not read.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct UnreadEnv {
    /// Names no binary reads (a misspelt top-level key, another tool's setting): logged as
    /// warnings so a typo does not go unnoticed.
    pub unknown: Vec<String>,
    /// Names that belong to another binary (`LEADFLOW_<OTHER>__…`, or a `LEADFLOW_STAGE__…` key
    /// this binary's settings do not have): logged at debug level, since a shared environment
    /// holds them on purpose.
    pub other_binaries: Vec<String>,
}

/// Sorts the `LEADFLOW_*` variables this binary does not read into [`UnreadEnv`]; services log
/// them at start.
pub fn unread_env_vars<S: StageSettings>(service: &str) -> UnreadEnv {
    let known = known_top_level_keys::<S>();
    let own = stage_env_prefix(service);
    let shared = shared_stage_keys::<S>();
    let mut unread = UnreadEnv::default();
    let mut names: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
    names.sort();
    for k in names {
        let Some(rest) = k.strip_prefix("LEADFLOW_") else {
            continue;
        };
        let rest = rest.to_ascii_lowercase();
        let top = rest.split("__").next().unwrap_or_default().to_owned();
        if k.starts_with(&own) || matches!(rest.as_str(), "config" | "kafka_overrides") {
            continue;
        }
        if top == "stage" {
            if shared.ignored.iter().any(|i| i == &k) {
                unread.other_binaries.push(k);
            }
        } else if known.contains(&top) {
            continue;
        } else if rest.contains("__") {
            unread.other_binaries.push(k);
        } else {
            unread.unknown.push(k);
        }
    }
    unread
}

/// The `LEADFLOW_STAGE__*` variables of the environment, split into the keys `S` has (lower-case,
/// prefix stripped, as the loader reads them) and the variable names it has not. A key counts as
/// unknown when `S` refuses it as an unknown field; a known key with a bad value is read, so the
/// load names it.
struct SharedStageKeys {
    read: Vec<String>,
    ignored: Vec<String>,
}

fn shared_stage_keys<S: StageSettings>() -> SharedStageKeys {
    let mut keys = SharedStageKeys {
        read: Vec::new(),
        ignored: Vec::new(),
    };
    for (name, _) in std::env::vars() {
        let Some(rest) = name.strip_prefix(SHARED_STAGE_PREFIX) else {
            continue;
        };
        let key = rest.to_ascii_lowercase();
        let only = key.clone();
        let alone = Figment::from(Serialized::defaults(S::default())).merge(
            Env::prefixed(SHARED_STAGE_PREFIX)
                .filter(move |k| k.as_str().eq_ignore_ascii_case(&only))
                .split("__"),
        );
        let unknown = alone.extract::<S>().err().is_some_and(|errors| {
            errors
                .into_iter()
                .any(|e| matches!(e.kind, figment::error::Kind::UnknownField(..)))
        });
        if unknown {
            keys.ignored.push(name);
        } else {
            keys.read.push(key);
        }
    }
    keys
}

fn known_top_level_keys<S: StageSettings>() -> Vec<String> {
    match serde_json::to_value(ServiceConfig::<S>::default()) {
        Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}
