//! The rep-action endpoints' work (RULES.md RA1–RA7): verify, judge against the view, record the
//! activity on `handoff.activity` (answered only once the broker acknowledged it), then answer the
//! rep through Slack's `response_url`. The view follows the side inputs live.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use leadflow_events::{Codec, ErrorKind, RepActivity, Timestamp, TopicRole};
use leadflow_runtime::exceptions::{Source, exception_record};
use leadflow_runtime::side_input::{SideMessage, spawn_side_inputs};
use leadflow_runtime::{Clock, Secret, ServiceConfig, SideInput, SideStart, StageRegistry};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::decide::{Refusal, judge_click, judge_crm};
use super::metrics::RepActionMetrics;
use super::signatures::{SignatureError, verify_hubspot, verify_slack};
use super::view::RepActionView;
use super::{hubspot_events, respond, slack_payload};
use crate::config::IngestSettings;

/// What an endpoint answers.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// 200 (Slack) / 204 (HubSpot): read, and whatever it meant is recorded or answered.
    Done,
    Unauthenticated(SignatureError),
    BadRequest(String),
    /// The broker did not acknowledge: nothing recorded (HubSpot retries on it).
    Unavailable(String),
}

/// The rep-action side of ingest.
pub struct RepActions {
    view: Mutex<RepActionView>,
    slack_secret: Option<Secret>,
    hubspot_secret: Option<Secret>,
    hubspot_url: Option<String>,
    tolerance_secs: u64,
    producer: FutureProducer,
    codec: Arc<Codec>,
    activity_topic: String,
    exceptions_topic: String,
    exceptions: leadflow_runtime::config::ExceptionsConfig,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    /// Slack signatures already taken, with their expiry (seconds): a verbatim replay inside the
    /// tolerance changes nothing (RA1).
    seen: Mutex<HashMap<String, i64>>,
    metrics: RepActionMetrics,
    ack_timeout: Duration,
}

impl std::fmt::Debug for RepActions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RepActions").finish_non_exhaustive()
    }
}

impl RepActions {
    /// Whether the configuration turns the endpoints on.
    pub fn enabled(s: &IngestSettings) -> bool {
        s.slack_signing_secret.is_some() || s.hubspot_client_secret.is_some()
    }

    /// Builds the service and starts following the view's side inputs; returns once they have
    /// been read up to their end (or after `rebuild_timeout_ms`, logged).
    pub async fn start(
        cfg: &ServiceConfig<IngestSettings>,
        s: &IngestSettings,
        codec: Arc<Codec>,
        clock: Arc<dyn Clock>,
        registry: &StageRegistry,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Arc<Self>> {
        let producer: FutureProducer = leadflow_runtime::kafka::producer_config(cfg).create()?;
        let this = Arc::new(Self {
            view: Mutex::new(RepActionView::with_window_days(s.rep_action_window_days)),
            slack_secret: s.slack_signing_secret.clone(),
            hubspot_secret: s.hubspot_client_secret.clone(),
            hubspot_url: s.hubspot_webhook_url.clone(),
            tolerance_secs: s.signature_tolerance_secs,
            producer,
            codec: codec.clone(),
            activity_topic: cfg.topics.name(TopicRole::Activity).to_owned(),
            exceptions_topic: cfg.topics.name(TopicRole::Exceptions).to_owned(),
            exceptions: cfg.exceptions.clone(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?,
            clock: clock.clone(),
            seen: Mutex::default(),
            metrics: RepActionMetrics::register(registry)?,
            ack_timeout: Duration::from_millis(s.ack_timeout_ms),
        });
        let window = SideStart::Since(Duration::from_secs(
            u64::from(s.rep_action_window_days.max(1)) * 86_400,
        ));
        let inputs = [
            (TopicRole::Reps, SideStart::Beginning),
            (TopicRole::Packets, window),
            (TopicRole::Activity, window),
            (TopicRole::Deliveries, window),
        ]
        .map(|(role, start)| SideInput { role, start });
        let (tx, mut rx) = mpsc::channel::<SideMessage>(1_024);
        spawn_side_inputs(
            cfg,
            "leadflow-ingest-rep-actions",
            &inputs,
            codec,
            clock,
            tx,
            shutdown,
        )
        .await?;
        let mut pending = inputs.len();
        let deadline = tokio::time::Instant::now() + Duration::from_millis(s.rebuild_timeout_ms);
        while pending > 0 {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(SideMessage::CaughtUp(_))) => pending -= 1,
                Ok(Some(SideMessage::Event(_, e))) => this.lock_view().apply(&e),
                Ok(Some(SideMessage::Position { .. })) => {}
                Ok(None) => break,
                Err(_) => {
                    tracing::warn!(
                        "rep-action view: side inputs not read to their end within rebuild_timeout_ms; serving with what was read"
                    );
                    break;
                }
            }
        }
        tracing::info!(leads = this.lock_view().leads(), "rep-action view ready");
        let follower = this.clone();
        tokio::spawn(async move {
            while let Some(m) = rx.recv().await {
                if let SideMessage::Event(_, e) = m {
                    follower.lock_view().apply(&e);
                }
            }
        });
        Ok(this)
    }

