//! `leadflow generate`: a seeded, realistic synthetic lead stream as JSON lines or straight to a topic.
//!
//! The stream itself is pure and lives in its own crate (`leadflow_generate`, `crates/generate`); this
//! module only paces it and writes it to stdout, a topic and the outcomes file.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::time::Duration;

use clap::Args;
use futures::FutureExt;
use leadflow_events::json::event_to_json;
use leadflow_events::{Codec, EventKind, LeadEvent, Timestamp};
use leadflow_generate::{DEFAULT_START, LeadGenerator, outcomes, shift};
use leadflow_runtime::CommonArgs;

use crate::error::CliError;
use crate::kafka::{kind_name, load_config};
use crate::sink::Sink;

#[derive(Debug, Args)]
#[command(
    long_about = "Generates a seeded, realistic stream of LeadEvents: companies mostly from the enrich \
stage's bundled dataset plus about 10% unknown domains; executives, managers and practitioners, \
competitors (pipelinerival.com, hotleads.ai, funnelforge.io), researchers (students on .edu, analysts \
at gartner.com / forrester.com, job seekers \"Open to work\"), free-mail leads; HubSpot forms, website \
chat, Salesforce, an intent feed, webinars and product sign-ups; activity history before each event; \
chat signals with the four qualification dimensions (a realistic share of hot leads), human requests, \
out-of-scope questions, stalls; repeat leads for dedup; sessions, timezones and UTM attributes.\n\n\
The same --seed and --start always give the same events (ids are evt-<seed>-<index>). Event times \
start at --start and follow at realistic gaps (busy business hours, quiet nights and weekends).\n\n\
Without --topic the events are printed as JSON lines, exactly as `leadflow tail` prints them; with \
--topic they are produced directly (a progress bar shows on a terminal).",
    after_help = "Examples:\n  leadflow generate --count 500 --seed 7 > leads.jsonl\n  leadflow generate --count 500 | leadflow produce leads.raw\n  leadflow generate --count 10000 --topic leads.raw\n  leadflow generate --count 0 --rate 2 --start now --live --topic leads.raw   # endless live demo"
)]
pub struct GenerateArgs {
    /// Events to generate; 0 means endless (until Ctrl-C).
    #[arg(long, default_value_t = 100)]
    pub count: u64,
    /// Events per second (default: as fast as possible).
    #[arg(long, value_name = "PER_SEC", value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Seed of the stream: the same seed and start give the same events.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// When the stream starts: an RFC 3339 time, or `now`.
    #[arg(long, default_value = DEFAULT_START, value_parser = parse_start)]
    pub start: Timestamp,
    /// Stamp each event with the wall-clock time it is emitted at (its history shifted along).
    #[arg(long)]
    pub live: bool,
    /// Produce to this topic instead of printing JSON lines.
    #[arg(long)]
    pub topic: Option<String>,
    /// Also produce each lead's sales outcomes (LeadOutcome, from the generator's hidden conversion
    /// function with noise and delays) to this topic, e.g. leads.outcomes.
    #[arg(long, value_name = "TOPIC")]
    pub outcomes: Option<String>,
    /// Also write each lead's sales outcomes as JSON lines to this file.
    #[arg(long, value_name = "PATH")]
    pub outcomes_file: Option<std::path::PathBuf>,
    /// Sources whose leads are posted through leadflow-ingest (comma-separated publisher ids, e.g.
    /// hubspot,website_chat): ingest scopes their lead ids as `<publisher>:<lead_id>` (ingest
    /// RULES.md P6), so their outcomes carry that id and join the leads the pipeline scored.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub ingest_publishers: Vec<String>,
}

/// Where the outcomes of generated leads go.
struct OutcomeOutput {
    sink: Option<(Sink, Codec)>,
    file: Option<BufWriter<std::fs::File>>,
    count: u64,
}

