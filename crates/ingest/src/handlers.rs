//! The HTTP routes: extract the request parts, call the service, answer, count. Each route's
//! `#[utoipa::path]` is its entry in the OpenAPI document.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use leadflow_events::LeadEvent;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::adapters::{chat, hubspot, hubspot_reply};
use crate::api::{Accepted, BatchIn, BatchResults, FieldError, LeadIn, Problem};
use crate::metrics::UNAUTHENTICATED;
use crate::problem::Failure;
use crate::service::{Credentials, Ingest, Schemas};
use crate::validate::validate;

pub type AppState = Arc<Ingest>;

/// Idempotency: a retry with the same key and body gets the original answer and writes nothing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyHeader {
    /// Visible ASCII, 1 to 255 characters; remembered per publisher for `idempotency_window_secs`.
    #[serde(rename = "Idempotency-Key")]
    #[param(
        rename = "Idempotency-Key",
        pattern = "^[!-~]{1,255}$",
        max_length = 255,
        min_length = 1,
        nullable = false
    )]
    pub idempotency_key: Option<String>,
}

/// The batch mode.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BatchQuery {
    /// `true`: each lead is accepted or refused on its own and the answer (200) lists one result per
    /// lead; otherwise the batch is all or nothing (202, or one error naming every invalid field).
    #[serde(default)]
    pub per_item: Option<bool>,
}

/// The publisher a webhook is for.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PublisherPath {
    /// A configured publisher id.
    #[param(pattern = "^[a-z0-9_-]{1,64}$")]
    pub publisher: String,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn credentials(headers: &HeaderMap, publisher: Option<String>) -> Credentials {
    let api_key = header(headers, "authorization")
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .or_else(|| header(headers, "x-api-key"))
        .map(|k| k.trim().to_owned());
    let timestamp = headers.get("x-leadflow-timestamp");
    let signature = headers.get("x-leadflow-signature");
    // present at all (even empty or not text): it must verify
    let signature = (timestamp.is_some() || signature.is_some()).then(|| {
        let text = |v: Option<&axum::http::HeaderValue>| {
            v.and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .trim()
                .to_owned()
        };
        (text(timestamp), text(signature))
    });
    Credentials {
        api_key,
        publisher: publisher.or_else(|| header(headers, "x-leadflow-publisher").map(str::to_owned)),
        signature,
    }
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, Failure> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    match v.to_str() {
        Ok(k)
            if !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| (b'!'..=b'~').contains(&b)) =>
        {
            Ok(Some(k.to_owned()))
        }
        _ => Err(Failure::new(
            400,
            "invalid",
            "the Idempotency-Key header must be 1 to 255 visible ASCII characters",
        )),
    }
}

/// Counts and times one answer.
fn finish(
    ingest: &Ingest,
    route: &str,
    publisher: &str,
    started: Instant,
    response: Response,
) -> Response {
    let status = response.status().as_u16().to_string();
    let label = if ingest.publishers.contains(publisher) {
        publisher
    } else {
        UNAUTHENTICATED
    };
    ingest
        .metrics
        .requests
        .with_label_values(&[route, &status, label])
        .inc();
    ingest
        .metrics
        .request_seconds
        .with_label_values(&[route])
        .observe(started.elapsed().as_secs_f64());
    response
}

