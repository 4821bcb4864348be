//! Start-up and the HTTP server: producer, topic check, idempotency rebuild, routes, shutdown.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use leadflow_events::{Codec, TopicRole};
use leadflow_runtime::http::Health;
use leadflow_runtime::{Clock, ServiceConfig, StageRegistry};
use tokio_util::sync::CancellationToken;

use crate::auth::Publishers;
use crate::config::IngestSettings;
use crate::handlers::{self, AppState};
use crate::idempotency::IdempotencyStore;
use crate::listener::{Limits, serve};
use crate::metrics::IngestMetrics;
use crate::openapi::document;
use crate::rate::RateLimits;
use crate::rebuild::{Replayer, catch_up, follow, open};
use crate::rep_actions::RepActions;
use crate::service::Ingest;
use crate::sink::LeadSink;

/// How a run is wired (tests inject their clock and shutdown).
pub struct Options {
    pub clock: Arc<dyn Clock>,
    pub shutdown: CancellationToken,
    pub metrics: StageRegistry,
}

/// A started ingest service.
pub struct Running {
    /// The public API (`api_listen`).
    pub addr: std::net::SocketAddr,
    /// Probes and metrics (`[http] listen`).
    pub ops_addr: std::net::SocketAddr,
    pub ingest: Arc<Ingest>,
    /// The Slack/HubSpot rep-action endpoints, when a secret turns them on (RULES.md RA1–RA7).
    pub rep_actions: Option<Arc<RepActions>>,
    pub task: tokio::task::JoinHandle<()>,
}

/// The public API's routes (`api_listen`).
pub fn router(ingest: AppState, doc_json: String) -> Router {
    Router::new()
        .route("/v1/leads", post(handlers::post_lead))
        .route("/v1/leads:batch", post(handlers::post_batch))
        .route(
            "/v1/webhooks/hubspot/{publisher}",
            post(handlers::hubspot_webhook),
        )
        .route(
            "/v1/webhooks/hubspot/{publisher}/replies",
            post(handlers::hubspot_reply_webhook),
        )
        .route(
            "/v1/webhooks/chat/{publisher}",
            post(handlers::chat_webhook),
        )
        .route(
            "/openapi.json",
            get(move || async move { ([("content-type", "application/json")], doc_json) }),
        )
        .with_state(ingest)
}

/// The internal routes (`[http] listen`): probes and metrics, never on the public port (S4).
pub fn ops_router(ingest: AppState) -> Router {
    Router::new()
        .route("/healthz", get(handlers::healthz))
        .route("/readyz", get(handlers::readyz))
        .route("/metrics", get(handlers::metrics))
        .with_state(ingest)
}

/// Connects, rebuilds the idempotency memory, binds `api_listen` (the API) and `http.listen`
/// (probes, metrics) and serves until `shutdown`.
pub async fn start(
    cfg: &ServiceConfig<IngestSettings>,
    options: Options,
) -> anyhow::Result<Running> {
    let s = cfg
        .stage
        .resolve_publishers()
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    let codec = Arc::new(Codec::from_config(cfg.registry.as_ref())?);
    let topic = cfg.topics.name(TopicRole::Raw).to_owned();
    let sink = connect_sink(cfg, &s, &topic, &codec).await?;

    let mut store = IdempotencyStore::new(
        s.idempotency_window_secs,
        s.idempotency_max_bytes,
        s.publishers.iter().map(|p| p.id.as_str()),
    );
    let now = options.clock.now().millis();
    let window_ms =
        i64::try_from(s.idempotency_window_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let client = leadflow_runtime::kafka::base_config(cfg);
    let timeout = Duration::from_millis(s.rebuild_timeout_ms);
    let rebuild_topic = topic.clone();
    let signing = s.record_signing_secret.clone();
    let (store, replay) = tokio::task::spawn_blocking(move || {
        let mut replayer = Replayer::new(signing);
        let r = open(&client, &rebuild_topic, now, window_ms).and_then(|(consumer, remaining)| {
            catch_up(
                &consumer,
                remaining,
                now,
                timeout,
                &mut replayer,
                &mut store,
            )?;
            Ok(consumer)
        });
        (store, r.map(|c| (c, replayer)))
    })
    .await?;
    let (consumer, replayer) = replay
        .map_err(|e| anyhow::anyhow!("rebuilding the idempotency memory from {topic}: {e}"))?;
    let rebuilt = replayer.counts.clone();
    if rebuilt.timed_out {
        tracing::warn!(
            records = rebuilt.records,
            "idempotency rebuild stopped at rebuild_timeout_ms; older retries may be written again"
        );
    }
    tracing::info!(
        records = rebuilt.records,
        events = rebuilt.events,
        requests = rebuilt.requests,
        unsigned = rebuilt.unsigned,
        "idempotency memory rebuilt from {topic}"
    );

    let doc = document();
    let health = Arc::new(Health::default());
    let ingest = Arc::new(Ingest {
        settings: s.clone(),
        publishers: Publishers::new(&s.publishers, s.signature_tolerance_secs),
        sink: sink.clone(),
        metrics: metrics_of(&options.metrics, &store)?,
        store: Mutex::new(store),
        health: health.clone(),
        clock: options.clock.clone(),
        schemas: handlers::schemas(&doc),
        limits: RateLimits::new(
            s.publishers.iter().map(|p| p.id.as_str()),
            s.rate_limit_per_sec,
            s.rate_burst,
            now,
        ),
    });
    let follower = ingest.clone();
    let follow_stop = options.shutdown.clone();
    std::thread::Builder::new()
        .name("ingest-follow".into())
        .spawn(move || {
            follow(
                consumer,
                replayer,
                &follower.store,
                follower.clock.as_ref(),
                &follow_stop,
            );
        })?;
    let mut app = router(ingest.clone(), doc.to_string());
    let rep_actions = start_rep_actions(cfg, &s, &codec, &options).await?;
    if let Some(ra) = &rep_actions {
        app = app.merge(
            crate::rep_actions::routes::router(ra.clone())
                .layer(axum::extract::DefaultBodyLimit::max(s.max_body_bytes)),
        );
    }
    let listener = tokio::net::TcpListener::bind(&s.api_listen).await?;
    let addr = listener.local_addr()?;
    let ops_listener = tokio::net::TcpListener::bind(&cfg.http.listen).await?;
    let ops_addr = ops_listener.local_addr()?;
    let shutdown = options.shutdown.clone();
    tokio::spawn(sink.clone().watch(
        Duration::from_millis(s.broker_probe_interval_ms),
        shutdown.clone(),
    ));
    spawn_heartbeat(health.clone(), shutdown.clone());
    // the internal listener stops after the API drained (probes answer "not ready" meanwhile)
    let ops_stop = CancellationToken::new();
    let ops = serve_ops(ops_listener, ops_router(ingest.clone()), ops_stop.clone());
    health.set_live(true);
    health.set_ready(true);
    let grace = Duration::from_millis(cfg.shutdown_grace_ms);
    let limits = Limits {
        max_connections: s.max_connections,
        header_read_timeout: Duration::from_millis(s.header_read_timeout_ms),
    };
    let open = ingest.metrics.open_connections.clone();
    let task = tokio::spawn(async move {
        let drain = CancellationToken::new();
        let health_at_stop = health.clone();
        let drain_now = drain.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            stop.cancelled().await;
            health_at_stop.set_ready(false);
            drain_now.cancel();
        });
        serve(listener, app, limits, open, drain).await;
        let flush = sink.clone();
        let _ = tokio::task::spawn_blocking(move || flush.flush(grace)).await;
        health.set_live(false);
        ops_stop.cancel();
        let _ = ops.await;
    });
    tracing::info!(%addr, topic = %topic, "leadflow-ingest listening");
    Ok(Running {
        addr,
        ops_addr,
        ingest,
        rep_actions,
        task,
    })
}

