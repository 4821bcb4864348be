//! Slack stand-in: Web API `chat.postMessage` (bot token) and incoming webhooks.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::control::fault_response;
use crate::faults::Service;
use crate::state::{SandboxState, SlackMessage};

pub(crate) fn routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .route("/slack/api/chat.postMessage", post(post_message))
        .route("/slack/api/chat.update", post(update_message))
        .route("/slack/api/conversations.open", post(open_conversation))
        .route("/slack/webhook/{*path}", post(webhook))
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// A configured Slack fault answers instead of the handler (rate limit, outage, slow answer); the
/// request is recorded with the fault's name either way.
pub(crate) async fn fault_gate(
    state: &SandboxState,
    path: &str,
    payload: &Value,
) -> Option<Response> {
    let (resp, fault) = fault_response(state, Service::Slack).await?;
    state.record(
        Service::Slack,
        "POST",
        path,
        resp.status().as_u16(),
        Some(&fault),
        payload.clone(),
    );
    Some(resp)
}

/// Reads a Web API call's JSON body (not JSON: null) and lets a configured fault answer instead
/// ([`fault_gate`]); `Err` is that answer.
async fn read_call(state: &SandboxState, path: &str, body: &[u8]) -> Result<Value, Response> {
    let payload: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match fault_gate(state, path, &payload).await {
        Some(resp) => Err(resp),
        None => Ok(payload),
    }
}

/// [`read_call`] of a call that needs the bot token: Slack's `not_authed` without one,
/// `invalid_auth` with another.
async fn read_authed_call(
    state: &SandboxState,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
) -> Result<Value, Response> {
    let payload = read_call(state, path, body).await?;
    match bearer(headers) {
        Some(token) if token == state.slack_bot_token.as_str() => Ok(payload),
        given => {
            let error = if given.is_some() {
                "invalid_auth"
            } else {
                "not_authed"
            };
            Err(reply(
                state,
                path,
                payload,
                json!({"ok": false, "error": error}),
            ))
        }
    }
}

/// Slack's answer to a Web API call (HTTP 200, `ok` in the body says how it went), recorded with
/// the call's payload.
fn reply(state: &SandboxState, path: &str, payload: Value, body: Value) -> Response {
    state.record(Service::Slack, "POST", path, 200, None, payload);
    (StatusCode::OK, axum::Json(body)).into_response()
}

async fn post_message(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = "/api/chat.postMessage";
    let payload = match read_authed_call(&state, &headers, path, &body).await {
        Ok(payload) => payload,
        Err(resp) => return resp,
    };
    if payload.is_null() {
        return reply(
            &state,
            path,
            payload,
            json!({"ok": false, "error": "invalid_json"}),
        );
    }
    let channel = payload["channel"].as_str().unwrap_or_default().to_owned();
    if channel.is_empty() || channel.starts_with("#missing") {
        return reply(
            &state,
            path,
            payload,
            json!({"ok": false, "error": "channel_not_found"}),
        );
    }
    if channel.starts_with("#archived") {
        return reply(
            &state,
            path,
            payload,
            json!({"ok": false, "error": "is_archived"}),
        );
    }
    let text = payload["text"].as_str().unwrap_or_default().to_owned();
    let blocks = payload["blocks"].clone();
    if text.is_empty() && !blocks.is_array() {
        return reply(
            &state,
            path,
            payload,
            json!({"ok": false, "error": "no_text"}),
        );
    }
    let msg = state.push_slack(SlackMessage {
        ts: String::new(),
        channel: channel.clone(),
        via: "chat.postMessage",
        text: text.clone(),
        blocks: blocks.clone(),
        metadata: payload["metadata"].clone(),
        thread_ts: payload["thread_ts"].as_str().map(str::to_owned),
        edits: 0,
    });
    if let Some(hold) = state.take_slack_hold() {
        // recorded, answer held: the poster has no reply yet
        tokio::time::sleep(hold).await;
    }
    reply(
        &state,
        path,
        payload,
        json!({
            "ok": true,
            "channel": crate::state::channel_id(&channel),
            "ts": msg.ts,
            "message": { "type": "message", "text": text, "blocks": blocks, "ts": msg.ts }
        }),
    )
}

/// `chat.update` with `channel` (id or name), `ts`, `text` and/or `blocks`: the message replaced in
/// place; `message_not_found` when there is none, `cant_update_message` without content.
async fn update_message(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = "/api/chat.update";
    let payload = match read_authed_call(&state, &headers, path, &body).await {
        Ok(payload) => payload,
        Err(resp) => return resp,
    };
    let channel = payload["channel"].as_str().unwrap_or_default().to_owned();
    let ts = payload["ts"].as_str().unwrap_or_default().to_owned();
    let text = payload["text"].as_str().unwrap_or_default().to_owned();
    let blocks = payload["blocks"].clone();
    if text.is_empty() && !blocks.is_array() {
        let answer = json!({"ok": false, "error": "no_text"});
        return reply(&state, path, payload, answer);
    }
    if !state.update_slack_message(&channel, &ts, blocks, text.clone()) {
        let answer = json!({"ok": false, "error": "message_not_found"});
        return reply(&state, path, payload, answer);
    }
    let answer = json!({"ok": true, "channel": channel, "ts": ts, "text": text});
    reply(&state, path, payload, answer)
}

/// `conversations.open` with `users` (one user id: a 1:1 DM): the DM channel id, the same for the
/// same user every time (`D` + the user id without its first letter), as Slack answers.
async fn open_conversation(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = "/api/conversations.open";
    let payload = match read_authed_call(&state, &headers, path, &body).await {
        Ok(payload) => payload,
        Err(resp) => return resp,
    };
    let users = payload["users"]
        .as_str()
        .unwrap_or_default()
        .trim()
        .to_owned();
    if users.is_empty() {
        return reply(
            &state,
            path,
            payload,
            json!({"ok": false, "error": "users_list_not_supplied"}),
        );
    }
    if users.contains(',') {
        // a multi-person DM: not used by leadflow
        return reply(
            &state,
            path,
            payload,
            json!({"ok": false, "error": "not_supported_by_sandbox"}),
        );
    }
    if !(users.starts_with('U') || users.starts_with('W')) || users.len() < 3 {
        return reply(
            &state,
            path,
            payload,
            json!({"ok": false, "error": "user_not_found"}),
        );
    }
    let channel = state.open_dm(&users);
    reply(
        &state,
        path,
        payload,
        json!({"ok": true, "channel": {"id": channel}}),
    )
}

async fn webhook(
    State(state): State<Arc<SandboxState>>,
    Path(path): Path<String>,
    body: Bytes,
) -> Response {
    let rec_path = format!("/webhook/{path}");
    let payload = match read_call(&state, &rec_path, &body).await {
        Ok(payload) => payload,
        Err(resp) => return resp,
    };
    let (status, text) = if path.contains("missing") {
        (StatusCode::NOT_FOUND, "no_service")
    } else if payload.is_null() || (payload["text"].is_null() && !payload["blocks"].is_array()) {
        (StatusCode::BAD_REQUEST, "invalid_payload")
    } else {
        state.push_slack(SlackMessage {
            ts: String::new(),
            channel: "(webhook channel)".into(),
            via: "webhook",
            text: payload["text"].as_str().unwrap_or_default().to_owned(),
            blocks: payload["blocks"].clone(),
            metadata: Value::Null,
            thread_ts: None,
            edits: 0,
        });
        (StatusCode::OK, "ok")
    };
    state.record(
        Service::Slack,
        "POST",
        &rec_path,
        status.as_u16(),
        None,
        payload,
    );
    (status, text).into_response()
}
