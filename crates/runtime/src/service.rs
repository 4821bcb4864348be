//! The `main` of every stage binary: arguments, configuration, logging, signals, the run.

use std::sync::Arc;

use anyhow::Context as _;
use clap::{CommandFactory, FromArgMatches, Parser};
use tokio_util::sync::CancellationToken;

use crate::clock::SystemClock;
use crate::config::{CommonArgs, LogConfig, ServiceConfig, StageSettings};
use crate::pipeline::{RunOptions, run_stage};
use crate::registry::StageRegistry;
use crate::stage::Stage;

#[derive(Parser, Debug)]
struct ServiceArgs {
    #[command(flatten)]
    common: CommonArgs,
}

/// Runs a stage binary: parses `--bootstrap-servers`/`--config`, loads and validates the layered
/// configuration, sets up logging, builds the stage (`build` gets the config and the
/// [`StageRegistry`] to register the stage's own metrics in), and runs it until SIGTERM/SIGINT (exit 0 after
/// draining) or a fatal error (non-zero exit).
pub fn service_main<C, S, F>(build: F) -> anyhow::Result<()>
where
    C: StageSettings,
    S: Stage,
    F: FnOnce(&ServiceConfig<C>, &StageRegistry) -> anyhow::Result<S>,
{
    let name = format!("leadflow-{}", S::NAME);
    let input = ServiceConfig::<C>::default()
        .topics
        .name(S::INPUT)
        .to_owned();
    let command = ServiceArgs::command()
        .name(name.clone())
        .about(format!(
            "The leadflow {} stage: consumes {input} and produces its decisions, as a consumer group that scales by adding instances.",
            S::NAME
        ))
        .after_help(format!(
            "Example:\n  {name} --bootstrap-servers 127.0.0.1:9092 --config deploy/config/{}.toml\n\n\
             Every setting can also come from the environment: LEADFLOW_BOOTSTRAP_SERVERS, \
             LEADFLOW_GROUP_ID, LEADFLOW_TOPICS__RAW, LEADFLOW_HTTP__LISTEN, {prefix}<KEY> (this \
             binary's [stage] keys; LEADFLOW_STAGE__<KEY> is shared by every binary, each taking the \
             keys it knows), LEADFLOW_KAFKA_OVERRIDES=\"security.protocol=SASL_SSL,...\".",
            S::NAME,
            prefix = crate::config::stage_env_prefix(S::NAME),
        ));
    let matches = command.get_matches();
    let args = ServiceArgs::from_arg_matches(&matches)?;
    let (cfg, runtime) = start_service::<C>(S::NAME, &args.common)?;
    let result = runtime.block_on(async move {
        let metrics = StageRegistry::new(S::NAME);
        let stage = build(&cfg, &metrics).with_context(|| format!("{name}: building the stage"))?;
        let shutdown = CancellationToken::new();
        let grace = std::time::Duration::from_millis(cfg.shutdown_grace_ms);
        tokio::spawn(watch_signals(shutdown.clone(), grace));
        let options = RunOptions {
            clock: Arc::new(SystemClock),
            shutdown,
            http_addr: None,
            metrics: Some(metrics),
            ..RunOptions::default()
        };
        run_stage(&cfg, stage, options)
            .await
            .with_context(|| format!("{name} stopped"))?;
        Ok(())
    });
    // tasks still blocked on a broker that does not answer are not waited for
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    result
}

/// The start of every service's `main` (the stages' [`service_main`], ingest's): loads the layered
/// configuration of the service `name` (e.g. `score`, `ingest`), sets up logging
/// ([`init_tracing`]), warns about `LEADFLOW_` variables nothing reads ([`log_unread_env`]) and
/// builds the multi-thread async runtime the service runs on.
pub fn start_service<C: StageSettings>(
    name: &str,
    common: &CommonArgs,
) -> anyhow::Result<(ServiceConfig<C>, tokio::runtime::Runtime)> {
    let cfg = ServiceConfig::<C>::load(name, common)
        .with_context(|| format!("leadflow-{name}: configuration rejected"))?;
    init_tracing(&cfg.log)?;
    log_unread_env::<C>(name);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    Ok((cfg, runtime))
}

/// Cancels `shutdown` on SIGTERM or SIGINT, and from then on bounds the process's life to `grace`
/// ([`exit_after`]).
async fn watch_signals(shutdown: CancellationToken, grace: std::time::Duration) {
    if !shutdown_signal().await {
        // no handlers: the stage runs until a fatal error or SIGKILL
        return;
    }
    shutdown.cancel();
    exit_after(grace);
}

/// Waits for the first SIGTERM or SIGINT (Ctrl-C off Unix), logging which: when a service starts
/// draining. Returns `true` then; `false` at once, with an error logged, when the handlers cannot be
/// installed.
pub async fn shutdown_signal() -> bool {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::error!("cannot install signal handlers");
            return false;
        };
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: draining"),
            _ = int.recv() => tracing::info!("SIGINT: draining"),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    true
}

/// The hard deadline of a stop: if the process is still running `grace` after the signal (a broker
/// that does not answer can hold librdkafka's consumer close indefinitely), it exits with status 1.
/// The run's own drain, flush and commit are bounded well inside it (`run_stage`); what was not
/// committed by then is redelivered to the partitions' next owner (at-least-once).
fn exit_after(grace: std::time::Duration) {
    let spawned = std::thread::Builder::new()
        .name("shutdown-deadline".into())
        .spawn(move || {
            std::thread::sleep(grace);
            tracing::error!(
                grace_ms = grace.as_millis() as u64,
                "still running at the end of the shutdown grace period: exiting now; offsets not \
                 committed are redelivered"
            );
            std::process::exit(1);
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the shutdown deadline thread");
    }
}

/// Logging to stderr, text or JSON, filtered by `log.level` (or `RUST_LOG`).
pub fn init_tracing(cfg: &LogConfig) -> anyhow::Result<()> {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&cfg.level))
        .with_context(|| format!("log.level {:?} is not a valid filter", cfg.level))?;
    // colour only on a terminal (and never with NO_COLOR): log files and collectors get plain text
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let installed = if cfg.format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    installed.map_err(|e| anyhow::anyhow!("installing the logger: {e}"))
}

/// Logs the `LEADFLOW_*` variables this binary does not read: a warning for a name no binary reads
/// (a typo), debug for another binary's keys in a shared environment.
pub fn log_unread_env<C: StageSettings>(service: &str) {
    let unread = crate::config::unread_env_vars::<C>(service);
    for variable in unread.unknown {
        tracing::warn!(%variable, "ignoring an environment variable no setting reads");
    }
    for variable in unread.other_binaries {
        tracing::debug!(%variable, "ignoring another binary's environment variable");
    }
}