/// Reads the body within `body_read_timeout_ms` and `max_body_bytes` (C2, S2).
async fn read_body(body: Body, settings: &crate::config::IngestSettings) -> Result<Bytes, Failure> {
    use http_body_util::BodyExt as _;
    let max = settings.max_body_bytes;
    let limited = http_body_util::Limited::new(body, max);
    let timeout = Duration::from_millis(settings.body_read_timeout_ms);
    match tokio::time::timeout(timeout, limited.collect()).await {
        Err(_) => Err(Failure::new(
            408,
            "timeout",
            format!(
                "the body was not received within {} ms (body_read_timeout_ms)",
                settings.body_read_timeout_ms
            ),
        )),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(Failure::new(
            413,
            "too_large",
            format!("the body exceeds {max} bytes (max_body_bytes)"),
        )),
        Ok(Err(_)) => Err(Failure::new(400, "invalid", "cannot read the body")),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

/// The answer to a refused credential. Every 401 has the same text, whatever was wrong (unknown
/// publisher, no secret, bad signature, unknown key): the answer does not tell which publisher ids
/// exist (P5). The reason is logged.
fn auth_failure(e: &crate::auth::AuthError) -> Failure {
    if e.status() == 403 {
        Failure::new(
            403,
            "forbidden",
            "these credentials are not valid for this publisher",
        )
    } else {
        Failure::new(
            401,
            "unauthenticated",
            "missing or invalid credentials: send Authorization: Bearer <api key>, X-Api-Key, or a signed webhook (RULES.md P1-P3)",
        )
    }
}

/// Runs a route: body limit, authentication, the handler, metrics.
async fn run<F, Fut>(
    ingest: AppState,
    route: &'static str,
    headers: HeaderMap,
    publisher: Option<String>,
    body: Body,
    handle: F,
) -> Response
where
    F: FnOnce(AppState, String, Option<String>, Bytes) -> Fut,
    Fut: Future<Output = Response>,
{
    let started = Instant::now();
    let body = match read_body(body, &ingest.settings).await {
        Ok(b) => b,
        Err(f) => return finish(&ingest, route, UNAUTHENTICATED, started, f.into_response()),
    };
    let creds = credentials(&headers, publisher);
    let who = match ingest.authenticate(&creds, &body) {
        Ok(p) => p,
        Err(e) => {
            tracing::info!(route, error = %e, "request refused");
            return finish(
                &ingest,
                route,
                UNAUTHENTICATED,
                started,
                auth_failure(&e).into_response(),
            );
        }
    };
    if let Err(f) = ingest.charge(&who, 1) {
        return finish(&ingest, route, &who, started, f.into_response());
    }
    let key = match idempotency_key(&headers) {
        Ok(k) => k,
        Err(f) => return finish(&ingest, route, &who, started, f.into_response()),
    };
    let response = handle(ingest.clone(), who.clone(), key, body).await;
    finish(&ingest, route, &who, started, response)
}

fn answer<T: serde::Serialize>(status: StatusCode, result: Result<T, Failure>) -> Response {
    match result {
        Ok(v) => (status, Json(v)).into_response(),
        Err(f) => f.into_response(),
    }
}

/// Publish one lead event.
#[utoipa::path(
    post, path = "/v1/leads", tag = "leads",
    params(IdempotencyHeader),
    request_body(content = LeadIn, content_type = "application/json"),
    responses(
        (status = 202, description = "On leads.raw: the broker acknowledged it", body = Accepted),
        (status = 400, description = "Invalid: every invalid field named (JSON pointer + reason)", body = Problem),
        (status = 401, description = "No valid API key", body = Problem),
        (status = 403, description = "source_system names another publisher", body = Problem),
        (status = 409, description = "The event id or Idempotency-Key is taken by other content, or in flight", body = Problem),
        (status = 413, description = "Body larger than max_body_bytes", body = Problem),
        (status = 429, description = "Rate limit (rate_limited) or producer queue full (backpressure): nothing written, retry after Retry-After seconds", body = Problem),
        (status = 503, description = "Broker unreachable: nothing acknowledged, retry after Retry-After seconds", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn post_lead(State(ingest): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    run(
        ingest,
        "/v1/leads",
        headers,
        None,
        body,
        |i, who, key, body| async move {
            answer(
                StatusCode::ACCEPTED,
                i.post_lead(&who, key.as_deref(), &body).await,
            )
        },
    )
    .await
}

/// Publish up to `max_batch` lead events at once.
#[utoipa::path(
    post, path = "/v1/leads:batch", tag = "leads",
    params(IdempotencyHeader, BatchQuery),
    request_body(content = BatchIn, content_type = "application/json"),
    responses(
        (status = 202, description = "All or nothing: every lead is on leads.raw", body = Accepted),
        (status = 200, description = "per_item=true: one result per lead", body = BatchResults),
        (status = 400, description = "Invalid: every invalid field of every lead named; nothing written", body = Problem),
        (status = 401, description = "No valid API key", body = Problem),
        (status = 403, description = "A source_system names another publisher; nothing written", body = Problem),
        (status = 409, description = "An event id or the Idempotency-Key is taken by other content, or in flight", body = Problem),
        (status = 413, description = "Body larger than max_body_bytes or more than max_batch leads", body = Problem),
        (status = 429, description = "Rate limit (rate_limited) or producer queue full (backpressure): nothing written, retry after Retry-After seconds", body = Problem),
        (status = 503, description = "Broker unreachable: retry the same request (acknowledged events are not written twice)", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn post_batch(
    State(ingest): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let per_item = match per_item(query.as_deref()) {
        Ok(p) => p,
        Err(f) => {
            return finish(
                &ingest,
                "/v1/leads:batch",
                UNAUTHENTICATED,
                Instant::now(),
                f.into_response(),
            );
        }
    };
    run(
        ingest,
        "/v1/leads:batch",
        headers,
        None,
        body,
        move |i, who, key, body| async move {
            if per_item {
                answer(StatusCode::OK, i.post_batch_per_item(&who, &body).await)
            } else {
                answer(
                    StatusCode::ACCEPTED,
                    i.post_batch(&who, key.as_deref(), &body).await,
                )
            }
        },
    )
    .await
}

/// `per_item=true|false` (absent: false); anything else is a 400 naming the parameter.
fn per_item(query: Option<&str>) -> Result<bool, Failure> {
    let mut value = false;
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k != "per_item" {
            continue;
        }
        value = match v {
            "true" => true,
            "false" => false,
            _ => {
                return Err(Failure::new(
                    400,
                    "invalid",
                    "the per_item query parameter must be true or false",
                ));
            }
        };
    }
    Ok(value)
}

/// Parses and validates a webhook body against the schema `name`, then maps it.
fn webhook_body<T: serde::de::DeserializeOwned>(
    ingest: &Ingest,
    name: &str,
    body: &[u8],
) -> Result<T, Failure> {
    let value = crate::service::parse_json(body)?;
    let errors = validate(
        &value,
        ingest.schemas.named(name),
        &ingest.schemas.components,
    );
    if !errors.is_empty() {
        return Err(Failure::invalid(errors));
    }
    serde_json::from_value(value).map_err(|e| {
        Failure::invalid(vec![FieldError {
            pointer: String::new(),
            reason: e.to_string(),
        }])
    })
}

/// Whose lead ids an adapter writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LeadIds {
    /// The publisher's own: ingest scopes them to it (P6).
    Publisher,
    /// leadflow's own, complete as the adapter wrote them (a CRM reply, A3): only a publisher with
    /// `crm_replies` may post them.
    Leadflow,
}

/// A webhook whose body an adapter maps to one lead event: the body is checked against the
/// published schema `schema`, read as a `T`, mapped by `to_event` for the authenticated publisher
/// and posted; 202 once the broker acknowledged it.
#[allow(clippy::too_many_arguments)]
async fn adapted_webhook<T: serde::de::DeserializeOwned>(
    ingest: AppState,
    route: &'static str,
    headers: HeaderMap,
    publisher: String,
    body: Body,
    schema: &'static str,
    to_event: fn(&T, &str) -> Result<LeadEvent, Vec<FieldError>>,
    ids: LeadIds,
) -> Response {
    run(
        ingest,
        route,
        headers,
        Some(publisher),
        body,
        |i, who, key, body| async move {
            if ids == LeadIds::Leadflow && !i.publishers.may_post_replies(&who) {
                let e = crate::auth::AuthError::NotCrm(who);
                tracing::info!(error = %e, "request refused (403)");
                return auth_failure(&e).into_response();
            }
            let result = match webhook_body::<T>(&i, schema, &body) {
                Ok(input) => match to_event(&input, &who) {
                    Ok(event) if ids == LeadIds::Leadflow => {
                        i.post_scoped_event(&who, key.as_deref(), &body, event)
                            .await
                    }
                    Ok(event) => i.post_event(&who, key.as_deref(), &body, event).await,
                    Err(fields) => Err(Failure::invalid(fields)),
                },
                Err(f) => Err(f),
            };
            answer(StatusCode::ACCEPTED, result)
        },
    )
    .await
}

/// A HubSpot form submission webhook.
#[utoipa::path(
    post, path = "/v1/webhooks/hubspot/{publisher}", tag = "webhooks",
    params(PublisherPath, IdempotencyHeader),
    request_body(content = hubspot::HubSpotFormSubmission, content_type = "application/json"),
    responses(
        (status = 202, description = "Mapped to a FORM_SUBMISSION lead event and acknowledged by the broker", body = Accepted),
        (status = 400, description = "Invalid submission: every invalid field named", body = Problem),
        (status = 401, description = "Missing, malformed, wrong or expired signature (or API key)", body = Problem),
        (status = 403, description = "The API key belongs to another publisher", body = Problem),
        (status = 409, description = "The same submission with other content, or in flight", body = Problem),
        (status = 413, description = "Body larger than max_body_bytes", body = Problem),
        (status = 429, description = "Rate limit (rate_limited) or producer queue full (backpressure): nothing written, retry after Retry-After seconds", body = Problem),
        (status = 503, description = "Broker or schema registry unreachable: retry after Retry-After seconds", body = Problem),
    ),
    security(("signature" = []), ("bearer" = []), ("api_key" = []))
)]
pub async fn hubspot_webhook(
    State(ingest): State<AppState>,
    Path(publisher): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    adapted_webhook(
        ingest,
        "/v1/webhooks/hubspot/{publisher}",
        headers,
        publisher,
        body,
        "HubSpotFormSubmission",
        hubspot::to_lead_event,
        LeadIds::Publisher,
    )
    .await
}

/// A HubSpot workflow's webhook for a contact that replied to an email.
#[utoipa::path(
    post, path = "/v1/webhooks/hubspot/{publisher}/replies", tag = "webhooks",
    params(PublisherPath, IdempotencyHeader),
    request_body(content = hubspot_reply::HubSpotContactReply, content_type = "application/json"),
    responses(
        (status = 202, description = "Mapped to an EMAIL_REPLY lead event for the contact's lead and acknowledged by the broker", body = Accepted),
        (status = 400, description = "Invalid reply: every invalid field named (the email and a reply time are required)", body = Problem),
        (status = 401, description = "Missing, malformed, wrong or expired signature (or API key)", body = Problem),
        (status = 403, description = "The API key belongs to another publisher", body = Problem),
        (status = 409, description = "The same reply with other content, or in flight", body = Problem),
        (status = 413, description = "Body larger than max_body_bytes", body = Problem),
        (status = 429, description = "Rate limit (rate_limited) or producer queue full (backpressure): nothing written, retry after Retry-After seconds", body = Problem),
        (status = 503, description = "Broker or schema registry unreachable: retry after Retry-After seconds", body = Problem),
    ),
    security(("signature" = []), ("bearer" = []), ("api_key" = []))
)]
pub async fn hubspot_reply_webhook(
    State(ingest): State<AppState>,
    Path(publisher): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // the lead ids of replies are leadflow's own, not the publisher's (P6): the CRM only
    adapted_webhook(
        ingest,
        "/v1/webhooks/hubspot/{publisher}/replies",
        headers,
        publisher,
        body,
        "HubSpotContactReply",
        hubspot_reply::to_lead_event,
        LeadIds::Leadflow,
    )
    .await
}

