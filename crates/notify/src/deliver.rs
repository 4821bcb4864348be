//! The delivery engine: both primary channels at once, each with retries (exponential backoff with
//! jitter, `Retry-After` honoured) behind its own circuit breaker; the email fallback once a primary
//! has been unavailable for `fallback_after` or failed for good; at most one effect per packet and
//! channel (the ledger); a receipt per channel and attempt. No Kafka types here.

use std::ops::ControlFlow;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::future::{join_all, select_all};
use leadflow_events::{DeliveryChannel, DeliveryReceipt, DeliveryStatus, Timestamp};
use leadflow_runtime::Clock;
use leadflow_runtime::resilience::{BackoffPolicy, BreakerConfig};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::channel::{Attempt, Channel, ChannelError, CrmLink, Delivered, Link};
use crate::email::channel_name;
use crate::intent::IntentLog;
use crate::lane::{Lane, LanePermit};
use crate::ledger::{Done, Ledger};
use crate::metrics::NotifyMetrics;
use crate::packet::Handoff;
use crate::receipt::{channel_label, receipt, status_label};
use crate::settings::{EMAIL_BUDGET_MS, NotifySettings};
use crate::slack_dm::{dm_key, dm_recipient};

/// The numbers of the delivery rules (RULES.md).
#[derive(Clone, Debug)]
pub struct DeliveryRules {
    pub fallback_after: Duration,
    pub give_up_after: Duration,
    pub attempt_timeout: Duration,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    pub jitter: f64,
    pub max_retry_after: Duration,
    pub breaker_failures: u32,
    pub breaker_open: Duration,
    pub email_budget: Duration,
}

impl DeliveryRules {
    pub fn from_settings(s: &NotifySettings) -> Self {
        let ms = Duration::from_millis;
        Self {
            fallback_after: ms(s.fallback_after_ms),
            give_up_after: ms(s.give_up_after_ms),
            attempt_timeout: ms(s.attempt_timeout_ms),
            initial_backoff: ms(s.initial_backoff_ms),
            max_backoff: ms(s.max_backoff_ms),
            jitter: s.jitter,
            max_retry_after: ms(s.max_retry_after_ms),
            breaker_failures: s.breaker_failures,
            breaker_open: ms(s.breaker_open_ms),
            email_budget: ms(EMAIL_BUDGET_MS),
        }
    }

    /// Each channel's circuit breaker (the runtime's RULES.md, rule 8).
    pub fn breaker(&self) -> BreakerConfig {
        BreakerConfig {
            threshold: self.breaker_failures,
            open_for: self.breaker_open,
            // a probe whose packet was cancelled never reports: free its slot
            probe_timeout: Some(self.attempt_timeout * 2),
        }
    }

    /// Backoff before attempt `attempt + 1`: initial × 2^(attempt−1), capped, ± jitter.
    pub fn backoff(&self, attempt: u32) -> Duration {
        BackoffPolicy {
            initial: self.initial_backoff,
            max: self.max_backoff,
            jitter: self.jitter,
        }
        .delay(attempt, rand::random::<f64>())
    }
}

/// A channel that will not deliver this packet: goes to the exceptions topic.
#[derive(Clone, Debug, PartialEq)]
pub struct Undeliverable {
    pub channel: DeliveryChannel,
    pub reason: String,
    /// The idempotency key of the effect that failed (the packet's, or the direct message's).
    pub key: String,
}

/// Everything one packet produced.
#[derive(Clone, Debug, Default)]
pub struct DeliveryReport {
    pub receipts: Vec<DeliveryReceipt>,
    pub undeliverable: Vec<Undeliverable>,
}

/// The wait before a packet's next attempt on a lane.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Wait {
    delay: Duration,
    /// An outage's backoff, cut short when the channel answers another packet; a wait the service
    /// asked for (`Retry-After`, a rate limit) is waited out.
    ends_on_recovery: bool,
}

#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Delivered,
    Rejected(String),
    GaveUp(String),
}

#[derive(Clone, Debug, Default)]
struct Progress {
    unavailable_since: Option<Instant>,
    last_error: Option<String>,
    /// Some(true) delivered, Some(false) failed for good.
    done: Option<bool>,
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// One packet on one lane: what `run_lane` and its steps share.
struct LaneRun<'a> {
    lane: &'a Lane,
    h: &'a Handoff,
    link: &'a CrmLink,
    progress: &'a watch::Sender<Progress>,
    ch: DeliveryChannel,
    label: &'static str,
    started: Instant,
    attempt: u32,
    first_failure: Option<Instant>,
    last_error: String,
    receipts: Vec<DeliveryReceipt>,
}