impl OutcomeOutput {
    fn open(common: &CommonArgs, args: &GenerateArgs) -> Result<Option<Self>, CliError> {
        if args.outcomes.is_none() && args.outcomes_file.is_none() {
            return Ok(None);
        }
        let sink = match &args.outcomes {
            Some(topic) => {
                let cfg = load_config(common)?;
                if let Some(kind) = cfg.topics.role_of(topic).and_then(|r| r.event_kind()) {
                    if kind != EventKind::LeadOutcome {
                        return Err(CliError::Usage(format!(
                            "{topic} carries {} events; --outcomes needs the outcomes topic ({})",
                            kind_name(kind),
                            cfg.topics.outcomes
                        )));
                    }
                }
                let codec = Codec::from_config(cfg.registry.as_ref())?;
                Some((Sink::connect(&cfg, topic)?, codec))
            }
            None => None,
        };
        let file = match &args.outcomes_file {
            Some(path) => Some(BufWriter::new(std::fs::File::create(path).map_err(
                |e| CliError::io(format!("cannot create {}", path.display()), e),
            )?)),
            None => None,
        };
        Ok(Some(Self {
            sink,
            file,
            count: 0,
        }))
    }

    async fn emit(&mut self, outcomes: &[leadflow_events::LeadOutcome]) -> Result<(), CliError> {
        for o in outcomes {
            if let Some((sink, codec)) = &mut self.sink {
                let topic = sink.topic().to_owned();
                let payload = codec.encode(&topic, o).await.map_err(|e| {
                    CliError::Internal(format!("cannot encode a generated outcome: {e}"))
                })?;
                sink.send(&o.lead_id, &payload).await?;
            }
            if let Some(file) = &mut self.file {
                let json = event_to_json(o).map_err(|e| {
                    CliError::Internal(format!("generated outcome does not fit: {e}"))
                })?;
                writeln!(file, "{json}")
                    .map_err(|e| CliError::io("cannot write the outcomes file", e))?;
            }
            self.count += 1;
        }
        Ok(())
    }

    async fn finish(mut self) -> Result<(), CliError> {
        if let Some(file) = &mut self.file {
            file.flush()
                .map_err(|e| CliError::io("cannot write the outcomes file", e))?;
        }
        if let Some((mut sink, _)) = self.sink.take() {
            let delivered = sink.finish().await?;
            eprintln!("produced {delivered} outcomes to {}", sink.topic());
        } else {
            eprintln!("wrote {} outcomes", self.count);
        }
        Ok(())
    }
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r > 0.0 && r.is_finite() && r <= 1_000_000.0 => Ok(r),
        _ => Err(format!(
            "{s:?} is not a rate between 0 and 1000000 events per second"
        )),
    }
}

fn parse_start(s: &str) -> Result<Timestamp, String> {
    if s.eq_ignore_ascii_case("now") {
        return Ok(Timestamp::from(chrono::Utc::now()));
    }
    Timestamp::parse_rfc3339(s).map_err(|e| {
        format!("{s:?} is not an RFC 3339 time like 2026-11-20T12:00:00Z or `now`: {e}")
    })
}