/// A chat transcript webhook.
#[utoipa::path(
    post, path = "/v1/webhooks/chat/{publisher}", tag = "webhooks",
    params(PublisherPath, IdempotencyHeader),
    request_body(content = chat::ChatTranscript, content_type = "application/json"),
    responses(
        (status = 202, description = "Mapped to a CHAT_CONVERSATION lead event and acknowledged by the broker", body = Accepted),
        (status = 400, description = "Invalid transcript: every invalid field named", body = Problem),
        (status = 401, description = "Missing, malformed, wrong or expired signature (or API key)", body = Problem),
        (status = 403, description = "The API key belongs to another publisher", body = Problem),
        (status = 409, description = "The same transcript with other content, or in flight", body = Problem),
        (status = 413, description = "Body larger than max_body_bytes", body = Problem),
        (status = 429, description = "Rate limit (rate_limited) or producer queue full (backpressure): nothing written, retry after Retry-After seconds", body = Problem),
        (status = 503, description = "Broker or schema registry unreachable: retry after Retry-After seconds", body = Problem),
    ),
    security(("signature" = []), ("bearer" = []), ("api_key" = []))
)]
pub async fn chat_webhook(
    State(ingest): State<AppState>,
    Path(publisher): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    adapted_webhook(
        ingest,
        "/v1/webhooks/chat/{publisher}",
        headers,
        publisher,
        body,
        "ChatTranscript",
        chat::to_lead_event,
        LeadIds::Publisher,
    )
    .await
}

