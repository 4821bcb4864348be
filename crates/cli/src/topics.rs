//! `leadflow topics create|list`: the pipeline topics from the configured names.

use clap::{Args, Subcommand};
use leadflow_events::TopicNames;
use leadflow_runtime::admin::{TopicOutcome, create_topics, pipeline_topics};

use crate::error::CliError;
use crate::kafka::{CliConfig, kind_name};

#[derive(Debug, Subcommand)]
pub enum TopicsCommand {
    /// Create every pipeline topic that does not exist yet (safe to run again).
    #[command(
        long_about = "Creates every pipeline topic named in the configuration that does not exist \
yet; existing topics are left unchanged, so the command is safe to run on every deploy. \
The compacted topics (model.params, model.history, reps, exceptions.state, leads.state) keep the latest value \
per key and get at most 3 partitions; enrich.dedup-keys (enrich's dedup changelog) is created with \
cleanup.policy=delete and retention.ms=2592000000 (720 h, the default dedup window).\n\n\
Prints one line per topic: `created` or `already exists`.",
        after_help = "Examples:\n  leadflow topics create\n  leadflow topics create --partitions 6 --replication-factor 3 --bootstrap-servers kafka-1:9092\n  LEADFLOW_TOPICS__RAW=leads.raw.v2 leadflow topics create"
    )]
    Create(CreateArgs),
    /// Print the configured topic names, their roles and event kinds (no broker needed).
    #[command(
        long_about = "Prints one line per pipeline role: the role's config key (`[topics] raw = ...`, \
env LEADFLOW_TOPICS__RAW), the configured topic name, the event kind it carries and whether it is \
compacted. Reads only the configuration; no broker is contacted.",
        after_help = "Examples:\n  leadflow topics list\n  leadflow --config prod.toml topics list"
    )]
    List,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Partitions per topic (compacted topics get at most 3).
    #[arg(long, default_value_t = 3)]
    pub partitions: i32,
    /// Replicas per partition.
    #[arg(long, default_value_t = 1)]
    pub replication_factor: i32,
}

/// Runs `topics create` or `topics list`.
pub async fn run(cfg: &CliConfig, command: &TopicsCommand) -> Result<(), CliError> {
    match command {
        TopicsCommand::List => {
            for line in list_lines(&cfg.topics) {
                println!("{line}");
            }
            Ok(())
        }
        TopicsCommand::Create(args) => create(cfg, args).await,
    }
}

async fn create(cfg: &CliConfig, args: &CreateArgs) -> Result<(), CliError> {
    if args.partitions < 1 {
        return Err(CliError::Usage("--partitions must be at least 1".into()));
    }
    if args.replication_factor < 1 {
        return Err(CliError::Usage(
            "--replication-factor must be at least 1".into(),
        ));
    }
    let specs = pipeline_topics(&cfg.topics, args.partitions, args.replication_factor);
    let outcomes = create_topics(cfg, &specs).await.map_err(|e| {
        CliError::Broker(format!(
            "creating topics on {} failed: {e}",
            cfg.bootstrap_servers
        ))
    })?;
    for (name, outcome) in outcomes {
        let what = match outcome {
            TopicOutcome::Created => {
                let partitions = specs
                    .iter()
                    .find(|s| s.name == name)
                    .map_or(args.partitions, |s| s.partitions);
                format!("created ({partitions} partitions)")
            }
            TopicOutcome::AlreadyExists => "already exists".to_owned(),
        };
        println!("{name}: {what}");
    }
    Ok(())
}

/// The lines `topics list` prints.
pub fn list_lines(names: &TopicNames) -> Vec<String> {
    names
        .all()
        .into_iter()
        .map(|(role, name)| {
            let kind = role.event_kind().map_or("(schema pending)", kind_name);
            let compacted = if role.compacted() { "  compacted" } else { "" };
            format!("{:<14}{name:<22}{kind}{compacted}", role.config_key())
                .trim_end()
                .to_owned()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use leadflow_events::TopicRole;

    use super::*;

    #[test]
    fn list_shows_every_role_with_kind() {
        let lines = list_lines(&TopicNames::default());
        assert_eq!(lines.len(), TopicRole::ALL.len());
        assert_eq!(lines[0], "raw           leads.raw             LeadEvent");
        assert!(lines.iter().any(|l| l.starts_with("model_params")
            && l.contains("model.params")
            && l.ends_with("compacted")));
        assert!(
            lines.iter().any(|l| l.starts_with("reps")
                && l.contains("RepState")
                && l.ends_with("compacted"))
        );
        assert!(!lines.iter().any(|l| l.contains("(schema pending)")));
    }
}
