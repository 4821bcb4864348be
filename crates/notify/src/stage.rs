//! The `Stage` shell: handoff.packets → handoff.deliveries (+ leads.exceptions for what can never be
//! delivered). State (ledger, breakers) lives in the shared `Notifier` behind interior mutability.

use std::sync::Arc;
use std::time::Duration;

use leadflow_events::AnyEvent;
use leadflow_events::{
    Codec, DeliveryChannel, ErrorKind, ExceptionRecord, HandoffPacket, Timestamp, TopicRole,
};
use leadflow_runtime::{
    Clock, Context, Journal, Output, SideInput, SideStart, Stage, StageError, StageRegistry,
    SystemClock,
};

use crate::channel::Channel;
use crate::deliver::{DeliveryRules, Notifier, Undeliverable};
use crate::email::EmailChannel;
use crate::hubspot::HubspotChannel;
use crate::metrics::NotifyMetrics;
use crate::packet::Handoff;
use crate::receipt::channel_label;
use crate::settings::NotifySettings;
use crate::slack::SlackChannel;
use crate::slack_dm::SlackDirect;

/// How long a packet that updates an account's card waits for the card's own Slack post to be in
/// the ledger (RULES.md §1d: the card's packet may be in delivery on another partition); then it
/// posts a card of its own.
pub const CARD_WAIT: Duration = Duration::from_secs(5);

