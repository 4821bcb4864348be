//! HubSpot stand-in: CRM v3 batch upsert (contacts by email; tasks and notes by a unique custom
//! property), v4 default associations, owners, and lists v3 memberships (the nurture stage's
//! enrolments), with HubSpot's rate-limit headers.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use serde_json::{Value, json};

use crate::control::fault_response;
use crate::faults::Service;
use crate::state::SandboxState;

const OBJECT_TYPES: [&str; 3] = ["contacts", "tasks", "notes"];

pub(crate) fn routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .route(
            "/hubspot/crm/v3/objects/{object}/batch/upsert",
            post(batch_upsert),
        )
        .route(
            "/hubspot/crm/v4/objects/{from}/{from_id}/associations/default/{to}/{to_id}",
            put(associate),
        )
        .route("/hubspot/crm/v3/owners", get(owners))
        .route(
            "/hubspot/crm/v3/lists/{list_id}/memberships/add",
            put(add_memberships),
        )
        .route("/hubspot/crm/v3/objects/{object}/{id}", patch(update))
}

fn rate_headers() -> [(HeaderName, &'static str); 3] {
    [
        (HeaderName::from_static("x-hubspot-ratelimit-max"), "190"),
        (
            HeaderName::from_static("x-hubspot-ratelimit-remaining"),
            "189",
        ),
        (
            HeaderName::from_static("x-hubspot-ratelimit-interval-milliseconds"),
            "10000",
        ),
    ]
}

fn error(status: StatusCode, category: &str, message: &str) -> Response {
    (
        status,
        rate_headers(),
        axum::Json(json!({"status": "error", "category": category, "message": message, "correlationId": "sandbox"})),
    )
        .into_response()
}

/// Checks the token and the faults; `Some` is the answer to give instead of the normal one.
async fn gate(
    state: &SandboxState,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    body: &Value,
) -> Option<Response> {
    if let Some((resp, fault)) = fault_response(state, Service::Hubspot).await {
        state.record(
            Service::Hubspot,
            method,
            path,
            resp.status().as_u16(),
            Some(&fault),
            body.clone(),
        );
        return Some(resp);
    }
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if token != Some(state.hubspot_token.as_str()) {
        state.record(Service::Hubspot, method, path, 401, None, body.clone());
        return Some(error(
            StatusCode::UNAUTHORIZED,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found.",
        ));
    }
    None
}

/// The unique property a CRM object is upserted and addressed by.
fn unique_property(object: &str) -> &'static str {
    if object == "contacts" {
        "email"
    } else {
        "leadflow_idempotency_key"
    }
}

/// One CRM v3 object call (`method` on `path`, a JSON body): every answer is recorded with the
/// payload.
struct ObjectCall<'a> {
    state: &'a SandboxState,
    method: &'static str,
    path: String,
    payload: Value,
}

impl<'a> ObjectCall<'a> {
    /// Reads the body (not JSON: null), checks the token and the faults ([`gate`]) and that
    /// `object` is a type the stand-in keeps; `Err` is the answer to give instead.
    async fn open(
        state: &'a SandboxState,
        headers: &HeaderMap,
        method: &'static str,
        path: String,
        body: &[u8],
        object: &str,
    ) -> Result<ObjectCall<'a>, Response> {
        let payload: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        if let Some(resp) = gate(state, headers, method, &path, &payload).await {
            return Err(resp);
        }
        let call = ObjectCall {
            state,
            method,
            path,
            payload,
        };
        if !OBJECT_TYPES.contains(&object) {
            return Err(call.fail(
                StatusCode::NOT_FOUND,
                "OBJECT_NOT_FOUND",
                format!("Unknown object type {object}"),
            ));
        }
        Ok(call)
    }

    /// A HubSpot error answer, recorded.
    fn fail(&self, status: StatusCode, category: &str, message: String) -> Response {
        self.record(status);
        error(status, category, &message)
    }

    /// A 200 with `body`, recorded.
    fn ok(&self, body: Value) -> Response {
        self.record(StatusCode::OK);
        (StatusCode::OK, rate_headers(), axum::Json(body)).into_response()
    }

    fn record(&self, status: StatusCode) {
        self.state.record(
            Service::Hubspot,
            self.method,
            &self.path,
            status.as_u16(),
            None,
            self.payload.clone(),
        );
    }
}

