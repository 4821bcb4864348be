//! `leadflow console`: a small server-rendered web console on 127.0.0.1 over the same data as the
//! CLI — the exception queue with its actions, a lead's trace, live per-tier queues and SLA status —
//! and `/metrics` with the queue's overdue gauge per owner and stage.
//!
//! Templates are minijinja (embedded at build time, parsed at start, HTML auto-escaped); every page
//! reads the topics afresh, so several consoles and CLI users see the same state.

mod metrics;
mod pages;
mod views;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use clap::Args;
use leadflow_events::Codec;
use minijinja::Environment;

use crate::error::CliError;
use crate::kafka::CliConfig;

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  leadflow console
  leadflow console --listen 127.0.0.1:8790 --refresh 5")]
pub struct ConsoleArgs {
    /// Address to serve on (loopback by default: the console has no login; put it behind your
    /// SSO proxy to share it).
    #[arg(long, default_value = "127.0.0.1:8780")]
    pub listen: SocketAddr,
    /// Seconds between refreshes of the live pages.
    #[arg(long, default_value_t = 10)]
    pub refresh: u32,
}

/// What every handler shares.
pub struct App {
    pub cfg: CliConfig,
    pub codec: Codec,
    pub templates: Environment<'static>,
    pub refresh: u32,
}

/// The templates, parsed once.
pub fn templates() -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    env.add_template("base.html", include_str!("templates/base.html"))?;
    env.add_template("exceptions.html", include_str!("templates/exceptions.html"))?;
    env.add_template("exception.html", include_str!("templates/exception.html"))?;
    env.add_template("trace.html", include_str!("templates/trace.html"))?;
    env.add_template("queues.html", include_str!("templates/queues.html"))?;
    Ok(env)
}

/// The console's routes.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/exceptions", get(pages::queue))
        .route("/exception", get(pages::exception))
        .route("/exception/action", post(pages::action))
        .route("/trace", get(pages::trace))
        .route("/queues", get(pages::queues))
        .route("/metrics", get(metrics::metrics))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(app)
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn run(cfg: &CliConfig, args: &ConsoleArgs) -> Result<(), CliError> {
    let app = Arc::new(App {
        cfg: cfg.clone(),
        codec: Codec::from_config(cfg.registry.as_ref())?,
        templates: templates().map_err(|e| CliError::Internal(format!("templates: {e}")))?,
        refresh: args.refresh.max(1),
    });
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| CliError::io(format!("cannot listen on {}", args.listen), e))?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::io("cannot read the listening address", e))?;
    eprintln!("leadflow console on http://{local}/");
    axum::serve(listener, router(app))
        .with_graceful_shutdown(shutdown())
        .await
        .map_err(|e| CliError::io("the console server failed", e))
}

async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Percent-encodes a query value (ids hold `:` and `.`; lead ids are free text).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse_and_urls_are_encoded() {
        assert!(templates().is_ok());
        assert_eq!(url_encode("notify:k 1/x"), "notify:k%201%2Fx");
    }
}
