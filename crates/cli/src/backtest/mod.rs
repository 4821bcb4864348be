//! `leadflow backtest`: scores a time range of historical leads with a candidate model file and with
//! the live model, against their outcomes; writes JSON and a self-contained HTML report and prints a
//! one-screen summary (crates/recalibrate/RULES.md R7).

pub mod html;
mod read;
pub mod report;

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, ValueEnum};
use leadflow_events::{AnyEvent, Codec, RepRole, RepStatus, Timestamp, TopicRole};
use leadflow_score::Model;

use crate::error::CliError;
use crate::kafka::CliConfig;
use crate::reps::topic::read_all;
use report::{Scored, report, summary};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Source {
    /// leads.scored (the enriched lead each scored lead carries).
    Scored,
    /// leads.enriched.
    Enriched,
}

#[derive(Debug, Args)]
#[command(
    long_about = "Reads the leads of a time range (lead event time) from leads.scored or \
leads.enriched and their outcomes from leads.outcomes, scores every lead with the candidate model \
file and with the live model (model.params, else the embedded default, or --live FILE) through the \
score stage's own code, and reports AUC, Brier score, calibration per score decile, conversion per \
tier, the tier distribution and a lead-by-lead tier shift, and HOT+WARM leads per business day \
against the roster's capacity (sum of max_open_leads of available or busy AE/SDR reps on the reps topic, or \
--capacity). Writes JSON and a self-contained HTML report (inline SVG charts, no external resource).",
    after_help = "Examples:\n  leadflow backtest --candidate candidate.json\n  leadflow backtest --candidate c.json --since 2026-10-01T00:00:00Z --until 2026-11-01T00:00:00Z --html oct.html --json oct.json\n  leadflow model show 2026-11-30.r051200 > c.json && leadflow backtest --candidate c.json"
)]
pub struct BacktestArgs {
    /// The candidate: a ModelParams JSON file (e.g. from `leadflow model show V`).
    #[arg(long)]
    pub candidate: PathBuf,
    /// Compare against this model file instead of the live one.
    #[arg(long)]
    pub live: Option<PathBuf>,
    /// Leads from this time on (RFC 3339, lead event time).
    #[arg(long, value_parser = parse_time)]
    pub since: Option<Timestamp>,
    /// Leads before this time (RFC 3339, lead event time).
    #[arg(long, value_parser = parse_time)]
    pub until: Option<Timestamp>,
    /// Where the leads come from.
    #[arg(long, value_enum, default_value_t = Source::Scored)]
    pub source: Source,
    /// Roster capacity in leads per business day (default: from the reps topic).
    #[arg(long)]
    pub capacity: Option<f64>,
    /// The model name.
    #[arg(long, default_value = "lead-priority")]
    pub model: String,
    #[arg(long, default_value = "backtest.json")]
    pub json: PathBuf,
    #[arg(long, default_value = "backtest.html")]
    pub html: PathBuf,
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    Timestamp::parse_rfc3339(s).map_err(|e| format!("{s:?} is not an RFC 3339 time: {e}"))
}

fn model_file(path: &std::path::Path, name: &str) -> Result<Model, CliError> {
    Model::from_file(path, name).map_err(|e| CliError::Usage(e.to_string()))
}

/// Runs `backtest`.
pub async fn run(cfg: &CliConfig, args: &BacktestArgs) -> Result<(), CliError> {
    let candidate = model_file(&args.candidate, &args.model)?;
    let live = match &args.live {
        Some(p) => model_file(p, &args.model)?,
        None => {
            let (live, _) = crate::model::load(cfg, &args.model).await?;
            match live {
                Some(p) => Model::from_params(p, &args.model)
                    .map_err(|e| CliError::Usage(format!("the live model is invalid: {e}")))?,
                None => Model::embedded(&args.model).map_err(|e| CliError::Usage(e.to_string()))?,
            }
        }
    };
    let (live_version, candidate_version) =
        (live.version().to_owned(), candidate.version().to_owned());
    let role = match args.source {
        Source::Scored => TopicRole::Scored,
        Source::Enriched => TopicRole::Enriched,
    };
    eprintln!(
        "reading {} and {} ...",
        cfg.topics.name(role),
        cfg.topics.outcomes
    );
    let codec = Arc::new(Codec::from_config(cfg.registry.as_ref())?);
    let leads = read::leads(
        cfg,
        codec.clone(),
        read::LeadsRead {
            role,
            live: Arc::new(live),
            candidate: Arc::new(candidate),
            since: args.since,
            until: args.until,
            progress: std::io::stderr().is_terminal(),
        },
    );
    let labels = read::labels(cfg, codec);
    let capacity = async {
        match args.capacity {
            Some(c) => Some(c),
            None => roster_capacity(cfg).await,
        }
    };
    let (leads, labels, capacity) = tokio::join!(leads, labels, capacity);
    let (leads, labels) = (leads?, labels?);
    // the figures are summed in lead time order, then lead id
    let mut by_time: Vec<(String, Scored)> = leads.into_iter().collect();
    by_time.sort_by(|(a_id, a), (b_id, b)| {
        a.occurred_at
            .cmp(&b.occurred_at)
            .then_with(|| a_id.cmp(b_id))
    });
    let rows: Vec<Scored> = by_time
        .into_iter()
        .map(|(id, s)| Scored {
            converted: labels.get(&id).copied(),
            ..s
        })
        .collect();
    if rows.is_empty() {
        return Err(CliError::Usage(
            "no leads in that range: check --since/--until and --source".into(),
        ));
    }
    let r = report(&rows, &live_version, &candidate_version, capacity);
    write_reports(&r, &args.json, &args.html)?;
    print!("{}", summary(&r));
    println!("wrote {} and {}", args.json.display(), args.html.display());
    Ok(())
}

/// Writes the JSON and HTML reports.
pub fn write_reports(
    r: &report::Report,
    json: &std::path::Path,
    html: &std::path::Path,
) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(r)
        .map_err(|e| CliError::Internal(format!("cannot render the report: {e}")))?;
    std::fs::write(json, text)
        .map_err(|e| CliError::io(format!("cannot write {}", json.display()), e))?;
    let name = json
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    std::fs::write(html, html::render(r, &name))
        .map_err(|e| CliError::io(format!("cannot write {}", html.display()), e))
}

/// Leads per business day the roster can take: Σ max_open_leads of available or busy AE and SDR reps (each
/// open-lead slot turning over once a business day). `None` when the reps topic cannot be read.
async fn roster_capacity(cfg: &CliConfig) -> Option<f64> {
    let records = read_all(cfg, TopicRole::Reps, None).await.ok()?;
    let mut latest: HashMap<String, Option<leadflow_events::RepState>> = HashMap::new();
    for (key, e) in records {
        match e {
            Some(AnyEvent::RepState(r)) => {
                latest.insert(key, Some(r));
            }
            None => {
                latest.insert(key, None);
            }
            _ => {}
        }
    }
    let total: i64 = latest
        .values()
        .flatten()
        .filter(|r| {
            matches!(r.role, RepRole::Ae | RepRole::Sdr)
                && matches!(r.status, RepStatus::Available | RepStatus::Busy)
        })
        .map(|r| i64::from(r.max_open_leads.max(0)))
        .sum();
    (total > 0).then_some(total as f64)
}
