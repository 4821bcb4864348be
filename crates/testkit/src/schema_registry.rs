//! A minimal Confluent-compatible schema registry on 127.0.0.1 for tests: registers schemas per
//! subject (the same text gets the same id) and serves them by id.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};

#[derive(Default)]
struct Registry {
    schemas: Vec<String>,
    subjects: BTreeMap<String, Vec<u32>>,
}

type Shared = Arc<Mutex<Registry>>;

/// A running fake registry.
pub struct FakeSchemaRegistry {
    url: String,
    state: Shared,
}

impl FakeSchemaRegistry {
    /// Starts it on a free loopback port.
    pub async fn start() -> Self {
        let state: Shared = Arc::default();
        let app = Router::new()
            .route("/subjects/{subject}/versions", post(register))
            .route("/schemas/ids/{id}", get(by_id))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the fake registry");
        let addr = listener.local_addr().expect("local address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url: format!("http://{addr}"),
            state,
        }
    }

    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Schema ids registered under each subject, in registration order.
    pub fn subjects(&self) -> BTreeMap<String, Vec<u32>> {
        self.state.lock().expect("registry state").subjects.clone()
    }
}

async fn register(
    State(s): State<Shared>,
    Path(subject): Path<String>,
    Json(body): Json<serde_json::Value>,
) -> Json<serde_json::Value> {
    let schema = body["schema"].as_str().unwrap_or_default().to_owned();
    let mut reg = s.lock().expect("registry state");
    let id = match reg.schemas.iter().position(|x| *x == schema) {
        Some(i) => i + 1,
        None => {
            reg.schemas.push(schema);
            reg.schemas.len()
        }
    };
    let id = u32::try_from(id).expect("fewer than 2^32 schemas");
    reg.subjects.entry(subject).or_default().push(id);
    Json(serde_json::json!({ "id": id }))
}

async fn by_id(
    State(s): State<Shared>,
    Path(id): Path<u32>,
) -> Result<Json<serde_json::Value>, StatusCode> {
    let reg = s.lock().expect("registry state");
    reg.schemas
        .get((id as usize).wrapping_sub(1))
        .map(|schema| Json(serde_json::json!({ "schema": schema })))
        .ok_or(StatusCode::NOT_FOUND)
}