/// Where generated events go.
enum Output {
    Stdout(BufWriter<io::StdoutLock<'static>>),
    Topic(Box<TopicOutput>),
}

struct TopicOutput {
    sink: Sink,
    codec: Codec,
    progress: Option<indicatif::ProgressBar>,
}

/// Runs `generate`.
pub async fn run(common: &CommonArgs, args: &GenerateArgs) -> Result<(), CliError> {
    let mut output = match &args.topic {
        None => Output::Stdout(BufWriter::new(io::stdout().lock())),
        Some(topic) => {
            let cfg = load_config(common)?;
            if let Some(kind) = cfg.topics.role_of(topic).and_then(|r| r.event_kind()) {
                if kind != EventKind::LeadEvent {
                    return Err(CliError::Usage(format!(
                        "{topic} carries {} events; generate makes LeadEvents (for {})",
                        kind_name(kind),
                        cfg.topics.raw
                    )));
                }
            }
            let codec = Codec::from_config(cfg.registry.as_ref())?;
            let sink = Sink::connect(&cfg, topic)?;
            Output::Topic(Box::new(TopicOutput {
                sink,
                codec,
                progress: io::stderr().is_terminal().then(|| progress_bar(args.count)),
            }))
        }
    };
    let mut outcomes = OutcomeOutput::open(common, args)?;
    let result = generate_into(args, &mut output, outcomes.as_mut()).await;
    let finished = finish(output, args.topic.as_deref()).await;
    let outcomes_finished = match outcomes {
        Some(o) => o.finish().await,
        None => Ok(()),
    };
    result.and(finished).and(outcomes_finished)
}

async fn generate_into(
    args: &GenerateArgs,
    output: &mut Output,
    mut outcomes: Option<&mut OutcomeOutput>,
) -> Result<(), CliError> {
    let mut generator = LeadGenerator::new(args.seed, args.start);
    let mut ticker = args.rate.map(|rate| {
        let mut t = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        t
    });
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut emitted = 0u64;
    while args.count == 0 || emitted < args.count {
        if let Some(t) = ticker.as_mut() {
            tokio::select! {
                _ = t.tick() => {}
                _ = &mut ctrl_c => break,
            }
        } else if matches!(output, Output::Topic(_)) && (&mut ctrl_c).now_or_never().is_some() {
            break;
        }
        let mut lead = generator.next_lead();
        if args.live {
            let now = Timestamp::from(chrono::Utc::now());
            let delta = now.0 - lead.event.occurred_at.0;
            shift(&mut lead.event, delta);
        }
        if let Some(o) = outcomes.as_deref_mut() {
            let mut lead_outcomes = outcomes::outcomes_for(args.seed, &lead);
            if args.ingest_publishers.contains(&lead.event.source_system) {
                for out in &mut lead_outcomes {
                    out.lead_id = format!("{}:{}", lead.event.source_system, out.lead_id);
                }
            }
            o.emit(&lead_outcomes).await?;
        }
        let event = lead.event;
        if !emit(output, &event, ticker.is_some()).await? {
            break;
        }
        emitted += 1;
    }
    Ok(())
}

/// Writes or sends one event; `Ok(false)` when stdout was closed (`| head`).
async fn emit(output: &mut Output, event: &LeadEvent, paced: bool) -> Result<bool, CliError> {
    match output {
        Output::Stdout(out) => {
            let json = event_to_json(event)
                .map_err(|e| CliError::Internal(format!("generated event does not fit: {e}")))?;
            let written =
                writeln!(out, "{json}").and_then(|()| if paced { out.flush() } else { Ok(()) });
            match written {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(false),
                Err(e) => Err(CliError::io("cannot write to stdout", e)),
            }
        }
        Output::Topic(t) => {
            let TopicOutput {
                sink,
                codec,
                progress,
            } = t.as_mut();
            let topic = sink.topic().to_owned();
            let payload = codec
                .encode(&topic, event)
                .await
                .map_err(|e| CliError::Internal(format!("cannot encode a generated event: {e}")))?;
            sink.send(&event.lead_id, &payload).await?;
            if let Some(bar) = progress {
                bar.inc(1);
            }
            Ok(true)
        }
    }
}

async fn finish(output: Output, topic: Option<&str>) -> Result<(), CliError> {
    match output {
        Output::Stdout(mut out) => match out.flush() {
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                Err(CliError::io("cannot write to stdout", e))
            }
            _ => Ok(()),
        },
        Output::Topic(t) => {
            let TopicOutput {
                mut sink, progress, ..
            } = *t;
            let delivered = sink.finish().await;
            if let Some(bar) = progress {
                bar.finish_and_clear();
            }
            let delivered = delivered?;
            eprintln!(
                "produced {delivered} events to {}",
                topic.unwrap_or_default()
            );
            Ok(())
        }
    }
}

fn progress_bar(count: u64) -> indicatif::ProgressBar {
    let bar = if count == 0 {
        indicatif::ProgressBar::new_spinner()
    } else {
        indicatif::ProgressBar::new(count)
    };
    let template = if count == 0 {
        "{spinner} {pos} events sent ({rate})"
    } else {
        "{bar:40} {pos}/{len} events ({rate}, {eta} left)"
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        // whole events per second: indicatif's own {per_sec} prints four decimals
        bar.set_style(style.with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0}/s", state.per_sec());
            },
        ));
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