    fn lock_view(&self) -> MutexGuard<'_, RepActionView> {
        self.view.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A Slack interaction (RA1, RA3, RA4).
    pub async fn slack(&self, timestamp: &str, signature: &str, body: &[u8]) -> Answer {
        let now = self.clock.now();
        let Some(secret) = &self.slack_secret else {
            return self.unauthenticated("slack", SignatureError::NotConfigured);
        };
        if timestamp.is_empty() || signature.is_empty() {
            return self.unauthenticated("slack", SignatureError::Missing);
        }
        let now_secs = now.millis() / 1000;
        if let Err(e) = verify_slack(
            secret.expose(),
            timestamp,
            signature,
            body,
            now_secs,
            self.tolerance_secs,
        ) {
            return self.unauthenticated("slack", e);
        }
        if !self.first_sight(signature, now_secs) {
            self.metrics.action("slack", "replayed");
            return Answer::Done;
        }
        let interaction = match slack_payload::parse(body, now) {
            Ok(i) => i,
            Err(e) => {
                self.metrics.action("slack", "bad_payload");
                return Answer::BadRequest(e.to_string());
            }
        };
        let judged = {
            let mut view = self.lock_view();
            let judged = judge_click(&view, &interaction.click);
            if let Ok(a) = &judged {
                view.apply_activity(a); // claimed: a second click now reads "twice"
            }
            judged
        };
        let reply = match judged {
            Ok(activity) => match self.record(&activity).await {
                Ok(()) => {
                    self.metrics.action("slack", "recorded");
                    let view = self.lock_view();
                    respond::updated_message(&view, interaction.message.as_ref(), &activity)
                }
                Err(e) => {
                    self.lock_view().unclaim(&activity);
                    self.metrics.action("slack", "unavailable");
                    tracing::warn!(error = %e, "a rep's click was not recorded: broker unavailable");
                    respond::ephemeral(
                        "leadflow could not record your click just now (its broker did not answer). Nothing changed; please click again in a minute.",
                    )
                }
            },
            Err(refusal) => {
                self.metrics.action("slack", refusal.label());
                if refusal.needs_operator() {
                    self.raise(&interaction.click, &refusal, body, now).await;
                }
                let view = self.lock_view();
                respond::ephemeral(&respond::refusal_text(&view, &refusal))
            }
        };
        if let Some(url) = interaction.response_url {
            self.answer_later(url, reply);
        }
        Answer::Done
    }

    /// A HubSpot webhook (RA2, RA5): every event leadflow recognises on one of its tasks or contacts
    /// becomes one activity; recorded all, or none (503, HubSpot sends it again).
    pub async fn hubspot(
        &self,
        method: &str,
        host_uri: &str,
        path_and_query: &str,
        timestamp: &str,
        signature: &str,
        body: &[u8],
    ) -> Answer {
        let now = self.clock.now();
        let Some(secret) = &self.hubspot_secret else {
            return self.unauthenticated("hubspot", SignatureError::NotConfigured);
        };
        if timestamp.is_empty() || signature.is_empty() {
            return self.unauthenticated("hubspot", SignatureError::Missing);
        }
        let uri = match &self.hubspot_url {
            Some(base) => match path_and_query.split_once('?') {
                Some((_, q)) => format!("{base}?{q}"),
                None => base.clone(),
            },
            None => format!("http://{host_uri}{path_and_query}"),
        };
        if let Err(e) = verify_hubspot(
            secret.expose(),
            method,
            &uri,
            body,
            timestamp,
            signature,
            now.millis(),
            self.tolerance_secs,
        ) {
            return self.unauthenticated("hubspot", e);
        }
        let events = match hubspot_events::parse(body) {
            Ok(e) => e,
            Err(e) => {
                self.metrics.action("hubspot", "bad_payload");
                return Answer::BadRequest(e);
            }
        };
        let mut claimed = Vec::new();
        {
            let mut view = self.lock_view();
            for e in &events {
                let Some(signal) = hubspot_events::signal(e, now) else {
                    self.metrics.action("hubspot", "ignored");
                    continue;
                };
                match judge_crm(&view, &signal) {
                    Ok(a) => {
                        view.apply_activity(&a);
                        claimed.push(a);
                    }
                    Err(skip) => self.metrics.action("hubspot", skip.label()),
                }
            }
        }
        for (i, a) in claimed.iter().enumerate() {
            if let Err(e) = self.record(a).await {
                let mut view = self.lock_view();
                for a in &claimed[i..] {
                    view.unclaim(a);
                }
                self.metrics.action("hubspot", "unavailable");
                return Answer::Unavailable(e);
            }
            self.metrics.action("hubspot", "recorded");
        }
        Answer::Done
    }

