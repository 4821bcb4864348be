//! The `leadflow` command line, one module per command (`main.rs` only parses and exits):
//!
//! - `topics`: create the pipeline's topics, or list their configured names;
//! - `generate`: a seeded synthetic lead stream (and its sales outcomes) as JSON lines or to a topic;
//!   the generator itself is the `leadflow_generate` crate (`crates/generate`);
//! - `produce`: JSON lines from stdin or a file, encoded as Avro events onto a topic;
//! - `tail`: a topic's events printed as JSON lines;
//! - `reps`: the rep roster: import a roster file, change a rep's status, list reps with their load,
//!   remove a rep;
//! - `activity`: record what a rep did with a lead (which stops its SLA clocks), one at a time or
//!   from a file;
//! - `sla`: the SLA adherence report, from the deadlines' recorded outcomes;
//! - `quality`: the funnel-quality report: acceptance, rejection reasons, MQL → SQL → opportunity,
//!   time to contact, scoring accuracy;
//! - `model`: the scoring model's versions: list, show, promote, roll back;
//! - `backtest`: score historical leads with a candidate model and the live one, against their
//!   outcomes;
//! - `replay`: re-drive a time or offset range of a topic;
//! - `exceptions`: work the exception queue: list, show, retry, replay, close, assign, escalate;
//! - `trace`: follow one lead through every topic, with its decisions, reasons and latencies;
//! - `console`: the web console, which is the `leadflow-console` binary of `crates/console` (built
//!   on this library); `leadflow console` runs it with the same arguments (`console.rs`).
//!
//! The library is also what the console and the trace bench build on: the exception store, the reports,
//! traces and the broker helpers are public.

pub mod activity;
pub mod activity_publish;
pub mod activity_sim;
pub mod backtest;
pub mod console;
pub mod error;
pub mod exceptions;
pub mod generate;
pub mod kafka;
pub mod model;
pub mod produce;
pub mod quality;
pub mod replay;
pub mod reps;
pub mod sink;
pub mod sla_fold;
pub mod sla_report;
pub mod tail;
pub mod topics;
pub mod trace;
pub mod unit_chart;

use clap::{Parser, Subcommand};
use leadflow_runtime::CommonArgs;

pub use error::CliError;

const EXAMPLES: &str = "Examples:
  leadflow topics create
  leadflow generate --count 500 | leadflow produce leads.raw
  leadflow tail leads.raw --from-beginning --max 500 --idle-timeout 10
  leadflow generate --count 0 --rate 5 --topic leads.raw --start now --live
  leadflow reps import deploy/roster.csv

Configuration: defaults, then --config <file>, then LEADFLOW_* environment variables
(LEADFLOW_TOPICS__RAW=leads.raw.v2, LEADFLOW_KAFKA_OVERRIDES=\"security.protocol=SASL_SSL\"), then flags.
Exit codes: 0 ok, 1 broker or I/O failure, 2 bad input or configuration.";

/// The `leadflow` command line.
#[derive(Debug, Parser)]
#[command(
    name = "leadflow",
    version,
    about = "Operate a leadflow pipeline: topics, synthetic leads, produce and tail, the rep roster and \
their activity, SLA and quality reports, the scoring model, backtests, replays, the exception queue, \
lead traces and the web console",
    long_about = "Operate a leadflow pipeline from the shell. Events travel as Avro on Kafka; this tool \
shows and accepts them as JSON lines, one event per line, so `generate`, `produce` and `tail` can be \
piped into each other and into jq.\n\n\
topics creates the topics; generate makes a seeded synthetic lead stream; produce and tail write and \
read a topic as JSON lines; reps manages the rep roster and activity records what a rep did with a \
lead; sla and quality report SLA adherence and funnel quality; model manages the scoring model's \
versions and backtest compares a candidate with the live one; replay re-drives a range of a topic; \
exceptions works the exception queue; trace follows one lead through every topic; console serves the \
web console (the leadflow-console binary installed beside leadflow).",
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the pipeline topics, or list their configured names.
    #[command(
        subcommand,
        after_help = "Examples:\n  leadflow topics create --partitions 6\n  leadflow topics list"
    )]
    Topics(topics::TopicsCommand),
    /// Produce JSON lines from stdin or a file as Avro events.
    Produce(produce::ProduceArgs),
    /// Print a topic's events as JSON lines.
    Tail(tail::TailArgs),
    /// Generate a seeded, realistic synthetic lead stream (stdout or a topic).
    Generate(generate::GenerateArgs),
    /// Record what a rep did with a lead (stops its SLA clocks), one at a time or from a file.
    #[command(
        subcommand,
        after_help = "Examples:\n  leadflow activity contacted lead-0042 --rep rep-ae-1 --at 2026-11-30T09:04:00Z\n  leadflow activity import activity.jsonl"
    )]
    Activity(activity::ActivityCommand),
    /// SLA adherence from the topics.
    #[command(subcommand, after_help = "Examples:\n  leadflow sla report --since 7d")]
    Sla(sla_report::SlaCommand),
    /// Funnel quality: acceptance, rejection reasons, MQL → SQL → opportunity, time to contact, scoring accuracy.
    #[command(
        subcommand,
        after_help = "Examples:\n  leadflow quality report --since 30d\n  leadflow quality report --since 1d --json"
    )]
    Quality(quality::QualityCommand),
    /// Manage the rep roster: import a roster file, change a status, list reps with their load.
    #[command(
        subcommand,
        after_help = "Examples:\n  leadflow reps import deploy/roster.csv\n  leadflow reps set-status ae-emea-1 out-of-office --until 2026-12-07\n  leadflow reps list"
    )]
    Reps(reps::RepsCommand),
    /// The scoring model's versions: list, show, promote, roll back (recalibration history).
    #[command(
        subcommand,
        after_help = "Examples:\n  leadflow model list\n  leadflow model show live\n  leadflow model promote 2026-11-30.r051200\n  leadflow model rollback"
    )]
    Model(model::ModelCommand),
    /// Score historical leads with a candidate model and the live one, against their outcomes.
    Backtest(backtest::BacktestArgs),
    /// Re-drive a time or offset range of a topic (re-produce it unchanged; --dry-run to look first).
    Replay(replay::ReplayArgs),
    /// Work the exception queue: list, show, retry, replay, close, assign, escalate.
    #[command(
        subcommand,
        after_help = "Examples:\n  leadflow exceptions list --overdue\n  leadflow exceptions close enrich:leads.raw:2:17 --reason 'test lead'"
    )]
    Exceptions(exceptions::ExceptionsCommand),
    /// Follow one lead through every topic: its timeline, decisions, reasons, versions and latencies.
    Trace(trace::TraceArgs),
    /// Serve the web console on 127.0.0.1: exception queue, traces, per-tier queues and SLA status
    /// (runs leadflow-console).
    ///
    /// Serves the exception queue with its actions, a lead's trace, live per-tier queues and SLA
    /// status, the funnel-quality report and /metrics, by default on 127.0.0.1:8780. Runs the
    /// leadflow-console binary installed beside leadflow with the same arguments: `leadflow console
    /// --help` prints its flags (--listen, --refresh, --token-file, --allowed-host).
    Console(console::ConsoleArgs),
}

