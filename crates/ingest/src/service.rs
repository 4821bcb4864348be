//! The ingest service without HTTP: authenticate, validate, deduplicate, write, answer. The axum
//! handlers (`handlers.rs`) only extract the request parts and call into this.

use std::sync::{Arc, Mutex};

use leadflow_events::LeadEvent;
use leadflow_runtime::Clock;
use leadflow_runtime::http::Health;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::api::{Accepted, BatchResults, FieldError, ItemResult, LeadIn};
use crate::auth::{AuthError, Publishers};
use crate::config::IngestSettings;
use crate::idempotency::{Claim, IdempotencyStore, Stored, Ticket, event_key, request_key};
use crate::metrics::IngestMetrics;
use crate::problem::Failure;
use crate::rate::RateLimits;
use crate::sink::{LeadSink, OutRecord, SinkError};
use crate::validate::{push_pointer, validate_at};

/// The credentials a request came with.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    /// `Authorization: Bearer <key>` or `X-Api-Key`.
    pub api_key: Option<String>,
    /// The publisher the request names (webhook path, or `X-Leadflow-Publisher`).
    pub publisher: Option<String>,
    /// `X-Leadflow-Timestamp` and `X-Leadflow-Signature`.
    pub signature: Option<(String, String)>,
}

/// The schemas request bodies are validated against (from the OpenAPI document).
pub struct Schemas {
    pub components: Map<String, Value>,
}

impl Schemas {
    /// The schema `name` of the document's components (`true`, which accepts nothing less than
    /// anything, never happens: `tests/validation.rs` checks every request body schema is there).
    pub fn named(&self, name: &str) -> &Value {
        static MISSING: Value = Value::Null;
        self.components.get(name).unwrap_or(&MISSING)
    }
}

