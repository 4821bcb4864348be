//! `leadflow-locator`: books where every lead's records are on the lead topics and answers
//! `GET /v1/leads/{key}` on its HTTP listener (`http.listen`).

leadflow_runtime::service_allocator!();

use clap::Parser;
use leadflow_events::TopicRole;
use leadflow_locator::api::{Shared, serve};
use leadflow_locator::book::{Book, BookLimits};
use leadflow_runtime::{CommonArgs, NoSettings, ServiceConfig};

#[derive(Debug, Parser)]
#[command(name = "leadflow-locator", version)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
}

/// The topics a lead's records are on (keyed by lead id; `leads.tiered` by account).
fn lead_topics(cfg: &ServiceConfig<NoSettings>) -> Vec<String> {
    TopicRole::ALL
        .into_iter()
        .filter(|r| {
            matches!(
                r,
                TopicRole::Raw
                    | TopicRole::Enriched
                    | TopicRole::Scored
                    | TopicRole::Tiered
                    | TopicRole::Packets
                    | TopicRole::Deliveries
                    | TopicRole::Activity
                    | TopicRole::Escalations
                    | TopicRole::Outcomes
                    | TopicRole::Exceptions
            )
        })
        .map(|r| cfg.topics.name(r).to_owned())
        .collect()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let cfg = ServiceConfig::<NoSettings>::load(leadflow_locator::SERVICE_NAME, &args.common)?;
    leadflow_runtime::init_tracing(&cfg.log)?;
    let registry = leadflow_runtime::StageRegistry::new(leadflow_locator::SERVICE_NAME);
    let shared = Shared::new(
        Book::new(lead_topics(&cfg), BookLimits::default()),
        registry,
    )?;
    let stop = tokio_util::sync::CancellationToken::new();
    let addr = serve(&cfg.http.listen, shared.clone(), stop.clone()).await?;
    tracing::info!(%addr, "serving /v1/leads/{{key}}");
    let config = leadflow_runtime::kafka::base_config(&cfg);
    let (follower_shared, follower_stop) = (shared.clone(), stop.clone());
    let follower = tokio::task::spawn_blocking(move || {
        leadflow_locator::follow::follow(config, &follower_shared, &follower_stop)
    });
    tokio::select! {
        _ = leadflow_runtime::shutdown_signal() => stop.cancel(),
        done = follower => {
            stop.cancel();
            done??;
        }
    }
    Ok(())
}
