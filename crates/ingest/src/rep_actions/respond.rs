//! What the rep sees after a click (RULES.md RA4): the message updated in place through Slack's
//! `response_url` (`replace_original`) to show who did what and when, or an ephemeral answer that
//! says why nothing changed. Pure builders; the service posts them.

use leadflow_escape::slack_mrkdwn;
use leadflow_events::{RepActivity, RepActivityKind, Timestamp};
use serde_json::{Value, json};

use super::decide::{Refusal, kind_word};
use super::slack_payload::{ACCEPT, BLOCK_PREFIX, REJECT_REASONS};
use super::view::{Recorded, RepActionView};

fn when(t: Timestamp) -> String {
    t.to_datetime().format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `<@U…>` for a rep with a Slack id, else their name (escaped), else their id.
fn who(view: &RepActionView, rep_id: &str) -> String {
    match view.rep(rep_id) {
        Some(r) => match r
            .slack_user_id
            .as_deref()
            .filter(|u| u.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            Some(u) => format!("<@{u}>"),
            None => slack_mrkdwn(&r.name),
        },
        None => slack_mrkdwn(rep_id),
    }
}

fn reason_label(reason: Option<&str>) -> String {
    let r = reason.unwrap_or("other");
    REJECT_REASONS
        .iter()
        .find(|(v, _)| *v == r)
        .map_or_else(|| slack_mrkdwn(r), |(_, l)| (*l).to_owned())
}

/// The line that records an activity on the message.
pub fn recorded_line(view: &RepActionView, a: &RepActivity) -> String {
    let by = who(view, &a.rep_id);
    let at = when(a.occurred_at);
    match a.kind {
        RepActivityKind::Accepted => format!(":white_check_mark: *Accepted* by {by} at {at}"),
        RepActivityKind::Contacted => format!(":telephone_receiver: *Contacted* by {by} at {at}"),
        RepActivityKind::Rejected => format!(
            ":leftwards_arrow_with_hook: *Rejected* by {by} at {at} ({}): back to the pool",
            reason_label(a.reason.as_deref())
        ),
        other => format!("*{}* by {by} at {at}", kind_word(other)),
    }
}

/// The message, updated: the leadflow controls that no longer apply removed (all of them once the
/// lead is contacted or rejected; only Accept once accepted) and the record line added.
pub fn updated_message(view: &RepActionView, message: Option<&Value>, a: &RepActivity) -> Value {
    let mut blocks: Vec<Value> = message
        .and_then(|m| m["blocks"].as_array())
        .cloned()
        .unwrap_or_default();
    let ours = |b: &Value| {
        b["type"] == "actions"
            && b["block_id"]
                .as_str()
                .is_some_and(|id| id.starts_with(BLOCK_PREFIX))
    };
    if a.kind == RepActivityKind::Accepted {
        for b in blocks.iter_mut().filter(|b| ours(b)) {
            if let Some(els) = b["elements"].as_array_mut() {
                els.retain(|e| e["action_id"] != ACCEPT);
            }
        }
    } else {
        blocks.retain(|b| !ours(b));
    }
    let line = recorded_line(view, a);
    blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": line}]}));
    let text = message
        .and_then(|m| m["text"].as_str())
        .unwrap_or("leadflow handoff")
        .to_owned();
    json!({"replace_original": true, "text": text, "blocks": blocks})
}

fn recorded_words(view: &RepActionView, r: &Recorded) -> String {
    format!(
        "{} by {} at {}",
        kind_word(r.kind),
        who(view, &r.rep_id),
        when(r.at)
    )
}

/// The ephemeral answer to a refused click: why nothing changed.
pub fn refusal_text(view: &RepActionView, refusal: &Refusal) -> String {
    let owner = |o: &Option<String>| {
        o.as_deref()
            .map_or_else(|| "nobody".to_owned(), |o| who(view, o))
    };
    match refusal {
        Refusal::UnknownUser => "Your Slack account is not linked to a rep in leadflow's roster, so this click was not recorded. RevOps has been told.".into(),
        Refusal::UnknownLead => "leadflow no longer knows this lead (older than its window, or not one of its messages), so this click was not recorded. RevOps has been told.".into(),
        Refusal::Reassigned { owner: o } => format!("This lead was reassigned to {}: this message is out of date and your click changed nothing.", owner(o)),
        Refusal::NotOwner { owner: o } => format!("This lead belongs to {}; only they can accept, contact or reject it. Nothing changed.", owner(o)),
        Refusal::Twice(r) => format!("Already recorded: {}. Nothing changed.", recorded_words(view, r)),
        Refusal::Closed(r) => format!("This lead was already {}. Nothing changed.", recorded_words(view, r)),
    }
}

/// An ephemeral answer (only the clicking user sees it; the message stays).
pub fn ephemeral(text: &str) -> Value {
    json!({"response_type": "ephemeral", "replace_original": false, "text": text})
}
