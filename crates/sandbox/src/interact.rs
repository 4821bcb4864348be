//! The sandbox plays Slack's and HubSpot's side of the reps' actions: a click on a message's
//! Accept, Contacted or Reject control (on the page, or `POST /_sandbox/slack/click` for scripts)
//! is posted to leadflow's interactivity endpoint exactly as Slack posts it (a `block_actions`
//! payload, form-encoded, signed with the app's signing secret under Slack's `v0` scheme), and the
//! answer leadflow sends to `response_url` updates the message in place or shows an ephemeral
//! line under it. A task completed (on the page, or `POST /_sandbox/hubspot/complete-task`) is sent
//! as HubSpot's `object.propertyChange` webhook, signed v3 with the app's client secret.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use leadflow_events::slack_actions::{ACCEPT, BLOCK_PREFIX, CONTACTED, REJECT};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;

pub use crate::interactivity::Interactivity;
use crate::state::{SandboxState, SlackMessage};

pub(crate) fn routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .route("/slack/click", post(page_click))
        .route("/_sandbox/slack/click", post(control_click))
        .route("/slack/response/{ts}", post(response))
        .route("/hubspot/complete/{task}", post(page_complete))
        .route("/_sandbox/hubspot/complete-task", post(control_complete))
}

fn hmac_sha256(secret: &str, parts: &[&[u8]]) -> Vec<u8> {
    let Ok(mut m) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return Vec::new();
    };
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

/// Posts a signed request to leadflow as Slack or HubSpot would; the HTTP status it answered.
async fn deliver(
    url: &str,
    content_type: &str,
    signature: [(&str, String); 2],
    body: String,
) -> Result<u16, (StatusCode, String)> {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", content_type);
    for (name, value) in signature {
        request = request.header(name, value);
    }
    let r = request.body(body).send().await.map_err(|e| {
        (
            StatusCode::BAD_GATEWAY,
            format!("leadflow unreachable: {e}"),
        )
    })?;
    Ok(r.status().as_u16())
}

/// The page's answer: back to the page, or why not.
fn to_page(result: Result<u16, (StatusCode, String)>) -> Response {
    match result {
        Ok(_) => Redirect::to("/").into_response(),
        Err((status, why)) => (status, why).into_response(),
    }
}

/// A script's answer: leadflow's status, or why the sandbox could not send it.
fn to_script(result: Result<u16, (StatusCode, String)>) -> Response {
    match result {
        Ok(status) => Json(json!({"leadflow_status": status})).into_response(),
        Err((status, why)) => (status, Json(json!({"error": why}))).into_response(),
    }
}

/// A click: on which message (its `ts`, or the newest message with controls for a packet), which
/// control, as whom (default: the first person the message mentions, its owner).
#[derive(Clone, Debug, Deserialize)]
pub struct Click {
    #[serde(default)]
    pub ts: Option<String>,
    #[serde(default)]
    pub packet_id: Option<String>,
    /// `accept`, `contacted` or `reject`.
    pub action: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
}

/// The rep-action controls block of a message, if it has one.
pub fn controls(m: &SlackMessage) -> Option<&Value> {
    m.blocks.as_array()?.iter().find(|b| {
        b["type"] == "actions"
            && b["block_id"]
                .as_str()
                .is_some_and(|id| id.starts_with(BLOCK_PREFIX))
    })
}

/// The first `<@U…>` a message's texts mention (notify names the owner first).
pub fn first_mention(m: &SlackMessage) -> Option<String> {
    let text = m.blocks.to_string();
    let start = text.find("<@")? + 2;
    let end = start + text[start..].find('>')?;
    let id = &text[start..end];
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric())).then(|| id.to_owned())
}

fn find_message(state: &SandboxState, click: &Click) -> Option<SlackMessage> {
    let messages = state.slack_messages();
    messages.into_iter().rev().find(|m| {
        let block = controls(m)
            .and_then(|b| b["block_id"].as_str())
            .unwrap_or("");
        match (&click.ts, &click.packet_id) {
            (Some(ts), _) => &m.ts == ts,
            (None, Some(p)) => block.ends_with(&format!("|{p}")),
            (None, None) => false,
        }
    })
}

/// The payload Slack posts for a click on `action` of message `m` by `user`.
pub fn block_actions(m: &SlackMessage, user: &str, click: &Click, base_url: &str) -> Option<Value> {
    let block = controls(m)?;
    let block_id = block["block_id"].as_str()?;
    let now = chrono::Utc::now();
    let action_ts = format!("{}.{:06}", now.timestamp(), now.timestamp_subsec_micros());
    let action = match click.action.as_str() {
        "accept" => {
            json!({"type": "button", "action_id": ACCEPT, "block_id": block_id, "value": "accept", "action_ts": action_ts})
        }
        "contacted" => {
            json!({"type": "button", "action_id": CONTACTED, "block_id": block_id, "value": "contacted", "action_ts": action_ts})
        }
        "reject" => {
            json!({"type": "static_select", "action_id": REJECT, "block_id": block_id, "action_ts": action_ts,
            "selected_option": {"value": click.reason.clone().unwrap_or_else(|| "other".into())}})
        }
        _ => return None,
    };
    Some(json!({
        "type": "block_actions",
        "user": {"id": user, "username": user.to_lowercase(), "team_id": "T0SANDBOX"},
        "api_app_id": "A0SANDBOX",
        "team": {"id": "T0SANDBOX", "domain": "sandbox"},
        "container": {"type": "message", "message_ts": m.ts, "channel_id": m.channel, "is_ephemeral": false},
        "trigger_id": format!("{}.sandbox", now.timestamp_millis()),
        "channel": {"id": m.channel},
        "message": {"type": "message", "ts": m.ts, "text": m.text, "blocks": m.blocks},
        "response_url": format!("{base_url}/slack/response/{}", m.ts),
        "actions": [action],
    }))
}

