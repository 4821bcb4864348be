//! The locator's HTTP answer: `GET /v1/leads/{key}` → [`Located`] (200 when the key is booked, 404
//! when not, 503 while the locator has not yet read the topics to the ends they had when it
//! started), plus `/healthz`, `/readyz` and `/metrics`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use leadflow_runtime::StageRegistry;

use crate::book::Book;
use crate::metrics::LocatorMetrics;

/// One record of the key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spot {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub written_at_ms: i64,
    /// Records of the key may lie between this topic's previous spot and this one (read the stretch).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub gap_before: bool,
}

/// Where a key's records are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Located {
    pub key: String,
    /// The topics the locator reads: a topic listed here without a spot holds no record of the key
    /// (up to the locator's lag).
    pub covers: Vec<String>,
    pub spots: Vec<Spot>,
}

/// What the HTTP handlers share with the consumer that feeds the book.
#[derive(Debug)]
pub struct Shared {
    pub book: RwLock<Book>,
    /// The topics were read to the ends they had at the start: a missing key is really missing.
    pub caught_up: AtomicBool,
    /// Set by the consumer loop; `/healthz` fails when it stops.
    pub live: AtomicBool,
    pub metrics: LocatorMetrics,
    registry: StageRegistry,
}

impl Shared {
    /// The shared state over `book`, its metrics registered in `registry` (served by `/metrics`).
    pub fn new(book: Book, registry: StageRegistry) -> Result<Arc<Self>, prometheus::Error> {
        Ok(Arc::new(Shared {
            book: RwLock::new(book),
            caught_up: AtomicBool::new(false),
            live: AtomicBool::new(true),
            metrics: LocatorMetrics::register(&registry)?,
            registry,
        }))
    }

    /// Marks the book caught up (ready, and its gauge).
    pub fn set_caught_up(&self) {
        self.caught_up.store(true, Ordering::SeqCst);
        self.metrics.caught_up.set(1);
    }

    /// The answer for `key`; `None` when not booked.
    pub fn locate(&self, key: &str) -> Located {
        let book = match self.book.read() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        let topics = book.topics();
        let spots = book
            .lookup(key.as_bytes())
            .unwrap_or_default()
            .iter()
            .filter_map(|p| {
                Some(Spot {
                    topic: topics.get(usize::from(p.topic))?.clone(),
                    partition: p.partition,
                    offset: p.offset,
                    written_at_ms: p.at_ms,
                    gap_before: p.gap_before,
                })
            })
            .collect();
        Located {
            key: key.to_owned(),
            covers: topics.to_vec(),
            spots,
        }
    }
}

/// The locator's routes over `shared`.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/leads/{key}", get(lead))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(shared)
}

async fn lead(State(s): State<Arc<Shared>>, Path(key): Path<String>) -> Response {
    if !s.caught_up.load(Ordering::SeqCst) {
        s.metrics.lookup("not_ready");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "still reading the lead topics\n",
        )
            .into_response();
    }
    let located = s.locate(&key);
    let status = if located.spots.is_empty() {
        s.metrics.lookup("not_found");
        StatusCode::NOT_FOUND
    } else {
        s.metrics.lookup("found");
        StatusCode::OK
    };
    (status, axum::Json(located)).into_response()
}

async fn healthz(State(s): State<Arc<Shared>>) -> (StatusCode, &'static str) {
    if s.live.load(Ordering::SeqCst) {
        (StatusCode::OK, "ok\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "the consumer stopped\n")
    }
}

async fn readyz(State(s): State<Arc<Shared>>) -> (StatusCode, &'static str) {
    if s.caught_up.load(Ordering::SeqCst) {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
    }
}

async fn metrics(State(s): State<Arc<Shared>>) -> ([(&'static str, &'static str); 1], String) {
    let (keys, bytes) = match s.book.read() {
        Ok(b) => (b.keys(), b.bytes()),
        Err(poisoned) => {
            let b = poisoned.into_inner();
            (b.keys(), b.bytes())
        }
    };
    s.metrics
        .book_keys
        .set(i64::try_from(keys).unwrap_or(i64::MAX));
    s.metrics
        .book_bytes
        .set(i64::try_from(bytes).unwrap_or(i64::MAX));
    (
        [("content-type", "text/plain; version=0.0.4")],
        s.registry.render(),
    )
}

/// Binds `listen` and serves `shared` until `shutdown`; returns the bound address.
pub async fn serve(
    listen: &str,
    shared: Arc<Shared>,
    shutdown: tokio_util::sync::CancellationToken,
) -> std::io::Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let app = router(shared);
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "locator http endpoint stopped");
        }
    });
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::BookLimits;

    #[tokio::test]
    async fn a_lookup_answers_the_spots_404_or_503() {
        let mut book = Book::new(
            vec!["leads.raw".into(), "leads.scored".into()],
            BookLimits::default(),
        );
        book.observe(0, b"lead 1", 2, 40, 1_000);
        book.observe(1, b"lead 1", 4, 9, 1_070);
        let shared = Shared::new(book, StageRegistry::new("locator")).expect("metrics");
        let token = tokio_util::sync::CancellationToken::new();
        let addr = serve("127.0.0.1:0", shared.clone(), token.clone())
            .await
            .expect("bound");
        let client = reqwest::Client::new();
        let url = |k: &str| format!("http://{addr}/v1/leads/{k}");
        let early = client.get(url("lead%201")).send().await.expect("answered");
        assert_eq!(early.status(), 503);
        shared.set_caught_up();
        let found = client.get(url("lead%201")).send().await.expect("answered");
        assert_eq!(found.status(), 200);
        let located: Located = found.json().await.expect("json");
        assert_eq!(located.key, "lead 1");
        assert_eq!(located.covers, vec!["leads.raw", "leads.scored"]);
        assert_eq!(
            located.spots[1],
            Spot {
                topic: "leads.scored".into(),
                partition: 4,
                offset: 9,
                written_at_ms: 1_070,
                gap_before: false
            }
        );
        let missing = client.get(url("lead-2")).send().await.expect("answered");
        assert_eq!(missing.status(), 404);
        let metrics = client
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .expect("answered")
            .text()
            .await
            .expect("text");
        assert!(
            metrics.contains("leadflow_locator_book_keys 1\n"),
            "{metrics}"
        );
        for (result, n) in [("not_ready", 1), ("found", 1), ("not_found", 1)] {
            assert!(
                metrics.contains(&format!(
                    "leadflow_locator_lookups_total{{result=\"{result}\"}} {n}\n"
                )),
                "{metrics}"
            );
        }
        assert!(
            metrics.contains("leadflow_locator_caught_up 1\n"),
            "{metrics}"
        );
        token.cancel();
    }
}
