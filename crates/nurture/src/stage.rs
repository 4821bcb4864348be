//! The `Stage` shell: leads.tiered → the enrolment's receipt on handoff.deliveries and its
//! `ENROLLED` activity on handoff.activity; what cannot be enrolled goes to the exceptions topic for
//! marketing-ops.

use std::sync::Arc;
use std::time::Duration;

use leadflow_events::{ErrorKind, TierDecision, TopicRole};
use leadflow_notify::hubspot_api::HubspotApi;
use leadflow_runtime::resilience::BackoffPolicy;
use leadflow_runtime::{Context, Output, Stage, StageError, StageRegistry};

use crate::enrol::{Plan, plan};
use crate::lists::{EnrolError, Lists};
use crate::metrics::NurtureMetrics;
use crate::settings::NurtureSettings;

/// Why the stage could not be built.
#[derive(Debug, thiserror::Error)]
pub enum NurtureInitError {
    #[error("cannot register the nurture metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    #[error("http client: {0}")]
    Http(#[from] reqwest::Error),
}

/// The nurture stage. Stateless between inputs: HubSpot holds the enrolments, and both calls are
/// idempotent.
#[derive(Clone)]
pub struct NurtureStage {
    settings: Arc<NurtureSettings>,
    lists: Arc<Lists>,
    metrics: NurtureMetrics,
}

impl NurtureStage {
    pub fn new(
        settings: &NurtureSettings,
        registry: &StageRegistry,
    ) -> Result<Self, NurtureInitError> {
        let timeout = Duration::from_millis(settings.attempt_timeout_ms.max(1));
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent("leadflow-nurture")
            .build()?;
        let token = settings.hubspot.token.clone().unwrap_or_default();
        let api = HubspotApi::new(
            http,
            &settings.hubspot.api_url,
            token,
            crate::lists::MAX_RETRY_AFTER,
        );
        let policy = BackoffPolicy {
            initial: Duration::from_millis(settings.initial_backoff_ms),
            max: Duration::from_millis(settings.max_backoff_ms),
            jitter: 0.0,
        };
        Ok(Self {
            lists: Arc::new(Lists::new(
                api,
                &settings.hubspot.record_url,
                policy,
                settings.retry_attempts,
                &settings.hubspot.lead_id_property,
            )),
            settings: Arc::new(settings.clone()),
            metrics: NurtureMetrics::register(registry)?,
        })
    }

    pub fn metrics(&self) -> &NurtureMetrics {
        &self.metrics
    }

    fn exception(&self, kind: ErrorKind, reason: String) -> StageError {
        StageError::Poison {
            kind,
            reason,
            owner: Some(self.settings.exceptions_owner.clone()),
        }
    }
}

impl Stage for NurtureStage {
    type Input = TierDecision;
    const NAME: &'static str = "nurture";
    const INPUT: TopicRole = TopicRole::Tiered;

    /// Each decision's enrolment is independent of the previous one's (HubSpot calls are
    /// idempotent): several at once per partition, outputs and offsets still in order.
    fn partition_concurrency(&self) -> usize {
        self.settings.partition_concurrency
    }

    async fn process(&self, input: TierDecision, ctx: &Context) -> Result<Vec<Output>, StageError> {
        let tier = input.tier.as_str();
        let enrol = match plan(&input, &self.settings) {
            Ok(Plan::Enrol(e)) => e,
            Ok(Plan::Skip(skip)) => {
                self.metrics.decision(tier, skip.label());
                return Ok(Vec::new());
            }
            Err(e) => {
                self.metrics.decision(tier, "no_email");
                return Err(self.exception(ErrorKind::MissingField, e.to_string()));
            }
        };
        let done = match self.lists.enrol(&enrol, || self.metrics.retried()).await {
            Ok(done) => done,
            Err(e) => {
                self.metrics.decision(tier, "failed");
                let kind = match e {
                    EnrolError::Refused(_) => ErrorKind::Validation,
                    EnrolError::GaveUp { .. } => ErrorKind::Delivery,
                };
                return Err(
                    self.exception(kind, format!("the {tier} sequence enrolment failed: {e}"))
                );
            }
        };
        self.metrics.decision(tier, "enrolled");
        let now = ctx.now;
        self.metrics
            .enrolled_after((now.0 - enrol.decided_at.0) as f64 / 1000.0);
        Ok(vec![
            Output::to(TopicRole::Deliveries, enrol.receipt(&done, now)),
            Output::to(TopicRole::Activity, enrol.activity(now)),
        ])
    }
}
