//! Finding a post notify may already have made (RULES.md §3a): `conversations.history` of the
//! conversation with `include_all_metadata=true`, from `oldest` = the intent's time minus
//! [`LOOKUP_MARGIN_MS`], paged with `cursor`, for a message whose metadata carries the effect's
//! idempotency key. Channels configured by name are resolved to their id (`conversations.list`,
//! once per name, remembered; a post's reply teaches it too).

use std::collections::HashMap;
use std::sync::Mutex;

use leadflow_events::Timestamp;
use leadflow_runtime::Secret;
use serde_json::Value;

use crate::channel::{ChannelError, Delivered};
use crate::slack_api::api_get;

/// How far before the intent the lookup starts: clock skew between notify and Slack, and an
/// earlier attempt of the same effect.
pub const LOOKUP_MARGIN_MS: i64 = 60_000;
/// Messages per history page (Slack allows up to 999; 200 is its recommendation).
const PAGE: &str = "200";
/// Pages read at most per lookup (4,000 messages after `oldest`): past that the lookup answers
/// "not found" rather than hold the packet.
const MAX_PAGES: usize = 20;

/// Slack's `oldest`: seconds with microseconds, as a message `ts`.
pub fn oldest_for(since: Timestamp) -> String {
    let ms = since.0 - LOOKUP_MARGIN_MS;
    format!(
        "{}.{:06}",
        ms.div_euclid(1_000),
        ms.rem_euclid(1_000) * 1_000
    )
}

/// The message in `channel` (an id) whose metadata carries `key`, posted after `since` minus the
/// margin; `None` when there is none.
pub(crate) async fn find_post(
    http: &reqwest::Client,
    base: &str,
    token: &Secret,
    channel: &str,
    key: &str,
    since: Timestamp,
) -> Result<Option<Delivered>, ChannelError> {
    let oldest = oldest_for(since);
    let mut cursor = String::new();
    for _ in 0..MAX_PAGES {
        let mut query = vec![
            ("channel", channel),
            ("oldest", oldest.as_str()),
            ("include_all_metadata", "true"),
            ("limit", PAGE),
        ];
        if !cursor.is_empty() {
            query.push(("cursor", cursor.as_str()));
        }
        let page = api_get(http, base, token, "conversations.history", &query).await?;
        if let Some(found) = matching(&page, key) {
            return Ok(Some(found));
        }
        cursor = next_cursor(&page);
        if cursor.is_empty() {
            return Ok(None);
        }
    }
    tracing::warn!(
        pages = MAX_PAGES,
        "slack history lookup stopped after its page limit; posting again"
    );
    Ok(None)
}

/// The first message of a history page whose metadata carries `key`.
pub fn matching(page: &Value, key: &str) -> Option<Delivered> {
    page["messages"].as_array()?.iter().find_map(|m| {
        let meta = &m["metadata"];
        let ours = meta["event_type"]
            .as_str()
            .is_some_and(|t| t.starts_with("leadflow_"));
        (ours && meta["event_payload"]["idempotency_key"].as_str() == Some(key)).then(|| {
            Delivered {
                external_id: m["ts"].as_str().unwrap_or_default().to_owned(),
                url: None,
            }
        })
    })
}

fn next_cursor(page: &Value) -> String {
    page["response_metadata"]["next_cursor"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Whether a configured channel is already an id (`C…`, `G…`, `D…`), not a name.
pub fn is_channel_id(channel: &str) -> bool {
    channel.len() > 1
        && channel.starts_with(['C', 'G', 'D'])
        && channel
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Channel names → ids, learnt from post replies and `conversations.list`.
#[derive(Default)]
pub struct ChannelIds(Mutex<HashMap<String, String>>);

impl ChannelIds {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Remembers the id a post's reply gave for the channel it was sent to.
    pub fn learn(&self, channel: &str, id: &str) {
        if !id.is_empty() && !is_channel_id(channel) {
            self.lock()
                .insert(channel.trim_start_matches('#').to_owned(), id.to_owned());
        }
    }

    /// The id of `channel`; `None` when no conversation has that name (nothing can be in it).
    pub(crate) async fn resolve(
        &self,
        http: &reqwest::Client,
        base: &str,
        token: &Secret,
        channel: &str,
    ) -> Result<Option<String>, ChannelError> {
        if is_channel_id(channel) {
            return Ok(Some(channel.to_owned()));
        }
        let name = channel.trim_start_matches('#');
        if let Some(id) = self.lock().get(name) {
            return Ok(Some(id.clone()));
        }
        let mut cursor = String::new();
        loop {
            let mut query = vec![
                ("types", "public_channel,private_channel"),
                ("exclude_archived", "true"),
                ("limit", "1000"),
            ];
            if !cursor.is_empty() {
                query.push(("cursor", cursor.as_str()));
            }
            let page = api_get(http, base, token, "conversations.list", &query).await?;
            if let Some(list) = page["channels"].as_array() {
                let mut ids = self.lock();
                for c in list {
                    if let (Some(n), Some(id)) = (c["name"].as_str(), c["id"].as_str()) {
                        ids.insert(n.to_owned(), id.to_owned());
                    }
                }
            }
            if let Some(id) = self.lock().get(name) {
                return Ok(Some(id.clone()));
            }
            cursor = next_cursor(&page);
            if cursor.is_empty() {
                return Ok(None);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn oldest_is_the_intent_minus_the_margin_in_slack_ts_form() {
        assert_eq!(
            oldest_for(Timestamp(1_700_000_061_234)),
            "1700000001.234000"
        );
    }

    #[test]
    fn only_a_leadflow_message_with_the_key_matches() {
        let page = json!({"messages": [
            {"ts": "1.000001", "metadata": {"event_type": "other_app", "event_payload": {"idempotency_key": "k"}}},
            {"ts": "1.000002", "metadata": {"event_type": "leadflow_handoff", "event_payload": {"idempotency_key": "k2"}}},
            {"ts": "1.000003", "text": "no metadata"},
            {"ts": "1.000004", "metadata": {"event_type": "leadflow_handoff", "event_payload": {"idempotency_key": "k"}}}
        ]});
        assert_eq!(
            matching(&page, "k").map(|d| d.external_id),
            Some("1.000004".to_owned())
        );
        assert_eq!(matching(&page, "k3"), None);
    }

    #[test]
    fn ids_are_told_from_names() {
        assert!(is_channel_id("C0123ABCD"));
        assert!(is_channel_id("D0OLD"));
        assert!(!is_channel_id("#new-leads"));
        assert!(!is_channel_id("new-leads"));
        assert!(!is_channel_id("Consulting"));
    }
}