    fn unauthenticated(&self, source: &str, e: SignatureError) -> Answer {
        self.metrics.action(source, "unauthenticated");
        tracing::info!(source, error = %e, "rep-action request refused (401)");
        Answer::Unauthenticated(e)
    }

    /// Remembers a signature for the tolerance window; false when it was already taken.
    fn first_sight(&self, signature: &str, now_secs: i64) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.retain(|_, until| *until >= now_secs);
        let tolerance = i64::try_from(self.tolerance_secs).unwrap_or(i64::MAX);
        seen.insert(
            signature.trim().to_owned(),
            now_secs.saturating_add(tolerance),
        )
        .is_none()
    }

    /// Produces the activity (keyed by lead) and waits for the acknowledgement.
    async fn record(&self, a: &RepActivity) -> Result<(), String> {
        let payload = self
            .codec
            .encode(&self.activity_topic, a)
            .await
            .map_err(|e| e.to_string())?;
        self.producer
            .send(
                FutureRecord::to(&self.activity_topic)
                    .key(&a.lead_id)
                    .payload(&payload),
                self.ack_timeout,
            )
            .await
            .map(|_| ())
            .map_err(|(e, _)| e.to_string())
    }

    /// An exception record an operator must act on (RA7), keyed by the click (a retry is the same
    /// entry).
    async fn raise(
        &self,
        click: &super::decide::Click,
        refusal: &Refusal,
        body: &[u8],
        now: Timestamp,
    ) {
        let reason = match refusal {
            Refusal::UnknownUser => format!(
                "a Slack click by user {} who is no rep of the roster (add their slack_user_id with `leadflow reps`)",
                click.slack_user_id
            ),
            _ => format!(
                "a Slack click on packet {} of lead {} that leadflow does not know (older than rep_action_window_days, or not its message)",
                click.packet_id, click.lead_id
            ),
        };
        let offset = i64::from_be_bytes(
            uuid::Uuid::new_v5(
                &uuid::Uuid::NAMESPACE_OID,
                format!("{}|{}|{}", click.slack_user_id, click.packet_id, click.at.0).as_bytes(),
            )
            .as_bytes()[..8]
                .try_into()
                .unwrap_or([0; 8]),
        ) & i64::MAX;
        let record = exception_record(
            &Source {
                stage: "ingest",
                topic: "slack.interactions",
                partition: 0,
                offset,
                key: Some(click.lead_id.as_bytes()),
                payload: body,
            },
            ErrorKind::Validation,
            reason,
            None,
            Some(click.lead_id.clone()),
            &self.exceptions,
            now,
        );
        let sent = match self.codec.encode(&self.exceptions_topic, &record).await {
            Ok(payload) => self
                .producer
                .send(
                    FutureRecord::to(&self.exceptions_topic)
                        .key(&click.lead_id)
                        .payload(&payload),
                    self.ack_timeout,
                )
                .await
                .map(|_| ())
                .map_err(|(e, _)| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = sent {
            tracing::warn!(error = %e, "rep-action exception record not written");
        }
    }

    /// Posts the answer to Slack's `response_url` without holding the request (Slack wants its 200
    /// within 3 s); a failure is logged and counted, the activity stays recorded.
    fn answer_later(&self, url: String, reply: Value) {
        // the URL comes from a payload Slack signed (RA1): it is Slack's own hooks endpoint
        let http = self.http.clone();
        let metrics = self.metrics.clone();
        tokio::spawn(async move {
            match http.post(&url).json(&reply).send().await {
                Ok(r) if r.status().is_success() => metrics.answer("sent"),
                Ok(r) => {
                    metrics.answer("failed");
                    tracing::warn!(status = %r.status(), "Slack response_url refused the answer");
                }
                Err(e) => {
                    metrics.answer("failed");
                    tracing::warn!(error = %e, "Slack response_url unreachable");
                }
            }
        });
    }
}
