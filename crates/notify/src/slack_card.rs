//! An update to an account's card (RULES.md §1d): the card's Slack message gets the new committee
//! map in place (`conversations.history` for its blocks, then `chat.update`); the new person's
//! handoff itself goes into the card's thread (`slack.rs`).

use leadflow_runtime::Secret;
use serde_json::json;

use crate::channel::ChannelError;
use crate::committee_view::replace_in;
use crate::packet::Handoff;
use crate::slack_api::{api_call, api_get};
use crate::slack_history::ChannelIds;

/// Where the card is: the Web API, the channel's ids, the channel name and the card's `ts`.
pub(crate) struct Card<'a> {
    pub http: &'a reqwest::Client,
    pub base: &'a str,
    pub token: &'a Secret,
    pub ids: &'a ChannelIds,
    pub channel: &'a str,
    pub ts: &'a str,
}

impl Card<'_> {
    /// Replaces the card's committee blocks with `h`'s map. A card that is gone, shows a newer
    /// map already, or that Slack refuses to update (e.g. `cant_update_message`) is left as it is:
    /// the thread reply still carries the map. Unavailable and rate-limited answers are returned
    /// (the delivery retries; `chat.update` is idempotent).
    pub(crate) async fn update(&self, h: &Handoff) -> Result<bool, ChannelError> {
        let Some(c) = &h.committee else {
            return Ok(false);
        };
        let Some(id) = self
            .ids
            .resolve(self.http, self.base, self.token, self.channel)
            .await?
        else {
            return Ok(false);
        };
        let query = [
            ("channel", id.as_str()),
            ("latest", self.ts),
            ("inclusive", "true"),
            ("limit", "1"),
        ];
        let page = match api_get(
            self.http,
            self.base,
            self.token,
            "conversations.history",
            &query,
        )
        .await
        {
            Err(ChannelError::Rejected { .. }) => return Ok(false),
            other => other?,
        };
        let found = page["messages"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["ts"] == self.ts));
        let Some(card) = found else {
            return Ok(false);
        };
        let Some(blocks) = replace_in(&card["blocks"], c, h.created_at.0) else {
            return Ok(false);
        };
        let body = json!({
            "channel": id,
            "ts": self.ts,
            "text": card["text"].as_str().unwrap_or_default(),
            "blocks": blocks,
        });
        match api_call(self.http, self.base, self.token, "chat.update", &body).await {
            Ok(_) => Ok(true),
            Err(ChannelError::Rejected { reason }) => {
                tracing::warn!(%reason, "slack card update refused; the thread reply carries the map");
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }
}
