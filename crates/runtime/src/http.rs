//! The per-service HTTP endpoint: `/metrics`, `/healthz`, `/readyz`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use tokio_util::sync::CancellationToken;

use crate::metrics::StageMetrics;

/// Liveness and readiness of a running stage.
///
/// - live (`/healthz` 200): the run started and its consume loop went round within the last
///   [`Health::STALL_AFTER`] — it wakes at least every 20 ms to poll the consumer (keeping the group
///   membership) and feed the partition tasks, so a loop that stops beating is wedged and a restart
///   is the cure. A partition waiting on a retrying dependency keeps the loop beating (a restart
///   would not help; `leadflow_<stage>_retries_total` and the consumer lag show it).
/// - ready (`/readyz` 200): consuming (side inputs replayed, subscribed), not draining, and the
///   broker answered recently (`broker_probe.rs`).
#[derive(Debug)]
pub struct Health {
    live: AtomicBool,
    ready: AtomicBool,
    broker_reachable: AtomicBool,
    started: Instant,
    /// Milliseconds after `started` of the consume loop's last round.
    last_beat_ms: AtomicU64,
    stall_after: Duration,
}

impl Default for Health {
    fn default() -> Self {
        Self::new(Self::STALL_AFTER)
    }
}

impl Health {
    /// How long the consume loop may go without a round before `/healthz` fails.
    pub const STALL_AFTER: Duration = Duration::from_secs(30);

    /// Health that turns unhealthy when the loop does not beat for `stall_after`.
    pub fn new(stall_after: Duration) -> Self {
        Self {
            live: AtomicBool::new(false),
            ready: AtomicBool::new(false),
            broker_reachable: AtomicBool::new(true),
            started: Instant::now(),
            last_beat_ms: AtomicU64::new(0),
            stall_after,
        }
    }

    pub fn set_live(&self, v: bool) {
        self.beat();
        self.live.store(v, Ordering::SeqCst);
    }
    pub fn set_ready(&self, v: bool) {
        self.ready.store(v, Ordering::SeqCst);
    }
    /// Whether a request to the broker succeeded within `http.unready_after_ms`.
    pub fn set_broker_reachable(&self, v: bool) {
        self.broker_reachable.store(v, Ordering::SeqCst);
    }
    pub fn broker_reachable(&self) -> bool {
        self.broker_reachable.load(Ordering::SeqCst)
    }

    /// The consume loop made a round (polled the consumer, dispatched or refilled).
    pub fn beat(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_beat_ms.store(ms, Ordering::Relaxed);
    }

    /// Time since the consume loop's last round.
    pub fn since_last_beat(&self) -> Duration {
        let now = self.started.elapsed();
        now.saturating_sub(Duration::from_millis(
            self.last_beat_ms.load(Ordering::Relaxed),
        ))
    }

    /// Started, not stopped, and the consume loop beat recently.
    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::SeqCst) && self.since_last_beat() < self.stall_after
    }
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst) && self.broker_reachable()
    }
}

#[derive(Clone)]
struct AppState {
    metrics: StageMetrics,
    health: Arc<Health>,
}

/// Binds `listen` and serves until `shutdown`; returns the bound address (port 0 picks one).
pub async fn serve(
    listen: &str,
    metrics: StageMetrics,
    health: Arc<Health>,
    shutdown: CancellationToken,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route("/metrics", get(metrics_handler))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(AppState { metrics, health });
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "http endpoint stopped");
        }
    });
    Ok(addr)
}

async fn metrics_handler(State(s): State<AppState>) -> ([(&'static str, &'static str); 1], String) {
    (
        [("content-type", "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
}

async fn healthz(State(s): State<AppState>) -> (StatusCode, String) {
    if s.health.is_live() {
        (StatusCode::OK, "ok\n".into())
    } else if s.health.live.load(Ordering::SeqCst) {
        let stalled = s.health.since_last_beat().as_secs();
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("consume loop stalled for {stalled} s\n"),
        )
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "stopped\n".into())
    }
}

async fn readyz(State(s): State<AppState>) -> (StatusCode, &'static str) {
    if s.health.is_ready() {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn liveness_needs_a_recent_beat_of_the_consume_loop() {
        let h = Health::new(Duration::from_millis(50));
        assert!(!h.is_live(), "not live before the run starts");
        h.set_live(true);
        assert!(h.is_live());
        std::thread::sleep(Duration::from_millis(80));
        assert!(!h.is_live(), "a loop that stopped beating is not live");
        h.beat();
        assert!(h.is_live(), "a beat makes it live again");
        h.set_live(false);
        assert!(!h.is_live(), "stopped");
    }
}
