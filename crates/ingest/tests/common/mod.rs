//! An in-process ingest service on a test broker with two publishers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use leadflow_events::{Codec, LeadEvent};
use leadflow_ingest::auth::{hash_api_key, sign};
use leadflow_ingest::config::{IngestSettings, PublisherConfig};
use leadflow_ingest::server::{Options, Running, start};
use leadflow_runtime::{Secret, ServiceConfig, StageRegistry, SystemClock};
use leadflow_testkit::{Record, consume_all, create_topic};
use tokio_util::sync::CancellationToken;

pub const FORMS_KEY: &str = "key-forms-0123456789";
pub const FORMS_SECRET: &str = "whsec-forms";
pub const CHAT_KEY: &str = "key-chat-0123456789";
pub const CHAT_SECRET: &str = "whsec-chat";

pub struct Harness {
    /// The public API.
    pub url: String,
    /// Probes and metrics.
    pub ops_url: String,
    pub topic: String,
    pub bootstrap: String,
    pub running: Running,
    pub shutdown: CancellationToken,
    pub http: reqwest::Client,
}

pub fn publishers() -> Vec<PublisherConfig> {
    vec![
        PublisherConfig {
            id: "forms".into(),
            api_key_sha256: vec![hex::encode(hash_api_key(FORMS_KEY))],
            webhook_secret: Some(Secret::new(FORMS_SECRET)),
            crm_replies: true,
        },
        PublisherConfig {
            id: "chat-bot".into(),
            api_key_sha256: vec![hex::encode(hash_api_key(CHAT_KEY))],
            webhook_secret: Some(Secret::new(CHAT_SECRET)),
            crm_replies: false,
        },
    ]
}

pub fn config(bootstrap: &str, topic: &str) -> ServiceConfig<IngestSettings> {
    let mut cfg = ServiceConfig::<IngestSettings> {
        bootstrap_servers: bootstrap.to_owned(),
        ..Default::default()
    };
    cfg.topics.raw = topic.to_owned();
    cfg.http.listen = "127.0.0.1:0".into();
    cfg.stage.api_listen = "127.0.0.1:0".into();
    cfg.stage.publishers = publishers();
    // I5: the records are signed, and the restart tests read them back through the MAC check
    cfg.stage.record_signing_secret = Some(Secret::new("test-record-signing-secret"));
    cfg
}

impl Harness {
    pub async fn start(
        bootstrap: &str,
        tweak: impl FnOnce(&mut ServiceConfig<IngestSettings>),
    ) -> Self {
        let topic = leadflow_testkit::unique_name("ingest-raw");
        create_topic(bootstrap, &topic, 3).await;
        Self::start_on(bootstrap, &topic, tweak).await
    }

    pub async fn start_on(
        bootstrap: &str,
        topic: &str,
        tweak: impl FnOnce(&mut ServiceConfig<IngestSettings>),
    ) -> Self {
        Self::start_clocked(bootstrap, topic, Arc::new(SystemClock), tweak).await
    }

    pub async fn start_clocked(
        bootstrap: &str,
        topic: &str,
        clock: Arc<dyn leadflow_runtime::Clock>,
        tweak: impl FnOnce(&mut ServiceConfig<IngestSettings>),
    ) -> Self {
        let mut cfg = config(bootstrap, topic);
        tweak(&mut cfg);
        let shutdown = CancellationToken::new();
        let running = start(
            &cfg,
            Options {
                clock,
                shutdown: shutdown.clone(),
                metrics: StageRegistry::new("ingest"),
            },
        )
        .await
        .unwrap();
        Self {
            url: format!("http://{}", running.addr),
            ops_url: format!("http://{}", running.ops_addr),
            topic: topic.to_owned(),
            bootstrap: bootstrap.to_owned(),
            running,
            shutdown,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(15), self.running.task).await;
    }

    pub async fn post(
        &self,
        path: &str,
        key: Option<&str>,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, serde_json::Value, reqwest::header::HeaderMap) {
        let mut rb = self
            .http
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(k) = key {
            rb = rb.header("authorization", format!("Bearer {k}"));
        }
        for (h, v) in headers {
            rb = rb.header(*h, *v);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        (status, json, headers)
    }

    /// A signed webhook POST (Slack-style `v0` signature) at `timestamp`.
    pub async fn post_signed(
        &self,
        path: &str,
        secret: &str,
        timestamp: i64,
        body: &str,
    ) -> (u16, serde_json::Value) {
        let sig = sign(secret, timestamp, body.as_bytes());
        let ts = timestamp.to_string();
        let (s, j, _) = self
            .post(
                path,
                None,
                &[
                    ("x-leadflow-timestamp", &ts),
                    ("x-leadflow-signature", &sig),
                ],
                body,
            )
            .await;
        (s, j)
    }

    pub async fn records(&self, expected: usize, timeout: Duration) -> Vec<Record> {
        consume_all(&self.bootstrap, &self.topic, expected, timeout).await
    }

    pub async fn events(&self, expected: usize, timeout: Duration) -> Vec<LeadEvent> {
        let codec = Codec::single_object().unwrap();
        let mut out = Vec::new();
        for r in self.records(expected, timeout).await {
            out.push(codec.decode::<LeadEvent>(&r.payload).await.unwrap());
        }
        out
    }

    pub async fn metrics(&self) -> String {
        self.http
            .get(format!("{}/metrics", self.ops_url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

pub fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

pub fn lead(event_id: &str) -> serde_json::Value {
    serde_json::json!({
        "event_id": event_id,
        "lead_id": format!("lead-{event_id}"),
        "source_record_id": format!("rec-{event_id}"),
        "occurred_at": "2026-11-30T09:30:00Z",
        "event_type": "FORM_SUBMISSION",
        "contact": {"email": "ada@acme.example", "first_name": "Ada"},
        "company": {"name": "Acme", "domain": "acme.example"},
        "attributes": {"utm_source": "ads"}
    })
}
