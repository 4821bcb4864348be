//! The control endpoints (faults, state, reset) and the shared fault answer of the HTTP stand-ins.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::json;

use crate::faults::{FaultMode, FaultSpec, Service};
use crate::state::SandboxState;

pub(crate) fn routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .route("/_sandbox/faults/{service}", post(set_fault))
        .route("/_sandbox/faults", delete(clear_faults).get(list_faults))
        .route("/_sandbox/state", get(snapshot))
        .route("/_sandbox/requests", get(requests))
        .route("/_sandbox/reset", post(reset))
        .route("/_sandbox/slack/hold", post(hold).delete(release))
}

/// `{"delay_ms": 30000, "count": 1}`: the next `count` successful `chat.postMessage` replies are
/// held for `delay_ms` after the post is recorded.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Hold {
    delay_ms: u64,
    #[serde(default = "one")]
    count: u32,
}

fn one() -> u32 {
    1
}

async fn hold(State(state): State<Arc<SandboxState>>, axum::Json(h): axum::Json<Hold>) -> Response {
    state.hold_slack_replies(Duration::from_millis(h.delay_ms), h.count);
    axum::Json(json!({"held": {"delay_ms": h.delay_ms, "count": h.count}})).into_response()
}

async fn release(State(state): State<Arc<SandboxState>>) -> Response {
    state.release_slack_holds();
    StatusCode::NO_CONTENT.into_response()
}

/// When a fault is in force for `service`: waits (slow) or builds the failing answer.
pub(crate) async fn fault_response(
    state: &SandboxState,
    service: Service,
) -> Option<(Response, FaultSpec)> {
    let fault = state.take_fault(service)?;
    let resp = match fault.mode {
        FaultMode::Slow => {
            tokio::time::sleep(fault.slow_wait()).await;
            return None;
        }
        FaultMode::Down => (
            StatusCode::SERVICE_UNAVAILABLE,
            "service unavailable (sandbox fault)",
        )
            .into_response(),
        FaultMode::Error => (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({"ok": false, "status": "error", "error": "internal_error", "message": "sandbox fault"})),
        )
            .into_response(),
        FaultMode::RateLimit => (
            StatusCode::TOO_MANY_REQUESTS,
            [
                (header::RETRY_AFTER, fault.retry_after_s.to_string()),
                (
                    header::HeaderName::from_static("x-hubspot-ratelimit-remaining"),
                    "0".to_owned(),
                ),
            ],
            axum::Json(json!({"ok": false, "error": "ratelimited", "status": "error", "errorType": "RATE_LIMIT", "message": "You have reached your ten_secondly_rolling limit."})),
        )
            .into_response(),
    };
    Some((resp, fault))
}

async fn set_fault(
    State(state): State<Arc<SandboxState>>,
    Path(service): Path<String>,
    axum::Json(spec): axum::Json<FaultSpec>,
) -> Response {
    let Some(service) = Service::parse(&service) else {
        return (
            StatusCode::NOT_FOUND,
            "unknown service: slack, hubspot or smtp",
        )
            .into_response();
    };
    state.set_fault(service, spec.clone());
    axum::Json(json!({"service": service, "fault": spec})).into_response()
}

async fn clear_faults(State(state): State<Arc<SandboxState>>) -> Response {
    state.clear_faults();
    StatusCode::NO_CONTENT.into_response()
}

async fn list_faults(State(state): State<Arc<SandboxState>>) -> Response {
    let faults: Vec<_> = state
        .faults()
        .into_iter()
        .map(|(s, f)| json!({"service": s, "fault": f}))
        .collect();
    axum::Json(faults).into_response()
}

async fn snapshot(State(state): State<Arc<SandboxState>>) -> Response {
    axum::Json(state.snapshot()).into_response()
}

async fn requests(State(state): State<Arc<SandboxState>>) -> Response {
    axum::Json(state.requests()).into_response()
}

async fn reset(State(state): State<Arc<SandboxState>>) -> Response {
    state.reset();
    StatusCode::NO_CONTENT.into_response()
}
