//! `leadflow console`: a small server-rendered web console on 127.0.0.1 over the same data as the
//! CLI — the exception queue with its actions, a lead's trace, live per-tier queues and SLA status,
//! the funnel-quality report — and `/metrics` with the queue's overdue gauge per owner and stage.
//!
//! Templates are minijinja (embedded at build time, parsed at start, HTML auto-escaped with
//! `leadflow_escape::html`); every page reads the topics afresh, so several consoles and CLI users
//! see the same state.
//!
//! Every request passes `guard.rs` (Host and Origin checks, the session, the optional login);
//! every form carries the session's CSRF token, and an exception's action forms a ticket for that
//! exception. The rules: `crates/console/RULES.md`.
//!
//! # How `leadflow console` reaches this crate
//!
//! The console reads through the CLI's library (`leadflow_cli`: the exception store and its actions,
//! the quality and SLA reports, traces, the broker helpers), so this crate depends on `leadflow-cli`
//! and the `leadflow` binary cannot depend on it in turn (a package cycle). The console is therefore a
//! binary of its own, `leadflow-console`, installed beside `leadflow` (`cargo build` puts both in
//! `target/<profile>/`; the container image copies every `leadflow*` binary). `leadflow console ARGS`
//! replaces itself with `leadflow-console ARGS` found next to its own executable (the global
//! `--config` and `--bootstrap-servers` passed on as flags, the environment as it is), so the two
//! command lines are the same, with the same flags, exit codes and signals; when the binary is
//! missing, `leadflow console` fails naming the path it looked for. The forwarding is
//! `crates/cli/src/console.rs`; the flags are [`ConsoleArgs`] here.

mod guard;
mod login;
mod metrics;
mod pages;
mod quality_page;
pub mod security;
mod views;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use clap::{Args, Parser};
use leadflow_events::{Codec, Secret};
use leadflow_runtime::CommonArgs;
use minijinja::{AutoEscape, Environment, Output, State, Value};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use security::Security;

use leadflow_cli::CliError;
use leadflow_cli::kafka::CliConfig;

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  leadflow console
  leadflow console --listen 127.0.0.1:8790 --refresh 5
  LEADFLOW_CONSOLE_TOKEN=$(cat /run/secrets/console) leadflow console --listen 0.0.0.0:8780 --allowed-host console.example.com")]
pub struct ConsoleArgs {
    /// Address to serve on. Loopback by default; any other address is refused unless a login token
    /// is configured (--token-file or LEADFLOW_CONSOLE_TOKEN).
    #[arg(long, default_value = "127.0.0.1:8780")]
    pub listen: SocketAddr,
    /// Seconds between refreshes of the live pages.
    #[arg(long, default_value_t = 10)]
    pub refresh: u32,
    /// A file holding the login token (at least 16 characters): every page then asks for it once
    /// per browser session. The environment variable LEADFLOW_CONSOLE_TOKEN works too.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// A further host name the console is reached by (a proxy's; repeatable). Requests naming any
    /// other host are refused (DNS rebinding).
    #[arg(long, value_name = "HOST")]
    pub allowed_host: Vec<String>,
    /// The lead locator (`leadflow-locator`'s HTTP listener, e.g. http://leadflow-locator:9100):
    /// the trace page reads exactly the lead's records; it scans when the locator does not answer.
    #[arg(long, value_name = "URL", env = leadflow_cli::trace::locate::LOCATOR_ENV)]
    pub locator_url: Option<String>,
}

/// The `leadflow-console` command line (`leadflow console` forwards its arguments here): the options
/// every leadflow binary takes, then the console's own.
#[derive(Debug, Parser)]
#[command(
    name = "leadflow-console",
    bin_name = "leadflow console",
    version,
    about = "Serve the leadflow web console: the exception queue and its actions, lead traces, per-tier queues and SLA status, the funnel-quality report, /metrics",
    long_about = "Serve the leadflow web console on 127.0.0.1 (by default 127.0.0.1:8780): the exception \
queue with its actions, a lead's trace, live per-tier queues and SLA status, the funnel-quality report, \
and /metrics. Every page reads the topics afresh. Run as `leadflow console` or as `leadflow-console`, \
with the same flags.\n\n\
Configuration: defaults, then --config <file>, then LEADFLOW_* environment variables, then flags. \
Exit codes: 0 ok, 1 broker or I/O failure, 2 bad input or configuration."
)]
pub struct ConsoleCli {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub console: ConsoleArgs,
}

/// Runs the console to completion (until Ctrl-C or SIGTERM): logging, the async runtime, the
/// configuration, then [`run`].
pub fn run_cli(cli: ConsoleCli) -> Result<(), CliError> {
    leadflow_cli::init_logging();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::io("cannot start the async runtime", e))?;
    runtime.block_on(async move {
        let cfg = leadflow_cli::kafka::load_config(&cli.common)?;
        run(&cfg, &cli.console).await
    })
}

/// Environment variable holding the login token.
pub const TOKEN_ENV: &str = "LEADFLOW_CONSOLE_TOKEN";

/// The login token: --token-file, else LEADFLOW_CONSOLE_TOKEN, else none.
fn login_token(args: &ConsoleArgs) -> Result<Option<Secret>, CliError> {
    if let Some(path) = &args.token_file {
        return Secret::from_file(&path.to_string_lossy())
            .map(Some)
            .map_err(CliError::Usage);
    }
    match std::env::var(TOKEN_ENV) {
        Ok(v) if !v.trim().is_empty() => Ok(Some(Secret::new(v.trim()))),
        _ => Ok(None),
    }
}