/// The Slack `ts` of the card `key` names, once delivered (within [`CARD_WAIT`]); a webhook post
/// has none.
pub async fn card_ts(notifier: &Notifier, key: &str) -> Option<String> {
    let deadline = tokio::time::Instant::now() + CARD_WAIT;
    loop {
        if let Some(done) = notifier.ledger().delivered(key, DeliveryChannel::Slack) {
            let ts = done.external_id;
            return (!ts.is_empty() && !ts.starts_with("webhook:")).then_some(ts);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The notify stage.
pub struct NotifyStage {
    notifier: Arc<Notifier>,
    exceptions_owner: String,
    exceptions_due: Duration,
    ledger_window: Duration,
    partition_concurrency: usize,
    codec: Option<Codec>,
}

impl NotifyStage {
    /// Builds the channels the settings enable; an enabled channel without its secret is an error.
    pub fn from_settings(s: &NotifySettings, registry: &StageRegistry) -> Result<Self, String> {
        Self::with_clock(s, registry, Arc::new(SystemClock))
    }

    pub fn with_clock(
        s: &NotifySettings,
        registry: &StageRegistry,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, String> {
        use leadflow_runtime::StageSettings;
        s.validate()?;
        let rules = DeliveryRules::from_settings(s);
        let http = reqwest::Client::builder()
            .timeout(rules.attempt_timeout)
            .connect_timeout(rules.attempt_timeout.min(Duration::from_secs(5)))
            .user_agent("leadflow-notify")
            .build()
            .map_err(|e| format!("http client: {e}"))?;
        let mut primaries: Vec<Arc<dyn Channel>> = Vec::new();
        let mut direct: Option<Arc<dyn Channel>> = None;
        if s.slack.enabled {
            let slack = SlackChannel::new(
                &s.slack,
                http.clone(),
                Duration::from_millis(s.crm_link_wait_ms),
            )
            .ok_or("slack is enabled but has neither a bot token nor a webhook URL")?;
            if let Some(dm) = SlackDirect::of(&slack, http.clone()) {
                direct = Some(Arc::new(dm));
            }
            primaries.push(Arc::new(slack));
        }
        if s.hubspot.enabled {
            let crm = HubspotChannel::new(&s.hubspot, http.clone(), rules.max_retry_after)
                .ok_or("hubspot is enabled but has no token")?;
            primaries.push(Arc::new(crm));
        }
        let fallback: Option<Arc<dyn Channel>> = if s.email.enabled {
            Some(Arc::new(EmailChannel::new(
                &s.email,
                rules.attempt_timeout,
            )?))
        } else {
            None
        };
        let metrics = NotifyMetrics::register(registry)
            .map_err(|e| format!("cannot register the notify metrics: {e}"))?;
        let mut notifier = Notifier::new(primaries, fallback, rules, clock, Some(metrics));
        if let Some(dm) = direct {
            notifier = notifier.with_direct(dm);
        }
        Ok(Self::from_parts(Arc::new(notifier), s))
    }

    pub fn from_parts(notifier: Arc<Notifier>, s: &NotifySettings) -> Self {
        Self {
            notifier,
            exceptions_owner: s.exceptions_owner.clone(),
            exceptions_due: Duration::from_secs(s.exceptions_due_minutes * 60),
            ledger_window: Duration::from_secs(s.ledger_window_hours * 3_600),
            partition_concurrency: s.partition_concurrency.max(1),
            codec: Codec::single_object().ok(),
        }
    }

    pub fn notifier(&self) -> &Arc<Notifier> {
        &self.notifier
    }

    /// One exception record per channel that will never deliver this packet: owned by the team the
    /// packet is for, due at the SLA deadline (or `exceptions_due_minutes` from now).
    async fn exception(
        &self,
        h: &Handoff,
        packet: &HandoffPacket,
        u: &Undeliverable,
        ctx: &Context,
    ) -> ExceptionRecord {
        let now = ctx.now;
        let fallback_due =
            Timestamp(now.0 + i64::try_from(self.exceptions_due.as_millis()).unwrap_or(0));
        let due_at = h.sla_due.filter(|t| t.0 > now.0).unwrap_or(fallback_due);
        let original = match &self.codec {
            Some(c) => c.encode(&ctx.topic, packet).await.unwrap_or_default(),
            None => Vec::new(),
        };
        ExceptionRecord {
            exception_id: format!("notify:{}:{}", u.key, channel_label(u.channel)),
            stage: "notify".into(),
            source_topic: ctx.topic.clone(),
            source_partition: ctx.partition,
            source_offset: ctx.offset,
            source_key: Some(h.lead_id.clone()),
            error_kind: ErrorKind::Delivery,
            reason: u.reason.clone(),
            owner: if h.team.is_empty() {
                self.exceptions_owner.clone()
            } else {
                h.team.clone()
            },
            lead_id: Some(h.lead_id.clone()),
            raised_at: now,
            due_at,
            original,
        }
    }
}

impl Stage for NotifyStage {
    type Input = HandoffPacket;
    const NAME: &'static str = "notify";
    const INPUT: TopicRole = TopicRole::Packets;

    /// Packets of one partition are independent deliveries: several run at once, so one slow or
    /// dead channel does not hold the others back (outputs and offsets stay in partition order).
    fn partition_concurrency(&self) -> usize {
        self.partition_concurrency
    }

    async fn process(
        &self,
        packet: HandoffPacket,
        ctx: &Context,
    ) -> Result<Vec<Output>, StageError> {
        let mut h = Handoff::from_packet(&packet);
        h.supersedes = crate::hubspot_reassign::superseded_keys(
            &h,
            &self.notifier.ledger().crm_keys_of_lead(&h.lead_id),
        );
        if let Some(key) = h.card_key().map(str::to_owned) {
            h.card_ts = card_ts(&self.notifier, &key).await;
        }
        if h.idempotency_key.is_empty() {
            return Err(StageError::poison(
                ErrorKind::Validation,
                "packet has no idempotency key / packet id",
            ));
        }
        let report = self.notifier.deliver(&h).await;
        let mut out: Vec<Output> = report
            .receipts
            .into_iter()
            .map(|r| Output::to(TopicRole::Deliveries, r))
            .collect();
        for u in &report.undeliverable {
            let record = self.exception(&h, &packet, u, ctx).await;
            out.push(Output::to(TopicRole::Exceptions, record));
        }
        Ok(out)
    }

    fn side_inputs(&self) -> Vec<SideInput> {
        vec![SideInput {
            role: TopicRole::Deliveries,
            start: SideStart::Since(self.ledger_window),
        }]
    }

    /// Intents (RULES.md §3a) go to `handoff.deliveries` through the run's journal.
    fn attach_journal(&self, journal: Journal) {
        self.notifier
            .set_intent_log(Arc::new(crate::intent::JournalIntents(journal)));
    }

    fn on_side_input(&self, event: AnyEvent) -> Result<(), StageError> {
        if let AnyEvent::DeliveryReceipt(r) = event {
            self.notifier.ledger().apply(&r);
        }
        Ok(())
    }
}

/// The channels that have a delivered receipt for a key (tests, tooling).
pub fn delivered_channels(n: &Notifier, key: &str) -> Vec<DeliveryChannel> {
    [
        DeliveryChannel::Slack,
        DeliveryChannel::Crm,
        DeliveryChannel::Email,
    ]
    .into_iter()
    .filter(|c| n.ledger().delivered(key, *c).is_some())
    .collect()
}
