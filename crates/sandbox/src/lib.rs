//! `leadflow-sandbox`: local stand-ins for the services notify talks to, on 127.0.0.1.
//!
//! - Slack Web API `chat.postMessage` and `conversations.open` (a 1:1 DM channel per user; bot
//!   token), `conversations.history` (with message metadata, paged) and `conversations.list`, and
//!   incoming webhooks, under `/slack/`; a successful post's reply can be held after the post is
//!   recorded (`POST /_sandbox/slack/hold`), to crash a caller between Slack's acceptance and its receipt;
//! - the HubSpot CRM endpoints notify uses (contacts, tasks and notes upserted by a unique property,
//!   `PATCH` of one object by id or by a unique property value, v4 default associations, owners),
//!   under `/hubspot/`;
//! - an SMTP server (EHLO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT; no STARTTLS) on its own port.
//!
//! Every request is recorded (in memory, and as JSON lines when a file is given), each service can be
//! told to fail through `POST /_sandbox/faults/{service}` (down, slow, 429 with Retry-After, 500 for N
//! requests or for a while), and `GET /` renders what arrived as a page a person can read.
//! Tests start it in-process with [`Sandbox::start`]; the binary wraps the same call.

mod control;
mod faults;
mod hubspot;
pub mod interact;
mod interactivity;
mod page;
mod slack;
mod slack_history;
mod smtp;
mod state;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use faults::{FaultMode, FaultSpec, Service};
pub use interact::Interactivity;
pub use state::{Email, Recorded, SandboxState, SlackMessage, channel_id};

/// How to start the sandbox.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// HTTP listen address (Slack, HubSpot, control, page); port 0 picks a free port.
    pub http_listen: SocketAddr,
    /// SMTP listen address; port 0 picks a free port.
    pub smtp_listen: SocketAddr,
    /// The bot token `chat.postMessage` accepts (`Authorization: Bearer ...`).
    pub slack_bot_token: String,
    /// The private-app token the HubSpot endpoints accept.
    pub hubspot_token: String,
    /// Where to append every request as one JSON line, when given.
    pub record_file: Option<PathBuf>,
    /// Where the reps' clicks and task completions go, and the apps' secrets (an empty `base_url`
    /// becomes the HTTP listener's address at start).
    pub interactivity: Interactivity,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            http_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            smtp_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            slack_bot_token: "xoxb-sandbox-token".into(),
            hubspot_token: "pat-sandbox-token".into(),
            record_file: None,
            interactivity: Interactivity::default(),
        }
    }
}

/// A running sandbox. Dropping it stops the servers.
pub struct Sandbox {
    pub http_addr: SocketAddr,
    pub smtp_addr: SocketAddr,
    pub state: Arc<SandboxState>,
    tasks: Vec<JoinHandle<()>>,
}

impl Sandbox {
    /// Binds both listeners and serves until dropped.
    pub async fn start(config: SandboxConfig) -> std::io::Result<Sandbox> {
        let state = Arc::new(SandboxState::new(
            config.slack_bot_token.clone(),
            config.hubspot_token.clone(),
            config.record_file.clone(),
        )?);
        let http = TcpListener::bind(config.http_listen).await?;
        let smtp = TcpListener::bind(config.smtp_listen).await?;
        let http_addr = http.local_addr()?;
        let smtp_addr = smtp.local_addr()?;
        let mut interactivity = config.interactivity.clone();
        if interactivity.base_url.is_empty() {
            interactivity.base_url = format!("http://{http_addr}");
        }
        state.set_interactivity(interactivity);
        let app = router(state.clone());
        let http_task = tokio::spawn(async move {
            if let Err(e) = axum::serve(http, app).await {
                tracing::error!(error = %e, "sandbox http server stopped");
            }
        });
        let smtp_task = tokio::spawn(smtp::serve(smtp, state.clone()));
        Ok(Sandbox {
            http_addr,
            smtp_addr,
            state,
            tasks: vec![http_task, smtp_task],
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// Base URL for Slack's Web API (`{base}/chat.postMessage`).
    pub fn slack_api_url(&self) -> String {
        format!("{}/slack/api", self.base_url())
    }

    /// An incoming-webhook URL.
    pub fn slack_webhook_url(&self) -> String {
        format!(
            "{}/slack/webhook/T0SANDBOX/B0SANDBOX/sandbox",
            self.base_url()
        )
    }

    /// Base URL for HubSpot's API (`{base}/crm/v3/...`).
    pub fn hubspot_api_url(&self) -> String {
        format!("{}/hubspot", self.base_url())
    }

    /// Sets a fault on one service (replacing the previous one).
    pub fn set_fault(&self, service: Service, spec: FaultSpec) {
        self.state.set_fault(service, spec);
    }

    /// Clears every fault.
    pub fn clear_faults(&self) {
        self.state.clear_faults();
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn router(state: Arc<SandboxState>) -> Router {
    Router::new()
        .merge(slack::routes())
        .merge(slack_history::routes())
        .merge(hubspot::routes())
        .merge(control::routes())
        .merge(interact::routes())
        .merge(page::routes())
        .with_state(state)
}
