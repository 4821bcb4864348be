//! The two public routes: `POST /v1/slack/interactions` (Slack's Request URL for interactivity)
//! and `POST /v1/crm/hubspot/events` (HubSpot's webhook target URL). Answers: 200/204 when read,
//! 401 `unauthenticated` (one text for every signature failure), 400 `invalid`, 503.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::service::{Answer, RepActions};
use crate::problem::Failure;

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn answer(a: Answer, ok: StatusCode) -> Response {
    match a {
        Answer::Done => ok.into_response(),
        Answer::Unauthenticated(_) => Failure::new(
            401,
            "unauthenticated",
            "missing, stale or invalid signature (RULES.md RA1, RA2)",
        )
        .into_response(),
        Answer::BadRequest(reason) => Failure::new(400, "invalid", reason).into_response(),
        Answer::Unavailable(reason) => Failure::new(
            503,
            "broker_unavailable",
            format!("nothing recorded: {reason}"),
        )
        .retry_after(1)
        .into_response(),
    }
}

async fn slack(State(s): State<Arc<RepActions>>, headers: HeaderMap, body: Bytes) -> Response {
    let a = s
        .slack(
            header(&headers, "x-slack-request-timestamp"),
            header(&headers, "x-slack-signature"),
            &body,
        )
        .await;
    answer(a, StatusCode::OK)
}

async fn hubspot(
    State(s): State<Arc<RepActions>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned());
    let a = s
        .hubspot(
            method.as_str(),
            header(&headers, "host"),
            &path,
            header(&headers, "x-hubspot-request-timestamp"),
            header(&headers, "x-hubspot-signature-v3"),
            &body,
        )
        .await;
    answer(a, StatusCode::NO_CONTENT)
}

/// The routes, with their state.
pub fn router(s: Arc<RepActions>) -> axum::Router {
    axum::Router::new()
        .route("/v1/slack/interactions", post(slack))
        .route("/v1/crm/hubspot/events", post(hubspot))
        .with_state(s)
}
