//! `leadflow-ingest`: the HTTP front door (publishers POST leads; ingest produces them to leads.raw).

leadflow_runtime::service_allocator!();

use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser;
use leadflow_ingest::config::IngestSettings;
use leadflow_ingest::server::{Options, start};
use leadflow_runtime::{CommonArgs, StageRegistry, SystemClock, shutdown_signal, start_service};
use tokio_util::sync::CancellationToken;

/// The leadflow ingest service: publishers POST lead events (JSON, HubSpot form submissions, chat
/// transcripts) with an API key or a signed webhook; each is answered 202 once the broker acknowledged
/// it on leads.raw.
#[derive(Parser, Debug)]
#[command(
    name = "leadflow-ingest",
    after_help = "Example:\n  leadflow-ingest --bootstrap-servers 127.0.0.1:9092 --config deploy/config/ingest.toml\n\n\
Every setting can also come from the environment: LEADFLOW_BOOTSTRAP_SERVERS, LEADFLOW_HTTP__LISTEN, \
LEADFLOW_INGEST__<KEY> (this binary's [stage] keys; LEADFLOW_STAGE__<KEY> is shared by every binary, \
each taking the keys it knows), LEADFLOW_KAFKA_OVERRIDES=\"security.protocol=SASL_SSL,...\". \
The API document is served at /openapi.json; rules: crates/ingest/RULES.md."
)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (cfg, runtime) = start_service::<IngestSettings>("ingest", &args.common)?;
    // one worker per core the process may use (its CPU affinity: `taskset -c 1` gives one)
    tracing::info!(
        workers = runtime.metrics().num_workers(),
        "async runtime started"
    );
    runtime.block_on(async move {
        let shutdown = CancellationToken::new();
        let running = start(
            &cfg,
            Options {
                clock: Arc::new(SystemClock),
                shutdown: shutdown.clone(),
                metrics: StageRegistry::new("ingest"),
            },
        )
        .await
        .context("leadflow-ingest: start-up failed")?;
        // without signal handlers ingest stops at once, as it always has
        shutdown_signal().await;
        shutdown.cancel();
        running.task.await.context("leadflow-ingest: server task")?;
        tracing::info!("leadflow-ingest stopped");
        Ok(())
    })
}
