//! Slack stand-in, reading side: `conversations.history` (a conversation's messages newer than
//! `oldest`, newest first, `limit` per page and a `cursor` for the next, message `metadata` only with
//! `include_all_metadata=true`) and `conversations.list` (the channels posted to, with their ids).
//! Parameters come as a query string (GET) or a JSON body (POST); Slack's failure injection applies.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::faults::Service;
use crate::slack::{bearer, fault_gate};
use crate::state::SandboxState;

pub(crate) fn routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .route(
            "/slack/api/conversations.history",
            get(history).post(history),
        )
        .route("/slack/api/conversations.list", get(list).post(list))
}

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 999;

/// The call's parameters as one JSON object: the query string, then a JSON body over it.
fn params(query: HashMap<String, String>, body: &Bytes) -> Value {
    let mut p: serde_json::Map<String, Value> = query
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    if let Ok(Value::Object(b)) = serde_json::from_slice::<Value>(body) {
        p.extend(b);
    }
    Value::Object(p)
}

fn text(p: &Value, name: &str) -> String {
    match &p[name] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

async fn history(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let path = "/api/conversations.history";
    let p = params(query, &body);
    if let Some(resp) = fault_gate(&state, path, &p).await {
        return resp;
    }
    let answer = |body: Value| {
        state.record(Service::Slack, "GET", path, 200, None, p.clone());
        (StatusCode::OK, axum::Json(body)).into_response()
    };
    if bearer(&headers) != Some(state.slack_bot_token.as_str()) {
        return answer(json!({"ok": false, "error": "invalid_auth"}));
    }
    let channel = text(&p, "channel");
    if channel.is_empty() || channel.starts_with('#') {
        // Slack wants a conversation id here, not a name
        return answer(json!({"ok": false, "error": "channel_not_found"}));
    }
    let oldest = text(&p, "oldest").parse::<f64>().unwrap_or(0.0);
    let limit = text(&p, "limit")
        .parse::<usize>()
        .unwrap_or(DEFAULT_LIMIT)
        .clamp(1, MAX_LIMIT);
    let start = text(&p, "cursor")
        .strip_prefix("page:")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(0);
    let metadata = matches!(text(&p, "include_all_metadata").as_str(), "true" | "1");
    let latest = text(&p, "latest").parse::<f64>().unwrap_or(f64::MAX);
    let inclusive = matches!(text(&p, "inclusive").as_str(), "true" | "1");
    let all = state.history(&channel, oldest, (latest, inclusive));
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(limit)
        .map(|m| {
            let mut v = json!({"type": "message", "ts": m.ts, "text": m.text, "blocks": m.blocks});
            if metadata && !m.metadata.is_null() {
                v["metadata"] = m.metadata.clone();
            }
            v
        })
        .collect();
    let next = start + page.len();
    let has_more = next < all.len();
    answer(json!({
        "ok": true,
        "messages": page,
        "has_more": has_more,
        "response_metadata": {"next_cursor": if has_more { format!("page:{next}") } else { String::new() }},
    }))
}

async fn list(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let path = "/api/conversations.list";
    let p = params(query, &body);
    if let Some(resp) = fault_gate(&state, path, &p).await {
        return resp;
    }
    state.record(Service::Slack, "GET", path, 200, None, p.clone());
    if bearer(&headers) != Some(state.slack_bot_token.as_str()) {
        return axum::Json(json!({"ok": false, "error": "invalid_auth"})).into_response();
    }
    let channels: Vec<Value> = state
        .channels()
        .into_iter()
        .map(|(id, name)| json!({"id": id, "name": name, "is_channel": true, "is_archived": false}))
        .collect();
    axum::Json(json!({
        "ok": true,
        "channels": channels,
        "response_metadata": {"next_cursor": ""},
    }))
    .into_response()
}