/// Posts a click to leadflow as Slack would; the HTTP status leadflow answered.
pub async fn send_click(state: &SandboxState, click: &Click) -> Result<u16, (StatusCode, String)> {
    let cfg = state.interactivity();
    let url = cfg.slack_interactions_url.clone().ok_or((
        StatusCode::CONFLICT,
        "no interactivity URL configured (--slack-interactions-url)".to_owned(),
    ))?;
    let m = find_message(state, click).ok_or((
        StatusCode::NOT_FOUND,
        "no such message with leadflow controls".to_owned(),
    ))?;
    let user = click
        .user
        .clone()
        .filter(|u| !u.is_empty())
        .or_else(|| first_mention(&m))
        .ok_or((
            StatusCode::BAD_REQUEST,
            "the message names nobody: say who clicks (user)".to_owned(),
        ))?;
    let payload = block_actions(&m, &user, click, &cfg.base_url).ok_or((
        StatusCode::BAD_REQUEST,
        format!("unknown action {:?}", click.action),
    ))?;
    let body = serde_urlencoded::to_string([("payload", payload.to_string())])
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let ts = chrono::Utc::now().timestamp().to_string();
    let sig = format!(
        "v0={}",
        hex::encode(hmac_sha256(
            &cfg.slack_signing_secret,
            &[b"v0:", ts.as_bytes(), b":", body.as_bytes()]
        ))
    );
    deliver(
        &url,
        "application/x-www-form-urlencoded",
        [
            ("x-slack-request-timestamp", ts),
            ("x-slack-signature", sig),
        ],
        body,
    )
    .await
}

async fn page_click(State(state): State<Arc<SandboxState>>, body: Bytes) -> Response {
    let click: Click = match serde_urlencoded::from_bytes(&body) {
        Ok(c) => c,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    to_page(send_click(&state, &click).await)
}

async fn control_click(
    State(state): State<Arc<SandboxState>>,
    Json(click): Json<Click>,
) -> Response {
    to_script(send_click(&state, &click).await)
}

/// leadflow's answer on `response_url`: the message replaced, or an ephemeral line under it.
async fn response(
    State(state): State<Arc<SandboxState>>,
    Path(ts): Path<String>,
    Json(answer): Json<Value>,
) -> StatusCode {
    if answer["replace_original"] == true {
        let text = answer["text"].as_str().map(str::to_owned);
        if state.replace_slack_message(&ts, answer["blocks"].clone(), text) {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        }
    } else if answer["response_type"] == "ephemeral" {
        state.push_ephemeral(&ts, answer["text"].as_str().unwrap_or_default());
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    }
}

/// A task to complete: by its id, or by the leadflow key notify gave it (`<packet key>:task`).
#[derive(Clone, Debug, Deserialize)]
pub struct Complete {
    #[serde(default)]
    pub task_id: Option<String>,
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// When the rep completed it (epoch ms; default now): a call logged late has an earlier time.
    #[serde(default)]
    pub occurred_at: Option<i64>,
}

/// Marks a task COMPLETED and sends HubSpot's webhook for it.
pub async fn complete_task(
    state: &SandboxState,
    c: &Complete,
) -> Result<u16, (StatusCode, String)> {
    let cfg = state.interactivity();
    let url = cfg.hubspot_events_url.clone().ok_or((
        StatusCode::CONFLICT,
        "no webhook URL configured (--hubspot-events-url)".to_owned(),
    ))?;
    let done: std::collections::BTreeMap<String, Value> =
        [("hs_task_status".to_owned(), json!("COMPLETED"))].into();
    let task = match (&c.task_id, &c.idempotency_key) {
        (Some(id), _) => state.update("tasks", id, None, done),
        (None, Some(key)) => state.update(
            "tasks",
            &format!("{key}:task"),
            Some("leadflow_idempotency_key"),
            done,
        ),
        (None, None) => None,
    }
    .ok_or((StatusCode::NOT_FOUND, "no such task".to_owned()))?;
    let at = c
        .occurred_at
        .unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
    let object_id: Value = task
        .id
        .parse::<u64>()
        .map_or_else(|_| json!(task.id), |n| json!(n));
    let body = json!([{
        "eventId": chrono::Utc::now().timestamp_micros(),
        "subscriptionId": 1, "portalId": 0, "appId": 1,
        "occurredAt": at,
        "subscriptionType": "object.propertyChange",
        "objectTypeId": "0-27",
        "objectId": object_id,
        "propertyName": "hs_task_status",
        "propertyValue": "COMPLETED",
        "changeSource": "CRM_UI",
        "attemptNumber": 0
    }])
    .to_string();
    let ts = chrono::Utc::now().timestamp_millis().to_string();
    let sig = base64::engine::general_purpose::STANDARD.encode(hmac_sha256(
        &cfg.hubspot_client_secret,
        &[b"POST", url.as_bytes(), body.as_bytes(), ts.as_bytes()],
    ));
    deliver(
        &url,
        "application/json",
        [
            ("x-hubspot-request-timestamp", ts),
            ("x-hubspot-signature-v3", sig),
        ],
        body,
    )
    .await
}

async fn page_complete(
    State(state): State<Arc<SandboxState>>,
    Path(task): Path<String>,
) -> Response {
    let c = Complete {
        task_id: Some(task),
        idempotency_key: None,
        occurred_at: None,
    };
    to_page(complete_task(&state, &c).await)
}

async fn control_complete(
    State(state): State<Arc<SandboxState>>,
    Json(c): Json<Complete>,
) -> Response {
    to_script(complete_task(&state, &c).await)
}
