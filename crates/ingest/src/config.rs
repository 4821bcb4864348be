//! `[stage]` settings of `leadflow-ingest` (the rest of its configuration is the runtime's
//! `ServiceConfig`: broker, topics, security, `[http] listen`, log). Every number is explained in
//! `crates/ingest/RULES.md`.

use leadflow_runtime::{Secret, StageSettings};
use serde::{Deserialize, Serialize};

/// The ingest service's own settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestSettings {
    /// Largest request body accepted, in bytes (larger: 413).
    pub max_body_bytes: usize,
    /// Most leads in one `POST /v1/leads:batch` (more: 413).
    pub max_batch: usize,
    /// How long an answer is replayed for a retried request (same `Idempotency-Key`, or same event id
    /// from the same publisher), in seconds.
    pub idempotency_window_secs: u64,
    /// Most idempotency entries kept in memory (oldest evicted first); also bounds the start-up replay.
    pub idempotency_max_entries: usize,
    /// Start-up replay of `leads.raw` (rebuilding the idempotency memory) gives up after this long and
    /// serves with what it read (logged), in milliseconds.
    pub rebuild_timeout_ms: u64,
    /// A record not acknowledged by the broker within this many milliseconds fails (503); it is
    /// librdkafka's `message.timeout.ms` for the ingest producer.
    pub ack_timeout_ms: u64,
    /// Records the producer may hold unacknowledged; beyond it requests get 429 with `Retry-After`
    /// (librdkafka's `queue.buffering.max.messages`).
    pub max_queued_records: u32,
    /// The `Retry-After` seconds of a 429 or 503.
    pub retry_after_secs: u32,
    /// A signed webhook's timestamp may differ from the clock by at most this many seconds.
    pub signature_tolerance_secs: u64,
    /// Interval of the broker reachability probe while it is considered down, in milliseconds.
    pub broker_probe_interval_ms: u64,
    /// The publishers allowed to post leads.
    pub publishers: Vec<PublisherConfig>,
    /// A TOML file with more `[[publishers]]` (e.g. mounted from a Kubernetes Secret), read at start.
    pub publishers_file: Option<String>,
}

impl Default for IngestSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 1_048_576,
            max_batch: 500,
            idempotency_window_secs: 86_400,
            idempotency_max_entries: 1_000_000,
            rebuild_timeout_ms: 30_000,
            ack_timeout_ms: 10_000,
            max_queued_records: 100_000,
            retry_after_secs: 1,
            signature_tolerance_secs: 300,
            broker_probe_interval_ms: 1_000,
            publishers: Vec::new(),
            publishers_file: None,
        }
    }
}

/// One publisher: its id (stamped into `source_system`), its API keys (SHA-256 hashes, hex) and its
/// webhook signing secret.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublisherConfig {
    /// `[a-z0-9_-]`, 1 to 64 characters; becomes the events' `source_system` and a metrics label.
    pub id: String,
    /// Lower-case hex SHA-256 of each API key the publisher may use (several during a rotation).
    #[serde(default)]
    pub api_key_sha256: Vec<String>,
    /// HMAC-SHA256 secret of its signed webhooks (`{ env = "VAR" }` or `{ file = "/path" }`).
    #[serde(default)]
    pub webhook_secret: Option<Secret>,
}

impl IngestSettings {
    /// `publishers` plus those of `publishers_file`, validated together.
    pub fn resolve_publishers(&self) -> Result<Self, String> {
        let mut out = self.clone();
        if let Some(path) = &self.publishers_file {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct File {
                #[serde(default)]
                publishers: Vec<PublisherConfig>,
            }
            use figment::providers::Format as _;
            if !std::path::Path::new(path).exists() {
                return Err(format!("stage.publishers_file {path} does not exist"));
            }
            let file: File = figment::Figment::from(figment::providers::Toml::file(path))
                .extract()
                .map_err(|e| format!("stage.publishers_file {path}: {e}"))?;
            out.publishers.extend(file.publishers);
            out.publishers_file = None;
        }
        out.validate()?;
        Ok(out)
    }
}

impl StageSettings for IngestSettings {
    fn validate(&self) -> Result<(), String> {
        if self.max_body_bytes < 1024 {
            return Err("max_body_bytes must be at least 1024".into());
        }
        if self.max_batch == 0 {
            return Err("max_batch must be at least 1".into());
        }
        if self.ack_timeout_ms == 0 || self.max_queued_records == 0 {
            return Err("ack_timeout_ms and max_queued_records must be > 0".into());
        }
        if self.broker_probe_interval_ms == 0 {
            return Err("broker_probe_interval_ms must be > 0".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, p) in self.publishers.iter().enumerate() {
            let valid_id = !p.id.is_empty()
                && p.id.len() <= 64
                && p.id.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
                });
            if !valid_id {
                return Err(format!(
                    "publishers[{i}].id {:?} must be 1-64 characters of a-z, 0-9, _ and -",
                    p.id
                ));
            }
            if !seen.insert(p.id.as_str()) {
                return Err(format!("publishers[{i}].id {:?} is listed twice", p.id));
            }
            for h in &p.api_key_sha256 {
                if h.len() != 64
                    || !h
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                {
                    return Err(format!(
                        "publishers[{i}].api_key_sha256 entries must be 64 lower-case hex characters (sha256sum of the key)"
                    ));
                }
            }
            if p.api_key_sha256.is_empty() && p.webhook_secret.is_none() {
                return Err(format!(
                    "publishers[{i}] ({}) has neither api_key_sha256 nor webhook_secret: it could never authenticate",
                    p.id
                ));
            }
            if p.webhook_secret.as_ref().is_some_and(Secret::is_empty) {
                return Err(format!("publishers[{i}].webhook_secret is empty"));
            }
        }
        Ok(())
    }
}
