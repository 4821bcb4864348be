//! Slack Web API calls (bot token): a JSON `POST` for writes, a `GET` with a query string for
//! reads, and the one mapping of every answer to a reply or a retry / rate limit / rejection.

use std::time::Duration;

use leadflow_runtime::Secret;
use serde_json::Value;

use crate::channel::{ChannelError, parse_retry_after, transport_error};

/// `ok: false` errors worth retrying; every other error is permanent for this packet.
const TRANSIENT_ERRORS: [&str; 5] = [
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "team_added_to_org",
];

/// One Slack Web API call (`{base}/{method}`, JSON body, bot token): the reply of an `ok: true`
/// answer, or the failure mapped to retry / rate limit / rejection.
pub(crate) async fn api_call(
    http: &reqwest::Client,
    base: &str,
    token: &Secret,
    method: &str,
    body: &Value,
) -> Result<Value, ChannelError> {
    let resp = http
        .post(format!("{base}/{method}"))
        .bearer_auth(token.expose())
        .json(body)
        .send()
        .await
        .map_err(|e| transport_error("slack", e))?;
    read_answer(resp, method).await
}

/// A Web API answer: its body when `ok: true`, else the failure mapped to retry / rate limit /
/// rejection.
pub(crate) async fn read_answer(
    resp: reqwest::Response,
    method: &str,
) -> Result<Value, ChannelError> {
    let status = resp.status();
    let retry_after = parse_retry_after(
        resp.headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()),
    );
    if status.as_u16() == 429 {
        return Err(ChannelError::RateLimited {
            reason: format!("slack {method} answered 429"),
            retry_after: retry_after.unwrap_or(Duration::from_secs(1)),
        });
    }
    if status.is_server_error() {
        return Err(ChannelError::Unavailable {
            reason: format!("slack answered {status}"),
            retry_after,
        });
    }
    if !status.is_success() {
        return Err(ChannelError::rejected(format!("slack answered {status}")));
    }
    let reply: Value = resp.json().await.map_err(|e| transport_error("slack", e))?;
    if reply["ok"] == true {
        return Ok(reply);
    }
    let error = reply["error"]
        .as_str()
        .unwrap_or("unknown_error")
        .to_owned();
    if error == "ratelimited" {
        return Err(ChannelError::RateLimited {
            reason: "slack: ratelimited".into(),
            retry_after: retry_after.unwrap_or(Duration::from_secs(1)),
        });
    }
    if TRANSIENT_ERRORS.contains(&error.as_str()) {
        return Err(ChannelError::Unavailable {
            reason: format!("slack: {error}"),
            retry_after,
        });
    }
    Err(ChannelError::rejected(format!("slack {method}: {error}")))
}

/// One Web API read (`GET {base}/{method}?…`, bot token), answered like every other call.
pub(crate) async fn api_get(
    http: &reqwest::Client,
    base: &str,
    token: &Secret,
    method: &str,
    query: &[(&str, &str)],
) -> Result<Value, ChannelError> {
    let resp = http
        .get(format!("{base}/{method}"))
        .bearer_auth(token.expose())
        .query(query)
        .send()
        .await
        .map_err(|e| transport_error("slack", e))?;
    read_answer(resp, method).await
}