impl LaneRun<'_> {
    /// The channel's delivery failed for good (`reason`): a `FAILED` receipt, and the progress
    /// says done without success.
    fn failed(&mut self, reason: &str, now: Timestamp) {
        self.receipts.push(receipt(
            self.h,
            self.ch,
            DeliveryStatus::Failed,
            self.attempt,
            None,
            Some(reason.to_owned()),
            now,
            None,
        ));
        self.progress.send_modify(|p| {
            p.done = Some(false);
            p.last_error = Some(reason.to_owned());
        });
    }
}

/// The CRM has no link to give now: Slack stops waiting for one.
fn no_link_now(link: &CrmLink) {
    link.send_if_modified(|l| {
        let pending = *l == Link::Pending;
        if pending {
            *l = Link::None;
        }
        pending
    });
}

pub struct Notifier {
    primaries: Vec<Lane>,
    fallback: Option<Lane>,
    /// The direct message to the original owner of a reassigned lead (Slack Web API only).
    direct: Option<Lane>,
    ledger: Ledger,
    rules: DeliveryRules,
    clock: Arc<dyn Clock>,
    metrics: Option<NotifyMetrics>,
    /// Where intents go before a journaled call (RULES.md §3a); none: only the ledger remembers.
    intents: OnceLock<Arc<dyn IntentLog>>,
}

/// The `error` of a `DELIVERED` receipt whose post was found rather than made.
pub const FOUND_NOTE: &str = "already posted: found by its metadata in the conversation history";

impl Notifier {
    pub fn new(
        primaries: Vec<Arc<dyn Channel>>,
        fallback: Option<Arc<dyn Channel>>,
        rules: DeliveryRules,
        clock: Arc<dyn Clock>,
        metrics: Option<NotifyMetrics>,
    ) -> Self {
        Self {
            metrics,
            primaries: primaries
                .into_iter()
                .map(|c| Lane::new(c, rules.breaker()))
                .collect(),
            fallback: fallback.map(|c| Lane::new(c, rules.breaker())),
            direct: None,
            ledger: Ledger::new(2_000_000),
            rules,
            clock,
            intents: OnceLock::new(),
        }
    }

    /// Sets where intents are written (once; later calls are ignored).
    pub fn set_intent_log(&self, log: Arc<dyn IntentLog>) {
        let _ = self.intents.set(log);
    }

