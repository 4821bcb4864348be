//! `leadflow-sandbox`: local Slack, HubSpot and SMTP stand-ins for the demo and manual testing.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use leadflow_sandbox::{Sandbox, SandboxConfig};

/// Serves stand-ins for Slack, HubSpot and SMTP on loopback, records requests, injects faults.
#[derive(Parser, Debug)]
#[command(name = "leadflow-sandbox", version)]
struct Args {
    /// HTTP address (Slack under /slack, HubSpot under /hubspot, the page at /, control at /_sandbox).
    #[arg(long, default_value = "127.0.0.1:8025")]
    http: SocketAddr,
    /// SMTP address.
    #[arg(long, default_value = "127.0.0.1:2525")]
    smtp: SocketAddr,
    /// Bot token chat.postMessage accepts.
    #[arg(
        long,
        env = "SANDBOX_SLACK_BOT_TOKEN",
        default_value = "xoxb-sandbox-token"
    )]
    slack_bot_token: String,
    /// Private-app token the HubSpot endpoints accept.
    #[arg(
        long,
        env = "SANDBOX_HUBSPOT_TOKEN",
        default_value = "pat-sandbox-token"
    )]
    hubspot_token: String,
    /// Append every request to this file as JSON lines.
    #[arg(long)]
    record: Option<PathBuf>,
    /// leadflow-ingest's Slack interactivity endpoint: the page's Accept / Contacted / Reject post
    /// signed clicks there, as Slack does.
    #[arg(long, env = "SANDBOX_SLACK_INTERACTIONS_URL")]
    slack_interactions_url: Option<String>,
    /// The Slack app's signing secret the clicks are signed with.
    #[arg(
        long,
        env = "SANDBOX_SLACK_SIGNING_SECRET",
        default_value = "sandbox-slack-signing-secret"
    )]
    slack_signing_secret: String,
    /// leadflow-ingest's HubSpot webhook endpoint: a completed task is sent there, signed v3.
    #[arg(long, env = "SANDBOX_HUBSPOT_EVENTS_URL")]
    hubspot_events_url: Option<String>,
    /// The URL other processes reach the sandbox at, when not this machine's loopback (a container
    /// network: `http://sandbox:8025`); Slack's `response_url` points there. With it the sandbox may
    /// listen on a non-loopback address of that private network.
    #[arg(long, env = "SANDBOX_PUBLIC_URL")]
    public_url: Option<String>,
    /// The HubSpot app's client secret the webhooks are signed with.
    #[arg(
        long,
        env = "SANDBOX_HUBSPOT_CLIENT_SECRET",
        default_value = "sandbox-hubspot-client-secret"
    )]
    hubspot_client_secret: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    for addr in [args.http, args.smtp] {
        if !addr.ip().is_loopback() && args.public_url.is_none() {
            anyhow::bail!(
                "the sandbox listens on loopback only, not {addr} (on a private container network, give --public-url)"
            );
        }
    }
    let sandbox = Sandbox::start(SandboxConfig {
        http_listen: args.http,
        smtp_listen: args.smtp,
        slack_bot_token: args.slack_bot_token,
        hubspot_token: args.hubspot_token,
        record_file: args.record,
        interactivity: leadflow_sandbox::Interactivity {
            slack_interactions_url: args.slack_interactions_url,
            slack_signing_secret: args.slack_signing_secret,
            hubspot_events_url: args.hubspot_events_url,
            hubspot_client_secret: args.hubspot_client_secret,
            base_url: args.public_url.unwrap_or_default(),
        },
    })
    .await?;
    println!("sandbox page:  {}/", sandbox.base_url());
    println!("slack api:     {}", sandbox.slack_api_url());
    println!("slack webhook: {}", sandbox.slack_webhook_url());
    println!("hubspot api:   {}", sandbox.hubspot_api_url());
    println!("smtp:          {}", sandbox.smtp_addr);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    Ok(())
}