fn valid_email(e: &str) -> bool {
    let mut parts = e.split('@');
    matches!((parts.next(), parts.next(), parts.next()), (Some(l), Some(d), None) if !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.'))
}

async fn batch_upsert(
    State(state): State<Arc<SandboxState>>,
    Path(object): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/crm/v3/objects/{object}/batch/upsert");
    let call = match ObjectCall::open(&state, &headers, "POST", path, &body, &object).await {
        Ok(call) => call,
        Err(resp) => return resp,
    };
    let fail = |status, category, message| call.fail(status, category, message);
    let payload = &call.payload;
    let Some(inputs) = payload["inputs"].as_array() else {
        return fail(
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            "inputs is required".into(),
        );
    };
    let mut results = Vec::new();
    for input in inputs {
        let id_property = input["idProperty"].as_str().unwrap_or_default();
        let key = input["id"].as_str().unwrap_or_default();
        let expected = unique_property(&object);
        if id_property != expected || key.is_empty() {
            return fail(
                StatusCode::BAD_REQUEST,
                "VALIDATION_ERROR",
                format!("{object} are upserted by the unique property {expected}"),
            );
        }
        if object == "contacts" && !valid_email(key) {
            return fail(
                StatusCode::BAD_REQUEST,
                "VALIDATION_ERROR",
                format!("Property values were not valid: INVALID_EMAIL {key:?}"),
            );
        }
        let mut properties: BTreeMap<String, Value> = input["properties"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        properties.insert(id_property.to_owned(), Value::String(key.to_owned()));
        let (id, created) = state.upsert(&object, key, properties.clone());
        results.push(json!({"id": id, "new": created, "properties": properties}));
    }
    call.ok(json!({"status": "COMPLETE", "results": results}))
}

/// `PATCH /crm/v3/objects/{object}/{id}` (`?idProperty=` to address the object by a unique
/// property value): merges `properties`; 404 when the object does not exist.
async fn update(
    State(state): State<Arc<SandboxState>>,
    Path((object, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/crm/v3/objects/{object}/{id}");
    let call = match ObjectCall::open(&state, &headers, "PATCH", path, &body, &object).await {
        Ok(call) => call,
        Err(resp) => return resp,
    };
    let fail = |status, category, message| call.fail(status, category, message);
    let payload = &call.payload;
    let id_property = query.get("idProperty").map(String::as_str);
    let expected = unique_property(&object);
    if id_property.is_some_and(|p| p != expected) {
        return fail(
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            format!(
                "{} is not a unique property of {object}",
                id_property.unwrap_or_default()
            ),
        );
    }
    let Some(properties) = payload["properties"].as_object() else {
        return fail(
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            "properties is required".into(),
        );
    };
    let properties: BTreeMap<String, Value> = properties
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let Some(obj) = state.update(&object, &id, id_property, properties) else {
        return fail(
            StatusCode::NOT_FOUND,
            "OBJECT_NOT_FOUND",
            format!("resource not found: {object} {id}"),
        );
    };
    call.ok(json!({"id": obj.id, "properties": obj.properties, "archived": false}))
}

async fn associate(
    State(state): State<Arc<SandboxState>>,
    Path((from, from_id, to, to_id)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/crm/v4/objects/{from}/{from_id}/associations/default/{to}/{to_id}");
    if let Some(resp) = gate(&state, &headers, "PUT", &path, &Value::Null).await {
        return resp;
    }
    if !state.associate(&from, &from_id, &to, &to_id) {
        state.record(Service::Hubspot, "PUT", &path, 404, None, Value::Null);
        return error(
            StatusCode::NOT_FOUND,
            "OBJECT_NOT_FOUND",
            "one of the objects does not exist",
        );
    }
    state.record(Service::Hubspot, "PUT", &path, 200, None, Value::Null);
    (
        StatusCode::OK,
        rate_headers(),
        axum::Json(json!({"status": "COMPLETE", "results": [{"fromObjectTypeId": from, "fromObjectId": from_id, "toObjectTypeId": to, "toObjectId": to_id}]})),
    )
        .into_response()
}

/// `PUT /crm/v3/lists/{listId}/memberships/add` with a JSON array of record ids: HubSpot's answer
/// lists the ids added and the ids of no record (`recordIdsMissing`); a member already in the list is
/// in neither, so the call is idempotent.
async fn add_memberships(
    State(state): State<Arc<SandboxState>>,
    Path(list_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/crm/v3/lists/{list_id}/memberships/add");
    let payload: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(resp) = gate(&state, &headers, "PUT", &path, &payload).await {
        return resp;
    }
    let ids: Option<Vec<String>> = payload.as_array().and_then(|a| {
        a.iter()
            .map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect()
    });
    let Some(ids) = ids else {
        state.record(Service::Hubspot, "PUT", &path, 400, None, payload);
        return error(
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            "the body is a JSON array of record ids",
        );
    };
    let (added, missing) = state.add_to_list(&list_id, &ids);
    state.record(Service::Hubspot, "PUT", &path, 200, None, payload);
    (
        StatusCode::OK,
        rate_headers(),
        axum::Json(json!({"recordIdsAdded": added, "recordIdsMissing": missing})),
    )
        .into_response()
}

async fn owners(
    State(state): State<Arc<SandboxState>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let path = "/crm/v3/owners";
    let body = json!(query);
    if let Some(resp) = gate(&state, &headers, "GET", path, &body).await {
        return resp;
    }
    state.record(Service::Hubspot, "GET", path, 200, None, body);
    // Every email is a known owner; the id is derived from it so it stays the same.
    let results: Vec<Value> = query
        .get("email")
        .map(|email| {
            let id = email
                .bytes()
                .fold(7_u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
                % 90_000_000
                + 10_000_000;
            vec![json!({"id": id.to_string(), "email": email, "type": "PERSON"})]
        })
        .unwrap_or_default();
    (
        StatusCode::OK,
        rate_headers(),
        axum::Json(json!({"results": results})),
    )
        .into_response()
}