    /// Adds the direct message to the original owner of a reassigned lead (RULES.md §1).
    pub fn with_direct(mut self, channel: Arc<dyn Channel>) -> Self {
        self.direct = Some(Lane::new(channel, self.rules.breaker()));
        self
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    pub fn rules(&self) -> &DeliveryRules {
        &self.rules
    }

    /// Delivers one handoff to every primary channel at once (and to email when the rules say so).
    /// Returns within `give_up_after` (+ the email budget when the fallback starts late).
    pub async fn deliver(&self, h: &Handoff) -> DeliveryReport {
        let deadline = Instant::now() + self.rules.give_up_after;
        let has_crm = self
            .primaries
            .iter()
            .any(|l| l.channel.kind() == DeliveryChannel::Crm);
        let link: CrmLink = watch::Sender::new(
            match self
                .ledger
                .delivered(&h.idempotency_key, DeliveryChannel::Crm)
                .and_then(|d| d.url)
            {
                Some(url) => Link::Ready(url),
                None if has_crm => Link::Pending,
                None => Link::None,
            },
        );
        let progress: Vec<watch::Sender<Progress>> = self
            .primaries
            .iter()
            .map(|_| watch::Sender::new(Progress::default()))
            .collect();
        let receivers: Vec<(DeliveryChannel, watch::Receiver<Progress>)> = self
            .primaries
            .iter()
            .zip(&progress)
            .map(|(l, p)| (l.channel.kind(), p.subscribe()))
            .collect();
        let lanes = join_all(
            self.primaries
                .iter()
                .zip(&progress)
                .map(|(lane, p)| self.run_lane(lane, h, &link, &[], deadline, p)),
        );
        let fallback = self.fallback(h, receivers, &link, deadline);
        let direct = self.direct(h, deadline);
        let (results, (mut email_receipts, email_failure), direct) =
            tokio::join!(lanes, fallback, direct);

        let mut report = DeliveryReport::default();
        for (lane, (receipts, outcome)) in self.primaries.iter().zip(results) {
            report.receipts.extend(receipts);
            let reason = match outcome {
                Outcome::Delivered => continue,
                Outcome::Rejected(r) => format!("rejected: {r}"),
                Outcome::GaveUp(r) => r,
            };
            let email = match (&self.fallback, &email_failure) {
                (None, _) => "no email fallback configured".to_owned(),
                (Some(_), None) => "email fallback sent".to_owned(),
                (Some(_), Some(e)) => format!("email fallback failed too: {e}"),
            };
            report.undeliverable.push(Undeliverable {
                channel: lane.channel.kind(),
                reason: format!(
                    "{} could not deliver: {reason}; {email}",
                    channel_name(lane.channel.kind())
                ),
                key: h.idempotency_key.clone(),
            });
        }
        report.receipts.append(&mut email_receipts);
        if let Some((mut receipts, undeliverable)) = direct {
            report.receipts.append(&mut receipts);
            report.undeliverable.extend(undeliverable);
        }
        report.receipts.sort_by_key(|r| r.delivered_at.0);
        if let Some(m) = &self.metrics {
            for r in &report.receipts {
                m.receipts
                    .with_label_values(&[channel_label(r.channel), status_label(r.status)])
                    .inc();
            }
        }
        report
    }

    /// The direct message to the original owner of a reassigned lead, as its own effect: keyed by
    /// [`dm_key`] in the ledger and on its receipts, so a redelivered packet never sends it twice.
    /// `None` when the packet needs none (not a reassignment, no Slack id, no Web API).
    async fn direct(
        &self,
        h: &Handoff,
        deadline: Instant,
    ) -> Option<(Vec<DeliveryReceipt>, Option<Undeliverable>)> {
        let lane = self.direct.as_ref()?;
        dm_recipient(h)?;
        let mut dm = h.clone();
        dm.idempotency_key = dm_key(&h.idempotency_key);
        let link: CrmLink = watch::Sender::new(Link::None);
        let progress = watch::Sender::new(Progress::default());
        let (receipts, outcome) = self
            .run_lane(lane, &dm, &link, &[], deadline, &progress)
            .await;
        let failed = match outcome {
            Outcome::Delivered => None,
            Outcome::Rejected(r) => Some(format!("rejected: {r}")),
            Outcome::GaveUp(r) => Some(r),
        };
        Some((
            receipts,
            failed.map(|reason| Undeliverable {
                channel: lane.channel.kind(),
                reason: format!(
                    "the direct message to the original owner could not be delivered: {reason}; the team post still names them"
                ),
                key: dm.idempotency_key.clone(),
            }),
        ))
    }

    /// Waits until a primary has been unavailable for `fallback_after` or failed for good, then
    /// sends the email (once per packet). Returns its receipts and, when it failed, why.
    async fn fallback(
        &self,
        h: &Handoff,
        mut rxs: Vec<(DeliveryChannel, watch::Receiver<Progress>)>,
        link: &CrmLink,
        deadline: Instant,
    ) -> (Vec<DeliveryReceipt>, Option<String>) {
        let Some(lane) = &self.fallback else {
            return (Vec::new(), None);
        };
        let failures = loop {
            let now = Instant::now();
            let mut failed = Vec::new();
            let mut pending = false;
            let mut next: Option<Instant> = None;
            for (ch, rx) in &mut rxs {
                let p = rx.borrow_and_update().clone();
                let why = p.last_error.clone().unwrap_or_else(|| "unavailable".into());
                match p.done {
                    Some(true) => {}
                    Some(false) => failed.push((*ch, why)),
                    None => {
                        pending = true;
                        if let Some(since) = p.unavailable_since {
                            let at = since + self.rules.fallback_after;
                            if at <= now {
                                failed.push((
                                    *ch,
                                    format!(
                                        "unavailable for {} s ({why})",
                                        now.duration_since(since).as_secs()
                                    ),
                                ));
                            } else {
                                next = earliest(next, Some(at));
                            }
                        }
                    }
                }
            }
            if !failed.is_empty() {
                break failed;
            }
            if !pending {
                return (Vec::new(), None);
            }
            let changed = select_all(rxs.iter_mut().map(|(_, rx)| Box::pin(rx.changed())));
            match next {
                Some(at) => {
                    tokio::select! {
                        _ = changed => {}
                        _ = tokio::time::sleep_until(at) => {}
                    }
                }
                None => {
                    let _ = changed.await;
                }
            }
        };
        let email_deadline = deadline.max(Instant::now() + self.rules.email_budget);
        let done = watch::Sender::new(Progress::default());
        let (mut receipts, outcome) = self
            .run_lane(lane, h, link, &failures, email_deadline, &done)
            .await;
        let fallback_for: Vec<DeliveryChannel> = failures.iter().map(|(c, _)| *c).collect();
        for r in &mut receipts {
            r.fallback_for.clone_from(&fallback_for);
        }
        match outcome {
            Outcome::Delivered => (receipts, None),
            Outcome::Rejected(r) | Outcome::GaveUp(r) => (receipts, Some(r)),
        }
    }

    /// One lane for one packet: attempts until delivered, rejected or out of time (RULES.md §2).
    async fn run_lane(
        &self,
        lane: &Lane,
        h: &Handoff,
        link: &CrmLink,
        failures: &[(DeliveryChannel, String)],
        deadline: Instant,
        progress: &watch::Sender<Progress>,
    ) -> (Vec<DeliveryReceipt>, Outcome) {
        let ch = lane.channel.kind();
        let _claim = self.ledger.claim(&h.idempotency_key, ch).await;
        if let Some(done) = self.ledger.delivered(&h.idempotency_key, ch) {
            return self.already_delivered(h, ch, link, done, progress);
        }
        let mut run = LaneRun {
            lane,
            h,
            link,
            progress,
            ch,
            label: channel_label(ch),
            started: Instant::now(),
            attempt: 0,
            first_failure: None,
            last_error: String::new(),
            receipts: Vec::new(),
        };
        // An intent without its outcome (a crash, or an answer lost): look before calling again.
        let mut uncertain =
            lane.channel.journaled() && self.ledger.intent(&h.idempotency_key, ch).is_some();
        let mut recoveries = lane.recoveries();
        loop {
            if let Some(until) = self.breaker_wait(&run) {
                if until >= deadline {
                    return self.give_up(run);
                }
                tokio::select! {
                    _ = tokio::time::sleep_until(until) => {}
                    _ = recoveries.changed() => {}
                }
                continue;
            }
            run.attempt += 1;
            // a recovery before this attempt is no reason to cut the wait after it short
            recoveries.borrow_and_update();
            let a = Attempt {
                number: run.attempt,
                crm_link: link,
                failures,
            };
            let mut found = false;
            let result = self.attempt(lane, h, &a, &mut uncertain, &mut found).await;
            let now = self.clock.now();
            let wait = match result {
                Ok(d) => return self.delivered(run, d, found, now),
                Err(e) => match self.failed(&mut run, e, now) {
                    ControlFlow::Continue(wait) => wait,
                    ControlFlow::Break(rejected) => return rejected,
                },
            };
            self.retrying(&mut run, now);
            let until = Instant::now() + wait.delay;
            if !wait.ends_on_recovery {
                if until >= deadline {
                    return self.give_up(run);
                }
                tokio::time::sleep_until(until).await;
                continue;
            }
            // an outage: back off, but retry as soon as the channel answers another packet
            tokio::select! {
                _ = tokio::time::sleep_until(until.min(deadline)) => {
                    if until >= deadline {
                        return self.give_up(run);
                    }
                }
                _ = recoveries.changed() => {}
            }
        }
    }

    /// The ledger says this packet already went out on this channel: a `SKIPPED` receipt.
    fn already_delivered(
        &self,
        h: &Handoff,
        ch: DeliveryChannel,
        link: &CrmLink,
        done: Done,
        progress: &watch::Sender<Progress>,
    ) -> (Vec<DeliveryReceipt>, Outcome) {
        if let Some(m) = &self.metrics {
            m.skipped.with_label_values(&[channel_label(ch)]).inc();
        }
        if ch == DeliveryChannel::Crm {
            if let Some(url) = &done.url {
                link.send_replace(Link::Ready(url.clone()));
            }
        }
        let skipped = receipt(
            h,
            ch,
            DeliveryStatus::Skipped,
            0,
            Some(done.external_id),
            Some("already delivered for this idempotency key".into()),
            self.clock.now(),
            done.url,
        );
        progress.send_modify(|p| p.done = Some(true));
        (vec![skipped], Outcome::Delivered)
    }

    /// The breaker's gauge; while it is open, the instant to ask again (and the lane counts as
    /// unavailable since its first failure).
    fn breaker_wait(&self, run: &LaneRun<'_>) -> Option<Instant> {
        let (lane, label) = (run.lane, run.label);
        if let Some(m) = &self.metrics {
            m.breaker
                .with_label_values(&[label])
                .set(lane.state_value());
        }
        let LanePermit::WaitUntil(until) = lane.permit() else {
            return None;
        };
        let since = earliest(lane.unavailable_since(), run.first_failure);
        run.progress.send_modify(|p| {
            p.unavailable_since = earliest(p.unavailable_since, since);
            p.last_error
                .get_or_insert_with(|| format!("{label} circuit breaker open"));
        });
        Some(until)
    }

    /// The channel took the packet: close the breaker, remember it in the ledger, hand the CRM link
    /// on, a `DELIVERED` receipt (`FELL_BACK` for the email).
    fn delivered(
        &self,
        mut run: LaneRun<'_>,
        d: Delivered,
        found: bool,
        now: Timestamp,
    ) -> (Vec<DeliveryReceipt>, Outcome) {
        let (ch, label) = (run.ch, run.label);
        run.lane.success();
        if let Some(m) = &self.metrics {
            m.latency
                .with_label_values(&[label])
                .observe(run.started.elapsed().as_secs_f64());
            m.breaker.with_label_values(&[label]).set(0);
        }
        let done = Done {
            external_id: d.external_id.clone(),
            url: d.url.clone(),
        };
        self.ledger.mark(&run.h.idempotency_key, ch, done);
        if ch == DeliveryChannel::Crm {
            if let Some(url) = &d.url {
                run.link.send_replace(Link::Ready(url.clone()));
            }
        }
        let status = if ch == DeliveryChannel::Email {
            DeliveryStatus::FellBack
        } else {
            DeliveryStatus::Delivered
        };
        run.receipts.push(receipt(
            run.h,
            ch,
            status,
            run.attempt,
            Some(d.external_id),
            found.then(|| FOUND_NOTE.to_owned()),
            now,
            d.url,
        ));
        run.progress.send_modify(|p| p.done = Some(true));
        (run.receipts, Outcome::Delivered)
    }

    /// A failed attempt: a rejection ends the lane (`Break`); a rate limit or an outage tells the
    /// breaker and gives the wait before the next attempt (`Continue`).
    fn failed(
        &self,
        run: &mut LaneRun<'_>,
        e: ChannelError,
        now: Timestamp,
    ) -> ControlFlow<(Vec<DeliveryReceipt>, Outcome), Wait> {
        if let Some(m) = &self.metrics {
            m.failures.with_label_values(&[run.label, e.kind()]).inc();
        }
        match e {
            ChannelError::Rejected { reason } => {
                ControlFlow::Break(self.rejected(run, reason, now))
            }
            ChannelError::RateLimited {
                reason,
                retry_after,
            } => {
                let wait = retry_after.min(self.rules.max_retry_after);
                run.lane.rate_limited(wait);
                run.last_error = format!("{reason}; retry after {} ms", wait.as_millis());
                ControlFlow::Continue(Wait {
                    delay: wait,
                    ends_on_recovery: false,
                })
            }
            ChannelError::Unavailable {
                reason,
                retry_after,
            } => {
                run.lane.failure();
                run.last_error = reason;
                let delay = self
                    .rules
                    .backoff(run.attempt)
                    .max(retry_after.unwrap_or_default())
                    .min(self.rules.max_retry_after);
                ControlFlow::Continue(Wait {
                    delay,
                    // the service asked for its wait: honour it
                    ends_on_recovery: retry_after.is_none(),
                })
            }
        }
    }

    /// Rejected for good: the channel is up (the breaker closes), a `FAILED` receipt.
    fn rejected(
        &self,
        run: &mut LaneRun<'_>,
        reason: String,
        now: Timestamp,
    ) -> (Vec<DeliveryReceipt>, Outcome) {
        run.lane.success();
        if run.ch == DeliveryChannel::Crm {
            no_link_now(run.link);
        }
        tracing::warn!(channel = run.label, lead_id = %run.h.lead_id, "delivery rejected for good (the reason is on the receipt and the exception record)");
        run.failed(&reason, now);
        (std::mem::take(&mut run.receipts), Outcome::Rejected(reason))
    }

    /// An attempt to try again: a `RETRYING` receipt, and the lane counts as unavailable.
    fn retrying(&self, run: &mut LaneRun<'_>, now: Timestamp) {
        if run.ch == DeliveryChannel::Crm {
            // Slack does not wait for a link the CRM cannot give now.
            no_link_now(run.link);
        }
        run.first_failure.get_or_insert_with(Instant::now);
        tracing::info!(channel = run.label, lead_id = %run.h.lead_id, attempt = run.attempt, error = %run.last_error, "delivery attempt failed; retrying");
        run.receipts.push(receipt(
            run.h,
            run.ch,
            DeliveryStatus::Retrying,
            run.attempt,
            None,
            Some(run.last_error.clone()),
            now,
            None,
        ));
        let since = earliest(run.lane.unavailable_since(), run.first_failure);
        let last_error = run.last_error.clone();
        run.progress.send_modify(|p| {
            p.unavailable_since = earliest(p.unavailable_since, since);
            p.last_error = Some(last_error);
        });
    }

    /// One attempt: for a journaled channel, first the lookup when an earlier call may have gone
    /// through (`uncertain`), then the durable intent, then the call (RULES.md §3a).
    async fn attempt(
        &self,
        lane: &Lane,
        h: &Handoff,
        a: &Attempt<'_>,
        uncertain: &mut bool,
        found: &mut bool,
    ) -> Result<Delivered, ChannelError> {
        let ch = lane.channel.kind();
        let label = channel_label(ch);
        let limit = self.rules.attempt_timeout;
        let timed_out = || {
            ChannelError::unavailable(format!(
                "{label}: no answer within {} ms",
                limit.as_millis()
            ))
        };
        let journaled = lane.channel.journaled();
        if journaled && *uncertain {
            match self.ledger.intent(&h.idempotency_key, ch) {
                Some(since) => {
                    let looked = tokio::time::timeout(limit, lane.channel.find(h, since))
                        .await
                        .unwrap_or_else(|_| Err(timed_out()));
                    let result = match &looked {
                        Ok(Some(_)) => "found",
                        Ok(None) => "not_found",
                        Err(e) => e.kind(),
                    };
                    if let Some(m) = &self.metrics {
                        m.lookups.with_label_values(&[label, result]).inc();
                    }
                    match looked {
                        Ok(Some(d)) => {
                            tracing::info!(channel = label, lead_id = %h.lead_id, "an earlier post was found by its metadata; not posting again");
                            *found = true;
                            return Ok(d);
                        }
                        Ok(None) => *uncertain = false,
                        Err(ChannelError::Rejected { reason }) => {
                            // cannot look (a missing history scope): deliver rather than hold
                            tracing::error!(channel = label, lead_id = %h.lead_id, error = %reason, "the lookup of an earlier post was refused; posting without it");
                            *uncertain = false;
                        }
                        Err(e) => return Err(e),
                    }
                }
                None => *uncertain = false,
            }
        }
        if journaled {
            self.write_intent(h, ch, a.number).await?;
        }
        let result = tokio::time::timeout(limit, lane.channel.deliver(h, a))
            .await
            .unwrap_or_else(|_| Err(timed_out()));
        if journaled && matches!(result, Err(ChannelError::Unavailable { .. })) {
            // the call may have reached the channel before it failed
            *uncertain = true;
        }
        result
    }

    /// The intent before a call: a `POSTING` receipt, acknowledged, then remembered in the ledger.
    async fn write_intent(
        &self,
        h: &Handoff,
        ch: DeliveryChannel,
        attempt: u32,
    ) -> Result<(), ChannelError> {
        let now = self.clock.now();
        if let Some(log) = self.intents.get() {
            let intent = receipt(
                h,
                ch,
                DeliveryStatus::Posting,
                attempt,
                None,
                None,
                now,
                None,
            );
            match tokio::time::timeout(self.rules.attempt_timeout, log.write(intent)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    return Err(ChannelError::unavailable(format!(
                        "the intent was not written, not posting: {e}"
                    )));
                }
                Err(_) => {
                    return Err(ChannelError::unavailable(
                        "the intent was not acknowledged in time, not posting",
                    ));
                }
            }
        }
        self.ledger.note_intent(&h.idempotency_key, ch, now);
        Ok(())
    }

    /// Out of time: a `FAILED` receipt naming the last error.
    fn give_up(&self, mut run: LaneRun<'_>) -> (Vec<DeliveryReceipt>, Outcome) {
        let reason = format!(
            "unavailable for {} s after {} attempt(s), gave up (last error: {})",
            run.started.elapsed().as_secs(),
            run.attempt,
            if run.last_error.is_empty() {
                "circuit breaker open"
            } else {
                &run.last_error
            }
        );
        run.failed(&reason, self.clock.now());
        (run.receipts, Outcome::GaveUp(reason))
    }
}
