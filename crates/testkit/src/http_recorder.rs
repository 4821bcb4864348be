//! A local HTTP server that records every request and answers with a configurable response: the fake
//! behind Slack webhooks, CRM and email APIs in tests.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// One request as the server received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    pub query: Option<String>,
    /// Header names in lower case, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON; panics with the body when it is not JSON.
    pub fn body_json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("request body is not JSON ({e}): {}", self.body_text()))
    }
}

#[derive(Clone, Debug)]
struct Reply {
    status: StatusCode,
    body: String,
}

struct Shared {
    requests: Mutex<Vec<RecordedRequest>>,
    queued: Mutex<VecDeque<Reply>>,
    default: Mutex<Reply>,
    delay: Mutex<Duration>,
    arrived: Notify,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The running server; dropping it stops the server.
pub struct HttpRecorder {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl HttpRecorder {
    /// Serves on `127.0.0.1:<free port>`, answering every request with `status` and `body` (sent as
    /// `application/json` when it looks like JSON, else `text/plain`). Needs a Tokio runtime.
    pub async fn start(status: u16, body: impl Into<String>) -> Self {
        let shared = Arc::new(Shared {
            requests: Mutex::new(Vec::new()),
            queued: Mutex::new(VecDeque::new()),
            default: Mutex::new(reply(status, body.into())),
            delay: Mutex::new(Duration::ZERO),
            arrived: Notify::new(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("HttpRecorder cannot bind 127.0.0.1:0: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("HttpRecorder has no local address: {e}"));
        let app = Router::new().fallback(record).with_state(shared.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("testkit: HttpRecorder on {addr} stopped: {e}");
            }
        });
        Self { addr, shared, task }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Changes the response given from now on (after any queued ones).
    pub fn set_response(&self, status: u16, body: impl Into<String>) {
        *lock(&self.shared.default) = reply(status, body.into());
    }

    /// Answers the next request with this response (once); queued responses are used in order
    /// before the default one, e.g. a 500 then a 200 to test retries.
    pub fn queue_response(&self, status: u16, body: impl Into<String>) {
        lock(&self.shared.queued).push_back(reply(status, body.into()));
    }

    /// Holds every answer from now on for `delay` after recording the request (a slow server, to
    /// test client timeouts); `Duration::ZERO` answers at once again.
    pub fn set_delay(&self, delay: Duration) {
        *lock(&self.shared.delay) = delay;
    }

    /// Waits until at least `count` requests arrived or `timeout` passed; returns all requests so far.
    pub async fn wait_for_requests(&self, count: usize, timeout: Duration) -> Vec<RecordedRequest> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.arrived.notified();
            let seen = self.requests();
            if seen.len() >= count {
                return seen;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.requests();
            }
        }
    }
}

impl Drop for HttpRecorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn reply(status: u16, body: String) -> Reply {
    let status = StatusCode::from_u16(status)
        .unwrap_or_else(|e| panic!("HttpRecorder: {status} is not an HTTP status: {e}"));
    Reply { status, body }
}

async fn record(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = RecordedRequest {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
    };
    let answer = lock(&shared.queued)
        .pop_front()
        .unwrap_or_else(|| lock(&shared.default).clone());
    lock(&shared.requests).push(request);
    shared.arrived.notify_waiters();
    let delay = *lock(&shared.delay);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let trimmed = answer.body.trim_start();
    let content_type = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        "application/json"
    } else {
        "text/plain; charset=utf-8"
    };
    (
        answer.status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        answer.body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn records_requests_and_serves_queued_then_default_responses() {
        let server = HttpRecorder::start(200, "ok").await;
        server.queue_response(500, r#"{"error":"boom"}"#);
        let client = reqwest::Client::new();

        let first = client
            .post(format!("{}/hooks/slack?x=1", server.url()))
            .header("X-Idempotency-Key", "abc")
            .json(&serde_json::json!({"text": "hello"}))
            .send()
            .await
            .unwrap();
        assert_eq!(first.status().as_u16(), 500);
        assert_eq!(
            first.headers()["content-type"].to_str().unwrap(),
            "application/json"
        );

        let second = client
            .get(format!("{}/health", server.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(second.status().as_u16(), 200);
        assert_eq!(second.text().await.unwrap(), "ok");

        let seen = server.wait_for_requests(2, Duration::from_secs(5)).await;
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].method, "POST");
        assert_eq!(seen[0].path, "/hooks/slack");
        assert_eq!(seen[0].query.as_deref(), Some("x=1"));
        assert_eq!(seen[0].header("x-idempotency-key"), Some("abc"));
        assert_eq!(seen[0].body_json()["text"], "hello");
        assert_eq!(seen[1].method, "GET");
        assert!(seen[1].body.is_empty());
    }

    #[tokio::test]
    async fn wait_for_requests_returns_what_arrived_at_the_timeout() {
        let server = HttpRecorder::start(204, "").await;
        let seen = server.wait_for_requests(1, Duration::from_millis(50)).await;
        assert!(seen.is_empty());
    }

    #[tokio::test]
    async fn set_response_changes_the_default() {
        let server = HttpRecorder::start(200, "ok").await;
        server.set_response(503, "down");
        let res = reqwest::get(server.url()).await.unwrap();
        assert_eq!(res.status().as_u16(), 503);
        assert_eq!(res.text().await.unwrap(), "down");
    }
}
