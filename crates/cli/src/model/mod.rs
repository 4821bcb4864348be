//! `leadflow model list | show V | promote V | rollback`: the scoring model's versions
//! (`model.history`) and the live one (`model.params`); rules in crates/recalibrate/RULES.md R7.

pub mod plan;

use clap::{Args, Subcommand};
use leadflow_events::json::event_to_json;
use leadflow_events::{AnyEvent, Codec, ModelParams, Timestamp, TopicRole};
use leadflow_score::Model;

use crate::error::CliError;
use crate::kafka::CliConfig;
use crate::reps::topic::read_all;
use crate::sink::Sink;

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Every version of the model (newest first) with its status and holdout figures; the live one marked.
    #[command(
        after_help = "Examples:\n  leadflow model list\n  leadflow model list --model lead-priority"
    )]
    List(ModelArgs),
    /// One version in full (weights, training window, metrics) as JSON.
    #[command(
        after_help = "Examples:\n  leadflow model show 2026-11-30.r051200\n  leadflow model show live"
    )]
    Show(VersionArgs),
    /// Make a version of the history live (e.g. a refused candidate an analyst backtested).
    #[command(after_help = "Examples:\n  leadflow model promote 2026-11-30.r051200")]
    Promote(VersionArgs),
    /// Make the live version's parent live again.
    #[command(after_help = "Examples:\n  leadflow model rollback")]
    Rollback(ModelArgs),
}

#[derive(Debug, Args)]
pub struct ModelArgs {
    /// The model name (ModelParams.model).
    #[arg(long, default_value = "lead-priority")]
    pub model: String,
}

#[derive(Debug, Args)]
pub struct VersionArgs {
    /// The version, or `live`.
    pub version: String,
    #[command(flatten)]
    pub model: ModelArgs,
}

/// The live version on `model.params` and every record on `model.history`, for `model`.
pub async fn load(
    cfg: &CliConfig,
    model: &str,
) -> Result<(Option<ModelParams>, Vec<ModelParams>), CliError> {
    let params = |records: Vec<(String, Option<AnyEvent>)>| -> Vec<ModelParams> {
        records
            .into_iter()
            .filter_map(|(_, e)| match e {
                Some(AnyEvent::ModelParams(p)) if p.model == model => Some(p),
                _ => None,
            })
            .collect()
    };
    let live = params(read_all(cfg, TopicRole::ModelParams, None).await?).pop();
    let history = params(read_all(cfg, TopicRole::ModelHistory, None).await?);
    Ok((live, history))
}

fn embedded(model: &str) -> Result<ModelParams, CliError> {
    Ok(Model::embedded(model)
        .map_err(|e| CliError::Usage(e.to_string()))?
        .params()
        .clone())
}

/// One line per version: version, status, created, parent, holdout AUC (live AUC), tier shift.
pub fn list_lines(live: Option<&ModelParams>, history: &[ModelParams], model: &str) -> Vec<String> {
    let fig = |p: &ModelParams, k: &str| {
        p.metrics
            .get(k)
            .map(|v| format!("{v:.3}"))
            .unwrap_or_else(|| "-".into())
    };
    let mut lines = vec![format!(
        "{:<2}{:<22} {:<9} {:<20} {:<22} {:>6} {:>8} {:>6}",
        "", "VERSION", "STATUS", "CREATED", "PARENT", "AUC", "LIVE_AUC", "SHIFT"
    )];
    let mut rows = plan::versions(history, model);
    if let Some(l) = live {
        if !rows.iter().any(|r| r.version == l.version) {
            rows.insert(0, l.clone());
        }
    }
    for p in rows {
        let is_live = live.is_some_and(|l| l.version == p.version);
        lines.push(format!(
            "{:<2}{:<22} {:<9} {:<20} {:<22} {:>6} {:>8} {:>6}",
            if is_live { "*" } else { "" },
            p.version,
            if p.status.is_empty() { "-" } else { &p.status },
            p.created_at.to_datetime().format("%Y-%m-%d %H:%M:%S"),
            p.parent_version.as_deref().unwrap_or("-"),
            fig(&p, "holdout_auc"),
            fig(&p, "live_holdout_auc"),
            fig(&p, "tier_shift"),
        ));
    }
    if live.is_none() {
        lines.push(format!(
            "(nothing live on model.params: the score stage uses its embedded {})",
            embedded(model).map(|p| p.version).unwrap_or_default()
        ));
    }
    lines
}

async fn publish(cfg: &CliConfig, p: &ModelParams, live: bool) -> Result<(), CliError> {
    Model::from_params(p.clone(), &p.model)
        .map_err(|e| CliError::Usage(format!("refusing to publish an invalid model: {e}")))?;
    let codec = Codec::from_config(cfg.registry.as_ref())?;
    let mut targets = vec![(TopicRole::ModelHistory, p.history_key())];
    if live {
        targets.push((TopicRole::ModelParams, p.model.clone()));
    }
    for (role, key) in targets {
        let topic = cfg.topics.name(role).to_owned();
        let mut sink = Sink::connect(cfg, &topic)?;
        let payload = codec
            .encode(&topic, p)
            .await
            .map_err(|e| CliError::Internal(format!("cannot encode the model: {e}")))?;
        sink.send(&key, &payload).await?;
        sink.finish().await?;
    }
    Ok(())
}

fn now() -> Timestamp {
    Timestamp::from(chrono::Utc::now())
}

/// Runs a `model` subcommand.
pub async fn run(cfg: &CliConfig, command: &ModelCommand) -> Result<(), CliError> {
    match command {
        ModelCommand::List(a) => {
            let (live, history) = load(cfg, &a.model).await?;
            for line in list_lines(live.as_ref(), &history, &a.model) {
                println!("{line}");
            }
            Ok(())
        }
        ModelCommand::Show(a) => {
            let (live, history) = load(cfg, &a.model.model).await?;
            let default = embedded(&a.model.model)?;
            let found = if a.version == "live" {
                Some(live.clone().unwrap_or(default))
            } else {
                plan::find(&a.version, &history, live.as_ref(), &default).cloned()
            };
            let p = found.ok_or_else(|| {
                CliError::Usage(format!("no version {:?} of {}", a.version, a.model.model))
            })?;
            let json = event_to_json(&p)
                .map_err(|e| CliError::Internal(format!("cannot render the model: {e}")))?;
            println!(
                "{}",
                serde_json::to_string_pretty(&json).unwrap_or_else(|_| json.to_string())
            );
            Ok(())
        }
        ModelCommand::Promote(a) => {
            let (live, history) = load(cfg, &a.model.model).await?;
            let default = embedded(&a.model.model)?;
            let p = plan::promote(&a.version, &history, live.as_ref(), &default, now())
                .map_err(CliError::Usage)?;
            publish(cfg, &p, true).await?;
            eprintln!(
                "{} is live (was {}); the score stage swaps to it within seconds",
                p.version,
                live.map(|l| l.version)
                    .unwrap_or_else(|| default.version.clone())
            );
            Ok(())
        }
        ModelCommand::Rollback(a) => {
            let (live, history) = load(cfg, &a.model).await?;
            let default = embedded(&a.model)?;
            let p = plan::rollback(live.as_ref(), &history, &default, now())
                .map_err(CliError::Usage)?;
            publish(cfg, &p, true).await?;
            eprintln!(
                "rolled back to {} (from {})",
                p.version,
                live.map(|l| l.version).unwrap_or_default()
            );
            Ok(())
        }
    }
}