/// Liveness: 200 while the service's event loop runs (internal listener only).
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Live", body = String, content_type = "text/plain"),
              (status = 503, description = "Stalled or stopped", body = String, content_type = "text/plain")))]
pub async fn healthz(State(ingest): State<AppState>) -> (StatusCode, &'static str) {
    if ingest.health.is_live() {
        (StatusCode::OK, "ok\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "stopped\n")
    }
}

/// Readiness: 200 once the idempotency memory is rebuilt and while the broker is reachable.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready", body = String, content_type = "text/plain"),
              (status = 503, description = "Not ready (starting, broker unreachable, draining)", body = String, content_type = "text/plain")))]
pub async fn readyz(State(ingest): State<AppState>) -> (StatusCode, &'static str) {
    if ingest.health.is_ready() && ingest.sink.broker().is_up() {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
    }
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain")))]
pub async fn metrics(
    State(ingest): State<AppState>,
) -> ([(&'static str, &'static str); 1], String) {
    let m = &ingest.metrics;
    m.queue_records.set(ingest.sink.queued());
    m.broker_up.set(i64::from(ingest.sink.broker().is_up()));
    (
        [("content-type", "text/plain; version=0.0.4")],
        m.registry.render(),
    )
}

/// Returns the request body schemas known to the validator (for `Schemas`).
pub fn schemas(doc: &serde_json::Value) -> Schemas {
    let components = doc
        .pointer("/components/schemas")
        .and_then(serde_json::Value::as_object)
        .cloned()
        .unwrap_or_default();
    Schemas { components }
}