/// Everything a request needs.
pub struct Ingest {
    pub settings: IngestSettings,
    pub publishers: Publishers,
    pub sink: Arc<LeadSink>,
    pub store: Mutex<IdempotencyStore>,
    pub metrics: IngestMetrics,
    pub health: Arc<Health>,
    pub clock: Arc<dyn Clock>,
    pub schemas: Schemas,
    pub limits: RateLimits,
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The fingerprint of an event as written (same id + same fingerprint = the same event again).
pub fn event_fingerprint(event: &LeadEvent) -> [u8; 32] {
    sha256(&serde_json::to_vec(event).unwrap_or_default())
}

/// Removes `null` members (the API allows `null` for every optional field; the event model's
/// defaults apply to absent ones).
fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(strip_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// A validated `LeadIn` as the contract's `LeadEvent` of `publisher`.
pub fn lead_to_event(lead: &LeadIn, publisher: &str) -> Result<LeadEvent, String> {
    let v = serde_json::to_value(lead).map_err(|e| e.to_string())?;
    event_from_value(v, publisher)
}

/// A request body's lead, already validated against `LeadIn`'s schema, as the contract's `LeadEvent`
/// of `publisher` — the same result as deserializing a `LeadIn` and calling [`lead_to_event`]
/// (`LeadIn` is the event's JSON shape; `tests/validation.rs` checks both agree), without building
/// the `LeadIn` and a second JSON tree per lead.
pub fn event_from_value(mut v: Value, publisher: &str) -> Result<LeadEvent, String> {
    strip_nulls(&mut v);
    if let Value::Object(m) = &mut v {
        m.insert("source_system".into(), Value::String(publisher.to_owned()));
    }
    serde_json::from_value(v).map_err(|e| e.to_string())
}

/// Lead ids are the publisher's own: ingest writes `<publisher>:<lead_id>`, so one publisher cannot
/// address (add activities to, reassign, overwrite) another publisher's lead (P6).
pub fn scope_lead_id(event: &mut LeadEvent, publisher: &str) {
    event.lead_id = format!("{publisher}:{}", event.lead_id);
}

/// One event of a request, ready to claim and write.
struct Item {
    event: LeadEvent,
    fingerprint: [u8; 32],
}

impl Ingest {
    fn now_ms(&self) -> i64 {
        self.clock.now().millis()
    }

    /// Who posted. Every credential presented must be valid: a signature (when its headers are
    /// present, for the publisher the request names) and an API key (whose publisher must be the one
    /// named, if any); with both, they must name the same publisher.
    pub fn authenticate(&self, creds: &Credentials, body: &[u8]) -> Result<String, AuthError> {
        let signed = match &creds.signature {
            None => None,
            Some((ts, sig)) => {
                let Some(p) = &creds.publisher else {
                    return Err(AuthError::UnknownPublisher(String::new()));
                };
                let now_secs = self.now_ms().div_euclid(1000);
                self.publishers
                    .verify_signature(p, ts, sig, body, now_secs)?;
                Some(p.clone())
            }
        };
        if let Some(key) = &creds.api_key {
            let owner = self.publishers.by_api_key(key)?;
            if let Some(named) = &creds.publisher {
                if named != owner {
                    return Err(AuthError::WrongPublisher {
                        key: owner.to_owned(),
                        named: named.clone(),
                    });
                }
            }
            return Ok(owner.to_owned());
        }
        signed.ok_or(AuthError::Missing)
    }

    fn parse(body: &[u8]) -> Result<Value, Failure> {
        parse_json(body)
    }

    /// Takes `leads` tokens of `publisher`'s rate limit (R1), or answers 429 with `Retry-After`.
    pub fn charge(&self, publisher: &str, leads: usize) -> Result<(), Failure> {
        if leads == 0 {
            return Ok(());
        }
        self.limits
            .take(publisher, leads, self.now_ms())
            .map_err(|secs| {
                Failure::new(
                    429,
                    "rate_limited",
                    format!(
                        "more than {} leads per second (burst {}); retry after the Retry-After seconds",
                        self.settings.rate_limit_per_sec, self.settings.rate_burst
                    ),
                )
                .retry_after(secs)
            })
    }

    /// Validates one lead at `pointer` and maps it, or returns its field errors with the status to
    /// answer (400 invalid, 403 a foreign `source_system`).
    fn check_lead(
        &self,
        value: Value,
        pointer: &str,
        publisher: &str,
    ) -> Result<Item, (u16, Vec<FieldError>)> {
        let errors = validate_at(
            &value,
            self.schemas.named("LeadIn"),
            &self.schemas.components,
            pointer,
        );
        if !errors.is_empty() {
            return Err((400, errors));
        }
        match value.get("source_system") {
            Some(Value::String(s)) if s != publisher => {
                return Err((
                    403,
                    vec![FieldError {
                        pointer: push_pointer(pointer, "source_system"),
                        reason: format!(
                            "must be absent or {publisher:?} (your publisher id): ingest stamps it"
                        ),
                    }],
                ));
            }
            _ => {}
        }
        let mut event = event_from_value(value, publisher).map_err(|e| {
            (
                400,
                vec![FieldError {
                    pointer: pointer.to_owned(),
                    reason: e,
                }],
            )
        })?;
        scope_lead_id(&mut event, publisher);
        Ok(Item {
            fingerprint: event_fingerprint(&event),
            event,
        })
    }

    /// `POST /v1/leads`.
    pub async fn post_lead(
        &self,
        publisher: &str,
        key: Option<&str>,
        body: &[u8],
    ) -> Result<Accepted, Failure> {
        let value = Self::parse(body)?;
        let item = self
            .check_lead(value, "", publisher)
            .map_err(|(status, fields)| refusal(status, fields))?;
        self.accept(publisher, key, body, vec![item]).await
    }

    /// `POST /v1/leads:batch`, all or nothing.
    pub async fn post_batch(
        &self,
        publisher: &str,
        key: Option<&str>,
        body: &[u8],
    ) -> Result<Accepted, Failure> {
        let mut value = Self::parse(body)?;
        self.check_batch_size(&value)?;
        self.charge_batch(publisher, &value)?;
        // the envelope; each lead is validated on its own below (with its pointer)
        let errors = check_envelope(&value);
        if !errors.is_empty() {
            return Err(Failure::invalid(errors));
        }
        let leads = match value.get_mut("leads").map(Value::take) {
            Some(Value::Array(leads)) => leads,
            _ => Vec::new(),
        };
        let mut items = Vec::with_capacity(leads.len());
        let mut fields = Vec::new();
        let mut status = 400;
        for (i, lead) in leads.into_iter().enumerate() {
            match self.check_lead(lead, &format!("/leads/{i}"), publisher) {
                Ok(item) => items.push(item),
                Err((s, f)) => {
                    if s == 403 {
                        status = 403;
                    }
                    fields.extend(f);
                }
            }
        }
        if !fields.is_empty() {
            return Err(refusal(status, fields));
        }
        self.accept(publisher, key, body, items).await
    }

    /// A batch costs one token per lead; the request's own token was taken when it authenticated.
    fn charge_batch(&self, publisher: &str, value: &Value) -> Result<(), Failure> {
        let n = value
            .get("leads")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        self.charge(publisher, n.saturating_sub(1))
    }

    fn check_batch_size(&self, value: &Value) -> Result<(), Failure> {
        if let Some(n) = value.get("leads").and_then(Value::as_array).map(Vec::len) {
            if n > self.settings.max_batch {
                return Err(Failure::new(
                    413,
                    "too_large",
                    format!(
                        "{n} leads in one batch; at most {} (max_batch)",
                        self.settings.max_batch
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `POST /v1/leads:batch?per_item=true`: each lead on its own.
    pub async fn post_batch_per_item(
        &self,
        publisher: &str,
        body: &[u8],
    ) -> Result<BatchResults, Failure> {
        let mut value = Self::parse(body)?;
        self.check_batch_size(&value)?;
        self.charge_batch(publisher, &value)?;
        let Some(leads) = value.get("leads").and_then(Value::as_array) else {
            return Err(Failure::invalid(vec![FieldError {
                pointer: "/leads".into(),
                reason: "is required: an array of leads".into(),
            }]));
        };
        if leads.is_empty() {
            return Err(Failure::invalid(vec![FieldError {
                pointer: "/leads".into(),
                reason: "must have at least 1 item(s)".into(),
            }]));
        }
        if let Some(extra) = value
            .as_object()
            .and_then(|m| m.keys().find(|k| *k != "leads"))
        {
            return Err(Failure::invalid(vec![FieldError {
                pointer: push_pointer("", extra),
                reason: "is not a known field".into(),
            }]));
        }
        let leads = match value.get_mut("leads").map(Value::take) {
            Some(Value::Array(leads)) => leads,
            _ => Vec::new(),
        };
        let mut results: Vec<ItemResult> = Vec::with_capacity(leads.len());
        let mut fresh: Vec<(usize, Item, String)> = Vec::new();
        let mut claims = Claims::new(&self.store);
        let now = self.now_ms();
        for (i, lead) in leads.into_iter().enumerate() {
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            let mut result = ItemResult {
                index,
                status: 202,
                event_id: None,
                fields: Vec::new(),
            };
            match self.check_lead(lead, &format!("/leads/{i}"), publisher) {
                Err((status, mut fields)) => {
                    fields.truncate(crate::problem::MAX_FIELD_ERRORS);
                    result.status = status;
                    result.fields = fields;
                }
                Ok(item) => {
                    result.event_id = Some(item.event.event_id.clone());
                    let ek = event_key(publisher, &item.event.event_id);
                    let claim = self.lock_store().claim(&ek, item.fingerprint, now);
                    match claim {
                        Claim::Fresh(ticket) => {
                            claims.hold(&ek, ticket);
                            fresh.push((i, item, ek));
                        }
                        Claim::Replay(_) => {
                            self.metrics.replayed.with_label_values(&[publisher]).inc();
                        }
                        Claim::Conflict | Claim::InFlight | Claim::Unknown => {
                            result.status = 409;
                            result.fields = vec![FieldError {
                                pointer: format!("/leads/{i}/event_id"),
                                reason:
                                    "this event id is already taken by another event (or in flight)"
                                        .into(),
                            }];
                        }
                    }
                }
            }
            results.push(result);
        }
        if !fresh.is_empty() {
            let records: Vec<OutRecord> = fresh
                .iter()
                .map(|(_, item, _)| OutRecord {
                    event: item.event.clone(),
                    publisher: publisher.to_owned(),
                    fingerprint: item.fingerprint,
                    request: None,
                })
                .collect();
            let (written, failed) = match self.sink.write(&records).await {
                Ok(()) => ((0..records.len()).collect::<Vec<_>>(), None),
                Err((written, e)) => (written, Some(e)),
            };
            if let Some(e) = &failed {
                log_sink_failure(e);
            }
            let now = self.now_ms();
            let mut store = self.lock_store();
            for (j, (i, item, ek)) in fresh.iter().enumerate() {
                if written.contains(&j) {
                    store.complete(
                        ek,
                        item.fingerprint,
                        Stored {
                            event_ids: vec![item.event.event_id.clone()],
                        },
                        now,
                    );
                    self.metrics
                        .accepted_events
                        .with_label_values(&[publisher])
                        .inc();
                } else if let Some(r) = results.get_mut(*i) {
                    // its claim is released by `claims` below
                    r.status = match failed {
                        Some(SinkError::QueueFull(_)) => 429,
                        _ => 503,
                    };
                }
            }
            self.set_store_gauges(&store);
        }
        drop(claims);
        Ok(BatchResults { items: results })
    }

    fn lock_store(&self) -> std::sync::MutexGuard<'_, IdempotencyStore> {
        // a panic while holding the lock cannot leave the store half-updated in a way that matters
        // more than refusing every request: recover the guard
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Accepts already-mapped events (webhook adapters).
    pub async fn post_event(
        &self,
        publisher: &str,
        key: Option<&str>,
        body: &[u8],
        mut event: LeadEvent,
    ) -> Result<Accepted, Failure> {
        scope_lead_id(&mut event, publisher);
        self.post_scoped_event(publisher, key, body, event).await
    }

    /// Writes an event whose lead id is already leadflow's (scoped by the adapter: a CRM reply, A3).
    pub async fn post_scoped_event(
        &self,
        publisher: &str,
        key: Option<&str>,
        body: &[u8],
        event: LeadEvent,
    ) -> Result<Accepted, Failure> {
        let item = Item {
            fingerprint: event_fingerprint(&event),
            event,
        };
        self.accept(publisher, key, body, vec![item]).await
    }

    fn set_store_gauges(&self, store: &IdempotencyStore) {
        self.metrics
            .idempotency_entries
            .set(i64::try_from(store.len()).unwrap_or(i64::MAX));
        self.metrics
            .idempotency_bytes
            .set(i64::try_from(store.bytes()).unwrap_or(i64::MAX));
    }

    /// Claims the request (Idempotency-Key) and its events (event ids), writes what is new, answers.
    /// Every claim is held by a guard (`Claims`) that releases what was not completed on every path
    /// out, including this future being dropped (S5).
    async fn accept(
        &self,
        publisher: &str,
        key: Option<&str>,
        body: &[u8],
        items: Vec<Item>,
    ) -> Result<Accepted, Failure> {
        let retry = self.settings.retry_after_secs;
        let now = self.now_ms();
        let mut claims = Claims::new(&self.store);
        // only a request with an Idempotency-Key is remembered as a whole
        let request_fp = if key.is_some() { sha256(body) } else { [0; 32] };
        let rk = key.map(|k| request_key(publisher, k));
        if let Some(rk) = &rk {
            let claim = self.lock_store().claim(rk, request_fp, now);
            match claim {
                Claim::Fresh(ticket) => claims.hold(rk, ticket),
                Claim::Replay(s) => {
                    self.metrics.replayed.with_label_values(&[publisher]).inc();
                    return Ok(Accepted {
                        event_ids: s.event_ids,
                        replayed: true,
                    });
                }
                Claim::Conflict | Claim::Unknown => {
                    return Err(Failure::new(
                        409,
                        "conflict",
                        "this Idempotency-Key was used with another body",
                    ));
                }
                Claim::InFlight => {
                    return Err(Failure::new(
                        409,
                        "conflict",
                        "a request with this Idempotency-Key is in progress",
                    )
                    .retry_after(retry));
                }
            }
        }
        // claim each event id; a replayed one is not written again
        let mut fresh: Vec<(usize, String)> = Vec::new();
        let mut conflict = Vec::new();
        let mut in_flight = false;
        {
            let mut store = self.lock_store();
            for (i, item) in items.iter().enumerate() {
                let ek = event_key(publisher, &item.event.event_id);
                match store.claim(&ek, item.fingerprint, now) {
                    Claim::Fresh(ticket) => {
                        claims.hold(&ek, ticket);
                        fresh.push((i, ek));
                    }
                    Claim::Replay(_) => {}
                    Claim::Conflict | Claim::Unknown => conflict.push(i),
                    Claim::InFlight => {
                        in_flight = true;
                        conflict.push(i);
                    }
                }
            }
        }
        if !conflict.is_empty() {
            // `claims` releases this request's claims
            let many = items.len() > 1;
            let fields = conflict
                .iter()
                .map(|i| FieldError {
                    pointer: if many { format!("/leads/{i}/event_id") } else { "/event_id".into() },
                    reason: "this event id was already accepted with other content, or appears twice in this batch, or is in flight".into(),
                })
                .collect();
            let mut f = Failure::new(409, "conflict", "event id already taken");
            f.problem.fields = fields;
            if in_flight {
                f = f.retry_after(retry);
            }
            return Err(f);
        }
        if fresh.len() < items.len() {
            self.metrics.replayed.with_label_values(&[publisher]).inc();
        }
        let count = items.len();
        let records: Vec<OutRecord> = fresh
            .iter()
            .map(|(i, _)| OutRecord {
                event: items[*i].event.clone(),
                publisher: publisher.to_owned(),
                fingerprint: items[*i].fingerprint,
                request: key.map(|k| (k.to_owned(), request_fp, *i, count)),
            })
            .collect();
        let outcome = if records.is_empty() {
            Ok(())
        } else {
            self.sink.write(&records).await
        };
        let now = self.now_ms();
        let event_ids: Vec<String> = items.iter().map(|i| i.event.event_id.clone()).collect();
        let written: Vec<usize> = match &outcome {
            Ok(()) => (0..fresh.len()).collect(),
            Err((written, _)) => written.clone(),
        };
        {
            let mut store = self.lock_store();
            // what landed is remembered (a retry will not write it twice); the rest is released by
            // `claims`
            for (j, (i, ek)) in fresh.iter().enumerate() {
                if written.contains(&j) {
                    store.complete(
                        ek,
                        items[*i].fingerprint,
                        Stored {
                            event_ids: vec![items[*i].event.event_id.clone()],
                        },
                        now,
                    );
                }
            }
            if let (Ok(()), Some(rk)) = (&outcome, &rk) {
                store.complete(
                    rk,
                    request_fp,
                    Stored {
                        event_ids: event_ids.clone(),
                    },
                    now,
                );
            }
            self.set_store_gauges(&store);
        }
        drop(claims);
        self.metrics
            .accepted_events
            .with_label_values(&[publisher])
            .inc_by(written.len() as u64);
        match outcome {
            Ok(()) => Ok(Accepted {
                event_ids,
                replayed: records.is_empty(),
            }),
            Err((written, e)) => {
                log_sink_failure(&e);
                Err(sink_failure(&e, written.len(), count, retry))
            }
        }
    }
}

/// The pending claims of one request, released when the guard is dropped: on an error, an early
/// return, or the request's future dropped mid-flight (the client went away). A completed claim is
/// not pending any more, so its release is a no-op (S5).
struct Claims<'a> {
    store: &'a Mutex<IdempotencyStore>,
    held: Vec<(String, Ticket)>,
}

impl<'a> Claims<'a> {
    fn new(store: &'a Mutex<IdempotencyStore>) -> Self {
        Self {
            store,
            held: Vec::new(),
        }
    }

    fn hold(&mut self, key: &str, ticket: Ticket) {
        self.held.push((key.to_owned(), ticket));
    }
}

impl Drop for Claims<'_> {
    fn drop(&mut self) {
        if self.held.is_empty() {
            return;
        }
        let mut store = self
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (key, ticket) in self.held.drain(..) {
            store.release(&key, ticket);
        }
    }
}

/// `BatchIn` without its leads' contents: an object with exactly `leads`, an array of 1 or more
/// items (the count bound is `check_batch_size`'s). Each lead is then checked against `LeadIn` on its
/// own, which is what `BatchIn`'s `items: {$ref: LeadIn}` asks.
fn check_envelope(value: &Value) -> Vec<FieldError> {
    let field = |pointer: &str, reason: &str| FieldError {
        pointer: pointer.to_owned(),
        reason: reason.to_owned(),
    };
    let kind = |v: &Value| match v {
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "boolean",
        Value::Null => "null",
    };
    let Some(members) = value.as_object() else {
        return vec![field("", &format!("must be object, got {}", kind(value)))];
    };
    let mut errors: Vec<FieldError> = members
        .keys()
        .filter(|k| *k != "leads")
        .map(|k| field(&push_pointer("", k), "is not a known field"))
        .collect();
    match members.get("leads") {
        None => errors.push(field("/leads", "is required")),
        Some(Value::Array(a)) if a.is_empty() => {
            errors.push(field("/leads", "must have at least 1 item(s)"));
        }
        Some(Value::Array(_)) => {}
        Some(other) => errors.push(field(
            "/leads",
            &format!("must be array, got {}", kind(other)),
        )),
    }
    errors
}

/// Parses a JSON body; numbers with a zero fraction (`3.0`) become integers, as JSON Schema counts
/// them (`integer` fields accept them).
pub fn parse_json(body: &[u8]) -> Result<Value, Failure> {
    let mut v: Value = serde_json::from_slice(body).map_err(|e| {
        Failure::invalid(vec![FieldError {
            pointer: String::new(),
            reason: format!("not valid JSON: {e}"),
        }])
    })?;
    whole_numbers_as_integers(&mut v);
    Ok(v)
}

fn whole_numbers_as_integers(v: &mut Value) {
    match v {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64() {
                // exactly representable: |f| < 2^53
                if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
                    #[allow(clippy::cast_possible_truncation)]
                    let i = f as i64;
                    *v = Value::from(i);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(m) => m.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

fn refusal(status: u16, fields: Vec<FieldError>) -> Failure {
    if status == 403 {
        let mut f = Failure::new(
            403,
            "forbidden",
            "source_system names another publisher; nothing was written",
        );
        f.problem.fields = fields;
        f
    } else {
        Failure::invalid(fields)
    }
}

/// Logs why records were not written (the detail stays in the log: answers never carry internal
/// addresses or client errors, S6).
fn log_sink_failure(e: &SinkError) {
    tracing::warn!(error = %e, "records not written");
}

fn sink_failure(e: &SinkError, written: usize, count: usize, retry: u32) -> Failure {
    match e {
        SinkError::QueueFull(n) => Failure::new(
            429,
            "backpressure",
            format!("{n} records await the broker's acknowledgement; retry after the Retry-After seconds"),
        )
        .retry_after(retry),
        SinkError::BrokerDown => Failure::new(503, "broker_unavailable", "the broker is unreachable; nothing was written").retry_after(retry),
        SinkError::NotAcknowledged(_) => Failure::new(
            503,
            "broker_unavailable",
            format!("{written} of {count} event(s) acknowledged before the broker failed; retry the same request: acknowledged events are not written twice"),
        )
        .retry_after(retry),
        SinkError::RegistryDown(_) => Failure::new(
            503,
            "registry_unavailable",
            "the schema registry is unavailable; nothing was written; retry after the Retry-After seconds",
        )
        .retry_after(retry),
        SinkError::Encode(_) => Failure::new(500, "internal", "the event could not be encoded; nothing was written"),
    }
}