/// What every handler shares.
pub struct App {
    pub cfg: CliConfig,
    pub codec: Codec,
    pub templates: Environment<'static>,
    pub refresh: u32,
    pub security: Arc<Security>,
    /// How the trace page traces (the lead locator, when configured).
    pub trace: leadflow_cli::trace::TraceOptions,
}

/// minijinja's output formatter with the one HTML escaper of `leadflow_escape` for strings.
fn escape_formatter(
    out: &mut Output,
    state: &State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    match (state.auto_escape(), value.as_str()) {
        (AutoEscape::Html, Some(s)) if !value.is_safe() => out
            .write_str(&leadflow_escape::html(s))
            .map_err(minijinja::Error::from),
        _ => minijinja::escape_formatter(out, state, value),
    }
}

/// The templates, parsed once.
pub fn templates() -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    env.set_formatter(escape_formatter);
    env.add_template("login.html", include_str!("templates/login.html"))?;
    env.add_template("base.html", include_str!("templates/base.html"))?;
    env.add_template("exceptions.html", include_str!("templates/exceptions.html"))?;
    env.add_template("exception.html", include_str!("templates/exception.html"))?;
    env.add_template("trace.html", include_str!("templates/trace.html"))?;
    env.add_template("queues.html", include_str!("templates/queues.html"))?;
    env.add_template("quality.html", include_str!("templates/quality.html"))?;
    Ok(env)
}

/// The console's routes.
pub fn router(app: Arc<App>) -> Router {
    let security = app.security.clone();
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(login::form).post(login::submit))
        .route("/exceptions", get(pages::queue))
        .route("/exception", get(pages::exception))
        .route("/exception/action", post(pages::action))
        .route("/trace", get(pages::trace))
        .route("/queues", get(pages::queues))
        .route("/quality", get(quality_page::quality))
        .route("/metrics", get(metrics::metrics))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(app)
        .layer(DefaultBodyLimit::max(guard::MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(security, guard::guard))
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn run(cfg: &CliConfig, args: &ConsoleArgs) -> Result<(), CliError> {
    let security = Security::new(args.listen, login_token(args)?, &args.allowed_host)
        .map_err(CliError::Usage)?;
    let app = Arc::new(App {
        cfg: cfg.clone(),
        codec: Codec::from_config(cfg.registry.as_ref())?,
        templates: templates().map_err(|e| CliError::Internal(format!("templates: {e}")))?,
        refresh: args.refresh.max(1),
        security: Arc::new(security),
        trace: leadflow_cli::trace::TraceOptions {
            locator_url: args.locator_url.clone(),
            ..leadflow_cli::trace::TraceOptions::default()
        },
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

/// What a query value keeps as it is: RFC 3986's unreserved characters and `:` (exception and trace
/// ids hold it); everything else, every byte of a non-ASCII character included, is `%XX`.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b':');

/// Percent-encodes a query value (ids hold `:` and `.`; lead ids are free text).
pub fn url_encode(s: &str) -> String {
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_is_consistent() {
        use clap::CommandFactory;
        ConsoleCli::command().debug_assert();
        let cli = ConsoleCli::try_parse_from([
            "leadflow-console",
            "--config",
            "leadflow.toml",
            "--listen",
            "127.0.0.1:8790",
            "--allowed-host",
            "console.example.com",
            "--allowed-host",
            "other.example.com",
        ])
        .expect("parses");
        assert_eq!(cli.console.listen.port(), 8790);
        assert_eq!(cli.console.allowed_host.len(), 2);
        assert_eq!(
            cli.common.config.as_deref(),
            Some(std::path::Path::new("leadflow.toml"))
        );
    }

    #[test]
    fn templates_parse_and_urls_are_encoded() {
        assert!(templates().is_ok());
        assert_eq!(url_encode("notify:k 1/x"), "notify:k%201%2Fx");
    }

    #[test]
    fn query_values_encode_as_the_console_always_did() {
        // expected values computed with the hand-written encoder this one replaced
        let cases = [
            ("notify:k 1/x", "notify:k%201%2Fx"),
            (
                "lead 42 & co=1#top+%",
                "lead%2042%20%26%20co%3D1%23top%2B%25",
            ),
            ("Zoë-Łódź_~.", "Zo%C3%AB-%C5%81%C3%B3d%C5%BA_~."),
            ("a|0:task", "a%7C0:task"),
            ("", ""),
            (
                "\u{7f}\t\n\"'<>?[]@!$()*,;",
                "%7F%09%0A%22%27%3C%3E%3F%5B%5D%40%21%24%28%29%2A%2C%3B",
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(url_encode(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn templates_escape_with_the_shared_html_escaper() {
        let env = templates().unwrap();
        let html = env
            .get_template("exceptions.html")
            .unwrap()
            .render(minijinja::context! {
                entries => vec![minijinja::context! {
                    exception_id => "x\"'><script>",
                    reason => "<img src=x onerror=alert(1)>",
                    href => "/exception?id=x",
                }],
                filter => minijinja::context! { owner => "' autofocus onfocus='alert(1)" },
            })
            .unwrap();
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("' autofocus"), "{html}");
        assert!(html.contains("x&quot;&#39;&gt;&lt;script&gt;"), "{html}");
    }
}