/// The producer of `leads.raw`, checked and connected (the broker answered a probe).
async fn connect_sink(
    cfg: &ServiceConfig<IngestSettings>,
    s: &IngestSettings,
    topic: &str,
    codec: &Arc<Codec>,
) -> anyhow::Result<Arc<LeadSink>> {
    let producer_config = leadflow_runtime::kafka::producer_config(cfg);
    crate::sink::check_producer(&producer_config)
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    let sink = Arc::new(
        LeadSink::new(
            producer_config.clone(),
            topic,
            codec.clone(),
            s.ack_timeout_ms,
            s.max_queued_records,
        )?
        .with_signing(s.record_signing_secret.clone()),
    );
    if s.record_signing_secret.is_none() {
        tracing::warn!(
            "stage.record_signing_secret is not set: the idempotency rebuild trusts ingest headers any producer on the topic wrote (RULES.md I5)"
        );
    }
    sink.probe(Duration::from_secs(15))
        .await
        .map_err(|e| anyhow::anyhow!("{e} (bootstrap {})", cfg.bootstrap_servers))?;
    Ok(sink)
}

/// Ingest's metrics, with the rebuilt idempotency memory's size.
fn metrics_of(registry: &StageRegistry, store: &IdempotencyStore) -> anyhow::Result<IngestMetrics> {
    let metrics = IngestMetrics::new(registry)?;
    metrics
        .idempotency_entries
        .set(i64::try_from(store.len()).unwrap_or(i64::MAX));
    metrics
        .idempotency_bytes
        .set(i64::try_from(store.bytes()).unwrap_or(i64::MAX));
    Ok(metrics)
}

/// The Slack and HubSpot rep-action endpoints, when a secret turns them on (RULES.md RA1–RA7).
async fn start_rep_actions(
    cfg: &ServiceConfig<IngestSettings>,
    s: &IngestSettings,
    codec: &Arc<Codec>,
    options: &Options,
) -> anyhow::Result<Option<Arc<RepActions>>> {
    if !RepActions::enabled(s) {
        return Ok(None);
    }
    let ra = RepActions::start(
        cfg,
        s,
        codec.clone(),
        options.clock.clone(),
        &options.metrics,
        options.shutdown.clone(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("rep actions (RULES.md RA3): {e}"))?;
    Ok(Some(ra))
}

/// Proves liveness every second until `stop`.
fn spawn_heartbeat(health: Arc<Health>, stop: CancellationToken) {
    tokio::spawn(async move {
        loop {
            health.beat();
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    });
}

/// Serves the internal routes until `stop`.
fn serve_ops(
    listener: tokio::net::TcpListener,
    app: Router,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "internal http server stopped");
        }
    })
}
