//! Slack's interaction payload (`application/x-www-form-urlencoded`, one `payload` field holding
//! the JSON of a `block_actions` interaction) → a [`Click`] (RULES.md RA3). notify's message names
//! the lead and packet in the actions block's `block_id` (`leadflow|<lead_id>|<packet_id>`) and the
//! action in the `action_id`; a rejection's reason is the chosen option's value.

use leadflow_events::{RepActivityKind, Timestamp};
use serde_json::Value;

use super::decide::Click;

pub use leadflow_events::slack_actions::{ACCEPT, BLOCK_PREFIX, CONTACTED, REJECT, REJECT_REASONS};

/// A parsed interaction: the click, and where to answer it.
#[derive(Clone, Debug, PartialEq)]
pub struct Interaction {
    pub click: Click,
    pub response_url: Option<String>,
    /// The message the buttons were on (its blocks are updated in place).
    pub message: Option<Value>,
}

/// Why a payload is not a click ingest acts on (400, nothing written).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("the body has no payload field")]
    NoPayload,
    #[error("payload is not JSON: {0}")]
    NotJson(String),
    #[error("payload type {0:?} is not block_actions")]
    NotBlockActions(String),
    #[error("payload has no user.id")]
    NoUser,
    #[error("payload has no leadflow action")]
    NoAction,
    #[error("a rejection needs a reason from the menu")]
    NoReason,
}

/// Parses the form body Slack posts.
pub fn parse(body: &[u8], now: Timestamp) -> Result<Interaction, PayloadError> {
    let form: Vec<(String, String)> =
        serde_urlencoded::from_bytes(body).map_err(|_| PayloadError::NoPayload)?;
    let payload = form
        .into_iter()
        .find_map(|(k, v)| (k == "payload").then_some(v))
        .ok_or(PayloadError::NoPayload)?;
    let v: Value =
        serde_json::from_str(&payload).map_err(|e| PayloadError::NotJson(e.to_string()))?;
    let kind = v["type"].as_str().unwrap_or_default();
    if kind != "block_actions" {
        return Err(PayloadError::NotBlockActions(
            kind.chars().take(40).collect(),
        ));
    }
    let user = v["user"]["id"]
        .as_str()
        .filter(|u| !u.is_empty())
        .ok_or(PayloadError::NoUser)?;
    let actions = v["actions"].as_array().ok_or(PayloadError::NoAction)?;
    let (action, lead_id, packet_id) = actions
        .iter()
        .find_map(|a| {
            let block = a["block_id"].as_str()?.strip_prefix(BLOCK_PREFIX)?;
            let (lead, packet) = block.split_once('|')?;
            (!lead.is_empty() && !packet.is_empty()).then_some((a, lead, packet))
        })
        .ok_or(PayloadError::NoAction)?;
    let (kind, reason) = match action["action_id"].as_str().unwrap_or_default() {
        ACCEPT => (RepActivityKind::Accepted, None),
        CONTACTED => (RepActivityKind::Contacted, None),
        REJECT => {
            let value = action["selected_option"]["value"]
                .as_str()
                .ok_or(PayloadError::NoReason)?;
            let known = REJECT_REASONS.iter().find(|(v, _)| *v == value);
            (
                RepActivityKind::Rejected,
                Some(known.ok_or(PayloadError::NoReason)?.0.to_owned()),
            )
        }
        _ => return Err(PayloadError::NoAction),
    };
    let at = action["action_ts"]
        .as_str()
        .and_then(slack_ts_millis)
        .unwrap_or(now);
    Ok(Interaction {
        click: Click {
            slack_user_id: user.to_owned(),
            lead_id: lead_id.to_owned(),
            packet_id: packet_id.to_owned(),
            kind,
            reason,
            at,
        },
        response_url: v["response_url"].as_str().map(str::to_owned),
        message: v.get("message").cloned(),
    })
}

/// Slack's `"1548426417.840180"` (seconds.micros) in milliseconds.
fn slack_ts_millis(ts: &str) -> Option<Timestamp> {
    let (secs, frac) = ts.split_once('.').unwrap_or((ts, "0"));
    let secs: i64 = secs.parse().ok()?;
    let millis: i64 = format!("{frac:0<3}").get(..3)?.parse().ok()?;
    Some(Timestamp(secs.checked_mul(1000)?.checked_add(millis)?))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn body(payload: &Value) -> Vec<u8> {
        serde_urlencoded::to_string([("payload", payload.to_string())])
            .unwrap()
            .into_bytes()
    }

    fn payload(action: Value) -> Value {
        serde_json::json!({
            "type": "block_actions",
            "user": {"id": "U123", "username": "ana"},
            "response_url": "https://hooks.slack.com/actions/T1/1/abc",
            "message": {"ts": "1.2", "blocks": []},
            "actions": [action],
        })
    }

    #[test]
    fn reads_the_button_the_lead_and_packet_and_the_click_time() {
        let p = payload(serde_json::json!({
            "action_id": "leadflow_accept", "block_id": "leadflow|lead-1|pkt-9",
            "type": "button", "action_ts": "1764495000.123456"
        }));
        let i = parse(&body(&p), Timestamp(0)).unwrap();
        assert_eq!(i.click.slack_user_id, "U123");
        assert_eq!(i.click.lead_id, "lead-1");
        assert_eq!(i.click.packet_id, "pkt-9");
        assert_eq!(i.click.kind, RepActivityKind::Accepted);
        assert_eq!(i.click.at, Timestamp(1_764_495_000_123));
        assert_eq!(
            i.response_url.as_deref(),
            Some("https://hooks.slack.com/actions/T1/1/abc")
        );
    }

    #[test]
    fn a_rejection_carries_a_reason_from_the_menu_only() {
        let p = payload(serde_json::json!({
            "action_id": "leadflow_reject", "block_id": "leadflow|lead-1|pkt-9",
            "type": "static_select", "selected_option": {"value": "bad_data"}
        }));
        let i = parse(&body(&p), Timestamp(7)).unwrap();
        assert_eq!(i.click.kind, RepActivityKind::Rejected);
        assert_eq!(i.click.reason.as_deref(), Some("bad_data"));
        assert_eq!(i.click.at, Timestamp(7));
        let p = payload(serde_json::json!({
            "action_id": "leadflow_reject", "block_id": "leadflow|lead-1|pkt-9",
            "selected_option": {"value": "<script>"}
        }));
        assert_eq!(parse(&body(&p), Timestamp(7)), Err(PayloadError::NoReason));
    }

    #[test]
    fn anything_else_is_refused_with_a_reason() {
        assert_eq!(parse(b"x=1", Timestamp(0)), Err(PayloadError::NoPayload));
        let mut p = payload(
            serde_json::json!({"action_id": "leadflow_accept", "block_id": "leadflow|l|p"}),
        );
        p["type"] = "view_submission".into();
        assert!(matches!(
            parse(&body(&p), Timestamp(0)),
            Err(PayloadError::NotBlockActions(_))
        ));
        let p = payload(serde_json::json!({"action_id": "crm", "block_id": "other"}));
        assert_eq!(parse(&body(&p), Timestamp(0)), Err(PayloadError::NoAction));
        let p =
            payload(serde_json::json!({"action_id": "leadflow_accept", "block_id": "leadflow||p"}));
        assert_eq!(parse(&body(&p), Timestamp(0)), Err(PayloadError::NoAction));
    }
}
