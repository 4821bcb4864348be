//! `leadflow quality report`: the funnel's quality figures — acceptance rate per tier, source and
//! rep, rejection reasons ranked, MQL → SQL → opportunity, time to first contact per tier with SLA
//! adherence, and scoring accuracy per score decile — folded from the topics by [`fold`]. The
//! console's `/quality` page shows the same report with charts. Rules: `RULES.md` beside this file.

pub mod fold;
pub mod render;
pub mod svg;

use std::time::Duration;

use clap::{Args, Subcommand};
use leadflow_events::{AnyEvent, Codec, EventKind, Timestamp, TopicRole};

pub use fold::{Inputs, QualityReport};

use crate::error::CliError;
use crate::kafka::CliConfig;
use crate::sla_report::{deadline_views, parse_window, read_since};

/// Quality commands.
#[derive(Debug, Subcommand)]
pub enum QualityCommand {
    /// Prints the funnel's quality report: acceptance, rejection reasons, funnel, time to contact,
    /// scoring accuracy (targets: acceptance ≥ 80 %, MQL → SQL > 40 %, SQL → opportunity > 60 %,
    /// SLA met > 90 %, every score decile within 15 %).
    #[command(
        after_help = "Examples:\n  leadflow quality report --since 30d\n  leadflow quality report --since 1d --json | jq .acceptance"
    )]
    Report(ReportArgs),
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// How far back: `30d`, `24h`, `90m`.
    #[arg(long, default_value = "30d", value_parser = parse_window)]
    pub since: Duration,
    /// The whole report as one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// Runs `quality`.
pub async fn run(cfg: &CliConfig, command: &QualityCommand) -> Result<(), CliError> {
    let QualityCommand::Report(args) = command;
    let now = Timestamp::from(chrono::Utc::now());
    let since = Timestamp(now.0 - i64::try_from(args.since.as_millis()).unwrap_or(i64::MAX));
    let report = collect(cfg, since, now).await?;
    if args.json {
        let json = serde_json::to_string(&report)
            .map_err(|e| CliError::Internal(format!("cannot serialise the report: {e}")))?;
        println!("{json}");
    } else {
        print!("{}", render::text(&report));
    }
    Ok(())
}

/// Reads the topics from `since` and folds them (also the console's page).
pub async fn collect(
    cfg: &CliConfig,
    since: Timestamp,
    now: Timestamp,
) -> Result<QualityReport, CliError> {
    let codec = Codec::from_config(cfg.registry.as_ref())?;
    let read = |role: TopicRole, kind: EventKind| {
        let topic = cfg.topics.name(role).to_owned();
        let codec = &codec;
        async move { read_since(cfg, codec, &topic, kind, since).await }
    };
    let packets = read(TopicRole::Packets, EventKind::HandoffPacket).await?;
    let activity = read(TopicRole::Activity, EventKind::RepActivity).await?;
    let outcomes = read(TopicRole::Outcomes, EventKind::LeadOutcome).await?;
    let scored = read(TopicRole::Scored, EventKind::ScoredLead).await?;
    let deadlines = deadline_views(cfg, since).await?;
    let packets: Vec<_> = packets
        .into_iter()
        .filter_map(|e| match e {
            AnyEvent::HandoffPacket(p) => Some(p),
            _ => None,
        })
        .collect();
    let activity: Vec<_> = activity
        .into_iter()
        .filter_map(|e| match e {
            AnyEvent::RepActivity(a) => Some(a),
            _ => None,
        })
        .collect();
    let outcomes: Vec<_> = outcomes
        .into_iter()
        .filter_map(|e| match e {
            AnyEvent::LeadOutcome(o) => Some(o),
            _ => None,
        })
        .collect();
    let scored: Vec<_> = scored
        .into_iter()
        .filter_map(|e| match e {
            AnyEvent::ScoredLead(s) => Some(s),
            _ => None,
        })
        .collect();
    Ok(fold::fold(&Inputs {
        packets: &packets,
        activity: &activity,
        outcomes: &outcomes,
        scored: &scored,
        deadlines: &deadlines,
        since,
        now,
    }))
}

#[cfg(test)]
mod tests;
