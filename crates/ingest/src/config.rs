//! `[stage]` settings of `leadflow-ingest` (the rest of its configuration is the runtime's
//! `ServiceConfig`: broker, topics, security, `[http] listen`, log). Every number is explained in
//! `crates/ingest/RULES.md`.

use leadflow_runtime::{Secret, StageSettings};
use serde::{Deserialize, Serialize};

/// The ingest service's own settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestSettings {
    /// Where the public API listens (`/v1/...`, `/openapi.json`); probes and `/metrics` are on the
    /// internal `[http] listen` only.
    pub api_listen: String,
    /// Most open API connections; at the cap new ones wait in the kernel's backlog (C1).
    pub max_connections: usize,
    /// A client must send a request's head within this many milliseconds (also the idle limit of a
    /// kept-alive connection) (C2).
    pub header_read_timeout_ms: u64,
    /// A client must send a request's whole body within this many milliseconds (408 after) (C2).
    pub body_read_timeout_ms: u64,
    /// Largest request body accepted, in bytes (larger: 413).
    pub max_body_bytes: usize,
    /// Most leads in one `POST /v1/leads:batch` (more: 413).
    pub max_batch: usize,
    /// How long an answer is replayed for a retried request (same `Idempotency-Key`, or same event id
    /// from the same publisher), in seconds.
    pub idempotency_window_secs: u64,
    /// Bytes the idempotency memory may hold, split in equal shares between the publishers (each
    /// evicts its own oldest entries first when its share is full).
    pub idempotency_max_bytes: usize,
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
    /// Leads per second each publisher may post (its token bucket's refill rate, R1).
    pub rate_limit_per_sec: u32,
    /// Leads a publisher may post at once above its rate (the bucket's size; at least `max_batch`).
    pub rate_burst: u32,
    /// HMAC key of the headers ingest writes (I5): with it, the idempotency rebuild trusts only records
    /// an ingest holding the same secret wrote (`{ env = "VAR" }` or `{ file = "/path" }`).
    pub record_signing_secret: Option<Secret>,
    /// The publishers allowed to post leads.
    pub publishers: Vec<PublisherConfig>,
    /// A TOML file with more `[[publishers]]` (e.g. mounted from a Kubernetes Secret), read at start.
    pub publishers_file: Option<String>,
    /// The Slack app's signing secret: with it, `POST /v1/slack/interactions` takes the reps' clicks
    /// (RULES.md RA1; `{ env = "VAR" }` or `{ file = "/path" }`).
    pub slack_signing_secret: Option<Secret>,
    /// The HubSpot app's client secret: with it, `POST /v1/crm/hubspot/events` takes HubSpot's
    /// webhooks (RA2).
    pub hubspot_client_secret: Option<Secret>,
    /// The URL HubSpot calls (its v3 signature covers it), e.g.
    /// `https://leadflow.example.com/v1/crm/hubspot/events`; unset, `http://` + the Host header +
    /// the path (a direct connection without TLS termination in front).
    pub hubspot_webhook_url: Option<String>,
    /// Days of `handoff.packets`, `handoff.activity` and `handoff.deliveries` the rep-action view
    /// reads at start (RA3); a click on an older message is refused.
    pub rep_action_window_days: u32,
}

impl Default for IngestSettings {
    fn default() -> Self {
        Self {
            api_listen: "127.0.0.1:8080".into(),
            max_connections: 128,
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 30_000,
            max_body_bytes: 1_048_576,
            max_batch: 500,
            idempotency_window_secs: 86_400,
            idempotency_max_bytes: 268_435_456,
            rebuild_timeout_ms: 30_000,
            ack_timeout_ms: 10_000,
            max_queued_records: 100_000,
            retry_after_secs: 1,
            signature_tolerance_secs: 300,
            broker_probe_interval_ms: 1_000,
            rate_limit_per_sec: 1_000,
            rate_burst: 5_000,
            record_signing_secret: None,
            publishers: Vec::new(),
            publishers_file: None,
            slack_signing_secret: None,
            hubspot_client_secret: None,
            hubspot_webhook_url: None,
            rep_action_window_days: 30,
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
    /// May post contacts' email replies (`/v1/webhooks/hubspot/{publisher}/replies`, RULES.md A3), whose
    /// lead ids are leadflow's own: only for the CRM leadflow enrols nurtured leads into (P6).
    #[serde(default)]
    pub crm_replies: bool,
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
        if self.max_connections == 0
            || self.header_read_timeout_ms == 0
            || self.body_read_timeout_ms == 0
        {
            return Err(
                "max_connections, header_read_timeout_ms and body_read_timeout_ms must be > 0"
                    .into(),
            );
        }
        if self.max_batch == 0 {
            return Err("max_batch must be at least 1".into());
        }
        if self.ack_timeout_ms == 0 || self.max_queued_records == 0 {
            return Err("ack_timeout_ms and max_queued_records must be > 0".into());
        }
        if self.rate_limit_per_sec == 0 || (self.rate_burst as usize) < self.max_batch {
            return Err(format!(
                "rate_limit_per_sec must be > 0 and rate_burst at least max_batch ({}): a full batch must fit the bucket",
                self.max_batch
            ));
        }
        if self.broker_probe_interval_ms == 0 {
            return Err("broker_probe_interval_ms must be > 0".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut key_owner = std::collections::BTreeMap::new();
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
                if let Some(other) = key_owner.insert(h.as_str(), p.id.as_str()) {
                    if other != p.id {
                        return Err(format!(
                            "publishers[{i}] ({}) lists an api_key_sha256 of publisher {other}: one key, one publisher (P1)",
                            p.id
                        ));
                    }
                }
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn publisher(id: &str, hash: &str) -> PublisherConfig {
        PublisherConfig {
            id: id.into(),
            api_key_sha256: vec![hash.into()],
            webhook_secret: None,
            crm_replies: false,
        }
    }

    #[test]
    fn one_key_hash_cannot_serve_two_publishers() {
        let hash = "a".repeat(64);
        let mut s = IngestSettings {
            publishers: vec![
                publisher("forms", &hash),
                publisher("chat", &"b".repeat(64)),
            ],
            ..IngestSettings::default()
        };
        assert_eq!(s.validate(), Ok(()));
        s.publishers[1] = publisher("chat", &hash);
        let e = s.validate().unwrap_err();
        assert!(e.contains("one key, one publisher"), "{e}");
    }
}