/// Runs a parsed command line to completion.
pub fn run(cli: Cli) -> Result<(), CliError> {
    if let Command::Console(args) = &cli.command {
        // the console is a binary of its own: this process becomes it
        return console::run(&cli.common, args);
    }
    init_logging();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::io("cannot start the async runtime", e))?;
    runtime.block_on(async move {
        match &cli.command {
            Command::Topics(command) => {
                let cfg = kafka::load_config(&cli.common)?;
                topics::run(&cfg, command).await
            }
            Command::Produce(args) => {
                let cfg = kafka::load_config(&cli.common)?;
                produce::run(&cfg, args).await
            }
            Command::Tail(args) => {
                let cfg = kafka::load_config(&cli.common)?;
                tail::run(&cfg, args).await
            }
            Command::Generate(args) => generate::run(&cli.common, args).await,
            Command::Activity(command) => {
                let cfg = kafka::load_config(&cli.common)?;
                activity::run(&cfg, command).await
            }
            Command::Sla(command) => {
                let cfg = kafka::load_config(&cli.common)?;
                sla_report::run(&cfg, command).await
            }
            Command::Quality(command) => {
                let cfg = kafka::load_config(&cli.common)?;
                quality::run(&cfg, command).await
            }
            Command::Reps(command) => {
                let cfg = kafka::load_config(&cli.common)?;
                reps::run(&cfg, command).await
            }
            Command::Model(command) => {
                let cfg = kafka::load_config(&cli.common)?;
                model::run(&cfg, command).await
            }
            Command::Backtest(args) => {
                let cfg = kafka::load_config(&cli.common)?;
                backtest::run(&cfg, args).await
            }
            Command::Replay(args) => {
                let cfg = kafka::load_config(&cli.common)?;
                replay::run(&cfg, args).await
            }
            Command::Exceptions(command) => {
                let cfg = kafka::load_config(&cli.common)?;
                exceptions::run(&cfg, command).await
            }
            Command::Trace(args) => {
                let cfg = kafka::load_config(&cli.common)?;
                trace::run(&cfg, args).await
            }
            Command::Console(args) => console::run(&cli.common, args),
        }
    })
}

/// Warnings and errors (including librdkafka's) on stderr; `RUST_LOG` overrides.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // a second initialisation (tests calling `run` twice) is harmless
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_examples_in_help() {
        let mut cmd = Cli::command();
        let mut missing = Vec::new();
        let mut check = |path: String, c: &mut clap::Command| {
            if c.get_name() == "help" {
                return; // clap's own
            }
            let help = c.render_long_help().to_string();
            if !help.contains("Examples:") {
                missing.push(path);
            }
        };
        check("leadflow".into(), &mut cmd);
        for sub in cmd.get_subcommands_mut() {
            let name = sub.get_name().to_owned();
            check(name.clone(), sub);
            for inner in sub.get_subcommands_mut() {
                check(format!("{name} {}", inner.get_name()), inner);
            }
        }
        assert!(missing.is_empty(), "no examples in: {missing:?}");
    }

    #[test]
    fn common_args_are_global() {
        let cli = Cli::try_parse_from([
            "leadflow",
            "tail",
            "leads.raw",
            "--bootstrap-servers",
            "broker:9093",
            "--max",
            "3",
        ])
        .expect("parses");
        assert_eq!(cli.common.bootstrap_servers.as_deref(), Some("broker:9093"));
    }
}
