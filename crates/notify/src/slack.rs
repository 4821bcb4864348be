//! Slack: Web API `chat.postMessage` with a bot token (per-team channel), or an incoming webhook when
//! only that is configured. Honours `429` + `Retry-After` and `ok: false` error bodies.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::future::BoxFuture;
use leadflow_events::{DeliveryChannel, Timestamp};
use leadflow_runtime::Secret;
use serde_json::json;

use crate::channel::{
    Attempt, Channel, ChannelError, Delivered, Link, parse_retry_after, transport_error,
};
use crate::notice::{notice_blocks, notice_text};
use crate::packet::Handoff;
use crate::settings::SlackSettings;
use crate::slack_api::api_call;
use crate::slack_card::Card;
use crate::slack_history::{ChannelIds, find_post};
use crate::slack_message::{blocks, fallback_text};

enum Mode {
    Api { base: String, token: Secret },
    Webhook { url: Secret },
}

pub struct SlackChannel {
    http: reqwest::Client,
    mode: Mode,
    default_channel: String,
    channels: BTreeMap<String, String>,
    crm_link_wait: Duration,
    /// Channel names → ids, for the history lookup (RULES.md §3a).
    ids: ChannelIds,
    /// One card update at a time (read, replace, write: RULES.md §1d).
    cards: tokio::sync::Mutex<()>,
}

impl SlackChannel {
    /// `None` when neither a bot token nor a webhook URL is set.
    pub fn new(
        settings: &SlackSettings,
        http: reqwest::Client,
        crm_link_wait: Duration,
    ) -> Option<SlackChannel> {
        let mode = match (&settings.bot_token, &settings.webhook_url) {
            (Some(token), _) if !token.is_empty() => Mode::Api {
                base: settings.api_url.trim_end_matches('/').to_owned(),
                token: token.clone(),
            },
            (_, Some(url)) if !url.is_empty() => Mode::Webhook { url: url.clone() },
            _ => return None,
        };
        Some(SlackChannel {
            http,
            mode,
            default_channel: settings.default_channel.clone(),
            channels: settings.channels.clone(),
            crm_link_wait,
            ids: ChannelIds::default(),
            cards: tokio::sync::Mutex::new(()),
        })
    }

    /// The Web API base URL and bot token; `None` for webhook-only Slack (which cannot open a
    /// direct message).
    pub(crate) fn api(&self) -> Option<(&str, &Secret)> {
        match &self.mode {
            Mode::Api { base, token } => Some((base.as_str(), token)),
            Mode::Webhook { .. } => None,
        }
    }

    /// The channel a team's handoffs go to.
    pub fn channel_for(&self, team: &str) -> &str {
        self.channels
            .get(team)
            .map_or(self.default_channel.as_str(), String::as_str)
    }

    async fn post(&self, h: &Handoff, attempt: &Attempt<'_>) -> Result<Delivered, ChannelError> {
        // Wait briefly for the CRM link (both channels run at once; the contact upsert is fast).
        let mut link = attempt.crm_link.subscribe();
        let _ =
            tokio::time::timeout(self.crm_link_wait, link.wait_for(|l| *l != Link::Pending)).await;
        let crm_url = match &*attempt.crm_link.borrow() {
            Link::Ready(url) => Some(url.clone()),
            Link::Pending | Link::None => None,
        };
        let (text, blocks) = if h.is_notice() {
            (notice_text(h), notice_blocks(h))
        } else {
            (fallback_text(h), blocks(h, crm_url.as_deref()))
        };
        match &self.mode {
            Mode::Api { base, token } => {
                // an update of the account's card: its map in place, this person in its thread
                let thread = h.card_ts.as_deref().filter(|_| !h.is_notice());
                if let Some(ts) = thread {
                    let _one = self.cards.lock().await;
                    let card = Card {
                        http: &self.http,
                        base,
                        token,
                        ids: &self.ids,
                        channel: self.channel_for(&h.team),
                        ts,
                    };
                    card.update(h).await?;
                }
                let mut body = json!({
                    "channel": self.channel_for(&h.team),
                    "text": text,
                    "blocks": blocks,
                    "unfurl_links": false,
                    "metadata": {
                        "event_type": "leadflow_handoff",
                        "event_payload": {
                            "idempotency_key": h.idempotency_key,
                            "channel_kind": "team",
                            "lead_id": h.lead_id
                        }
                    }
                });
                if let Some(ts) = thread {
                    body["thread_ts"] = json!(ts);
                }
                let reply = api_call(&self.http, base, token, "chat.postMessage", &body)
                    .await
                    .map_err(|e| match e {
                        ChannelError::Rejected { reason } => ChannelError::rejected(format!(
                            "{reason} (channel {})",
                            self.channel_for(&h.team)
                        )),
                        other => other,
                    })?;
                self.ids.learn(
                    self.channel_for(&h.team),
                    reply["channel"].as_str().unwrap_or_default(),
                );
                Ok(Delivered {
                    external_id: reply["ts"].as_str().unwrap_or_default().to_owned(),
                    url: None,
                })
            }
            Mode::Webhook { url } => {
                let resp = self
                    .http
                    .post(url.expose())
                    .json(&json!({"text": text, "blocks": blocks, "unfurl_links": false}))
                    .send()
                    .await
                    .map_err(|e| transport_error("slack webhook", e))?;
                let status = resp.status();
                let retry_after = parse_retry_after(
                    resp.headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok()),
                );
                let body = resp.text().await.unwrap_or_default();
                match status.as_u16() {
                    200..=299 => Ok(Delivered {
                        // Webhooks return no message id.
                        external_id: format!("webhook:{}", h.idempotency_key),
                        url: None,
                    }),
                    429 => Err(ChannelError::RateLimited {
                        reason: "slack webhook answered 429".into(),
                        retry_after: retry_after.unwrap_or(Duration::from_secs(1)),
                    }),
                    500..=599 => Err(ChannelError::Unavailable {
                        reason: format!("slack webhook answered {status}"),
                        retry_after,
                    }),
                    _ => Err(ChannelError::rejected(format!(
                        "slack webhook answered {status}: {}",
                        body.chars().take(100).collect::<String>()
                    ))),
                }
            }
        }
    }
}

impl Channel for SlackChannel {
    fn kind(&self) -> DeliveryChannel {
        DeliveryChannel::Slack
    }

    fn deliver<'a>(
        &'a self,
        handoff: &'a Handoff,
        attempt: &'a Attempt<'a>,
    ) -> BoxFuture<'a, Result<Delivered, ChannelError>> {
        Box::pin(self.post(handoff, attempt))
    }

    /// Web API only: a webhook post cannot be looked up.
    fn journaled(&self) -> bool {
        self.api().is_some()
    }

    fn find<'a>(
        &'a self,
        h: &'a Handoff,
        since: Timestamp,
    ) -> BoxFuture<'a, Result<Option<Delivered>, ChannelError>> {
        Box::pin(async move {
            let Some((base, token)) = self.api() else {
                return Ok(None);
            };
            let channel = self.channel_for(&h.team);
            let Some(id) = self.ids.resolve(&self.http, base, token, channel).await? else {
                return Ok(None);
            };
            find_post(&self.http, base, token, &id, &h.idempotency_key, since).await
        })
    }
}
