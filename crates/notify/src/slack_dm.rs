//! The direct message to a lead's original owner after a reassignment: Slack `conversations.open`
//! with the owner's user id (`users=U…`), then `chat.postMessage` to the returned DM channel id.
//! It is its own delivery (its own ledger entry and receipts, keyed by [`dm_key`]), so a retry of
//! the team post never sends the DM again and the other way round.

use futures::future::BoxFuture;
use leadflow_events::{DeliveryChannel, Timestamp};
use leadflow_runtime::Secret;
use serde_json::json;

use crate::channel::{Attempt, Channel, ChannelError, Delivered};
use crate::notice::{notice_blocks, notice_text};
use crate::packet::{Handoff, Rep};
use crate::slack::SlackChannel;
use crate::slack_api::api_call;
use crate::slack_history::find_post;
use crate::slack_message::{direct_blocks, direct_text};

/// Suffix of the idempotency key of the direct message of a reassigned packet.
pub const DM_SUFFIX: &str = ":dm-previous-owner";

/// The idempotency key of the DM for a packet key.
pub fn dm_key(key: &str) -> String {
    format!("{key}{DM_SUFFIX}")
}

/// The original owner to tell directly: the packet is a reassignment (`escalation_level` ≥ 1) from
/// someone other than the new owner, who has a Slack user id. `None`: no DM for this packet.
pub fn dm_recipient(h: &Handoff) -> Option<(&Rep, &str)> {
    if h.is_notice() {
        // a withdrawal notice goes to the rep the lead had been reassigned to (RULES.md §1a)
        let to = h.assignee.as_ref()?;
        let uid = to
            .slack_user_id
            .as_deref()
            .filter(|u| !u.trim().is_empty())?;
        return Some((to, uid));
    }
    if h.escalation_level < 1 {
        return None;
    }
    let prev = h.previous_assignee.as_ref()?;
    if h.assignee.as_ref().is_some_and(|a| a.rep_id == prev.rep_id) {
        return None;
    }
    let uid = prev
        .slack_user_id
        .as_deref()
        .filter(|u| !u.trim().is_empty())?;
    Some((prev, uid))
}

/// Sends the DM through the Web API (a bot token with `im:write` and `chat:write`).
pub struct SlackDirect {
    http: reqwest::Client,
    base: String,
    token: Secret,
}

impl SlackDirect {
    /// `None` for webhook-only Slack: an incoming webhook posts to one fixed channel.
    pub fn of(slack: &SlackChannel, http: reqwest::Client) -> Option<SlackDirect> {
        let (base, token) = slack.api()?;
        Some(SlackDirect {
            http,
            base: base.to_owned(),
            token: token.clone(),
        })
    }

    /// The DM channel with `uid`. Opening an existing DM returns the same channel: safe to repeat.
    async fn open(&self, uid: &str) -> Result<String, ChannelError> {
        let opened = api_call(
            &self.http,
            &self.base,
            &self.token,
            "conversations.open",
            &json!({ "users": uid }),
        )
        .await?;
        match opened["channel"]["id"].as_str().filter(|c| !c.is_empty()) {
            Some(c) => Ok(c.to_owned()),
            None => Err(ChannelError::unavailable(
                "slack conversations.open returned no channel id",
            )),
        }
    }

    /// The DM notify may already have sent for this key (RULES.md §3a).
    async fn look_up(
        &self,
        h: &Handoff,
        since: Timestamp,
    ) -> Result<Option<Delivered>, ChannelError> {
        let Some((_, uid)) = dm_recipient(h) else {
            return Ok(None);
        };
        let channel = self.open(uid).await?;
        find_post(
            &self.http,
            &self.base,
            &self.token,
            &channel,
            &h.idempotency_key,
            since,
        )
        .await
    }

    async fn send(&self, h: &Handoff) -> Result<Delivered, ChannelError> {
        let Some((_, uid)) = dm_recipient(h) else {
            return Err(ChannelError::rejected(
                "no original owner with a Slack user id to message",
            ));
        };
        let channel = self.open(uid).await?;
        let channel = channel.as_str();
        let reply = api_call(
            &self.http,
            &self.base,
            &self.token,
            "chat.postMessage",
            &json!({
                "channel": channel,
                "text": if h.is_notice() { notice_text(h) } else { direct_text(h) },
                "blocks": if h.is_notice() { notice_blocks(h) } else { direct_blocks(h) },
                "unfurl_links": false,
                "metadata": {
                    "event_type": if h.is_notice() { "leadflow_withdrawn" } else { "leadflow_reassigned" },
                    "event_payload": {
                        "idempotency_key": h.idempotency_key,
                        "channel_kind": "dm",
                        "lead_id": h.lead_id
                    }
                }
            }),
        )
        .await?;
        Ok(Delivered {
            external_id: reply["ts"].as_str().unwrap_or_default().to_owned(),
            url: None,
        })
    }
}

impl Channel for SlackDirect {
    fn kind(&self) -> DeliveryChannel {
        DeliveryChannel::Slack
    }

    fn deliver<'a>(
        &'a self,
        handoff: &'a Handoff,
        _attempt: &'a Attempt<'a>,
    ) -> BoxFuture<'a, Result<Delivered, ChannelError>> {
        Box::pin(self.send(handoff))
    }

    fn journaled(&self) -> bool {
        true
    }

    fn find<'a>(
        &'a self,
        handoff: &'a Handoff,
        since: Timestamp,
    ) -> BoxFuture<'a, Result<Option<Delivered>, ChannelError>> {
        Box::pin(self.look_up(handoff, since))
    }
}

#[cfg(test)]
mod tests {
    use leadflow_events::samples;

    use super::*;

    #[test]
    fn only_a_reassignment_from_someone_else_with_a_slack_id_gets_a_dm() {
        let mut p = samples::handoff_packet();
        assert!(
            dm_recipient(&Handoff::from_packet(&p)).is_none(),
            "first packet"
        );
        let mut prev = p.assignee.clone().expect("sample assignee");
        prev.rep_id = "rep-old".into();
        prev.slack_user_id = Some("U0OLD".into());
        p.previous_assignee = Some(prev.clone());
        p.escalation_level = 1;
        let h = Handoff::from_packet(&p);
        assert_eq!(dm_recipient(&h).map(|(_, u)| u), Some("U0OLD"));
        assert_eq!(dm_key("k|1"), "k|1:dm-previous-owner");
        prev.slack_user_id = None;
        p.previous_assignee = Some(prev);
        assert!(
            dm_recipient(&Handoff::from_packet(&p)).is_none(),
            "no Slack id"
        );
    }
}
