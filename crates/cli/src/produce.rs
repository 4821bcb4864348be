//! `leadflow produce <topic>`: JSON lines (stdin or a file) → Avro events on a topic.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::PathBuf;

use clap::Args;
use leadflow_events::AnyEvent;
use leadflow_events::{Codec, EncodeError, EventKind};

use crate::error::{CliError, describe_json_error};
use crate::kafka::{CliConfig, kind_for_topic, kind_name, parse_event_kind};
use crate::sink::Sink;

#[derive(Debug, Args)]
#[command(
    long_about = "Reads one JSON event per line (the format `leadflow tail` and `leadflow generate` \
print) from stdin or --file, encodes each as the topic's event kind with the configured codec \
(single-object Avro, or the schema registry when one is configured) and produces it keyed by the \
event's key (the lead id for lead events). Every delivery is awaited before the command exits.\n\n\
The event kind comes from the topic's role in the configuration (leads.raw carries LeadEvent, ...); \
for any other topic name give --kind. Blank lines are skipped. The first line that is not a valid \
event stops the command: it is reported on stderr as `line N: column C: <reason>`, the lines \
before it are delivered, nothing after it is sent, and the exit code is 2 (1 for broker errors).",
    after_help = "Examples:\n  leadflow generate --count 500 | leadflow produce leads.raw\n  leadflow produce leads.raw --file leads.jsonl\n  leadflow produce my.test.topic --kind LeadEvent < leads.jsonl"
)]
pub struct ProduceArgs {
    /// Topic to produce to.
    pub topic: String,
    /// Read JSON lines from this file instead of stdin.
    #[arg(long, short)]
    pub file: Option<PathBuf>,
    /// Event kind of the lines (e.g. LeadEvent); required when the topic is not a configured pipeline topic.
    #[arg(long, value_parser = parse_event_kind)]
    pub kind: Option<EventKind>,
}

/// Lines buffered between the reading thread and the producing task.
const LINE_BUFFER: usize = 4096;

/// Runs `produce`: reads the input, sends every event, prints a summary on stderr.
pub async fn run(cfg: &CliConfig, args: &ProduceArgs) -> Result<(), CliError> {
    let kind = resolve_kind(cfg, &args.topic, args.kind)?;
    let codec = Codec::from_config(cfg.registry.as_ref())?;
    let input: Box<dyn BufRead + Send> = match &args.file {
        Some(path) => {
            Box::new(BufReader::new(File::open(path).map_err(|e| {
                CliError::io(format!("cannot open {}", path.display()), e)
            })?))
        }
        None => Box::new(BufReader::new(io::stdin())),
    };
    let mut sink = Sink::connect(cfg, &args.topic)?;
    let outcome = produce_lines(input, kind, &codec, &mut sink).await;
    // deliver what was sent before a bad line; a broker error wins over the bad line
    let delivered = sink.finish().await?;
    eprintln!("produced {delivered} events to {}", args.topic);
    outcome
}

fn resolve_kind(
    cfg: &CliConfig,
    topic: &str,
    explicit: Option<EventKind>,
) -> Result<EventKind, CliError> {
    let role_kind = cfg.topics.role_of(topic).and_then(|r| r.event_kind());
    if let (Some(flag), Some(role)) = (explicit, role_kind) {
        if flag != role {
            eprintln!(
                "warning: {topic} carries {} events; producing {} as asked by --kind",
                kind_name(role),
                kind_name(flag)
            );
        }
    }
    kind_for_topic(&cfg.topics, topic, explicit).ok_or_else(|| {
        CliError::Usage(format!(
            "{topic} is not a configured pipeline topic (see `leadflow topics list`); \
             say what it carries with --kind, e.g. --kind LeadEvent"
        ))
    })
}

/// Parses, encodes and sends each line until the input ends or a line is bad.
async fn produce_lines(
    input: Box<dyn BufRead + Send>,
    kind: EventKind,
    codec: &Codec,
    sink: &mut Sink,
) -> Result<(), CliError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<io::Result<String>>(LINE_BUFFER);
    std::thread::spawn(move || {
        for line in input.lines() {
            let stop = line.is_err();
            if tx.blocking_send(line).is_err() || stop {
                break;
            }
        }
    });
    let topic = sink.topic().to_owned();
    let mut number = 0u64;
    while let Some(line) = rx.recv().await {
        number += 1;
        let line = line.map_err(|e| CliError::unreadable_line(number, &e))?;
        if line.trim().is_empty() {
            continue;
        }
        let event = parse_line(kind, &line, number)?;
        let payload = event
            .encode(codec, &topic)
            .await
            .map_err(|e| encode_error(e, number))?;
        sink.send(event.key(), &payload).await?;
    }
    Ok(())
}

/// One input line as an event of `kind`; `number` is the line's 1-based position in the input.
pub fn parse_line(kind: EventKind, line: &str, number: u64) -> Result<AnyEvent, CliError> {
    AnyEvent::from_json(kind, line.trim_end()).map_err(|e| CliError::BadLine {
        line: number,
        message: describe_json_error(&e),
    })
}

fn encode_error(e: EncodeError, number: u64) -> CliError {
    match e {
        EncodeError::Avro(_) => CliError::BadLine {
            line: number,
            message: e.to_string(),
        },
        EncodeError::Registry(_) | EncodeError::Schema(_) => {
            CliError::Broker(format!("line {number}: cannot encode: {e}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadflow_events::json::event_to_json;
    use leadflow_events::samples;

    #[test]
    fn a_tailed_line_parses_back() {
        let line = event_to_json(&samples::lead_event())
            .expect("renders")
            .to_string();
        let event = parse_line(EventKind::LeadEvent, &format!("{line}\r"), 1).expect("parses");
        assert_eq!(event, AnyEvent::LeadEvent(samples::lead_event()));
        assert_eq!(event.key(), "lead-0001");
    }

    #[test]
    fn bad_lines_name_line_and_field() {
        let cases = [
            (r#"{"event_id":"e"}"#, "missing field `lead_id`"),
            (
                r#"{"event_id":"e","lead_id":"l","source_system":"s","source_record_id":"r","occurred_at":0,"event_type":"FAX"}"#,
                "unknown variant `FAX`",
            ),
            ("not json", "expected"),
            (
                r#"{"event_id":"e","lead_id":"l","source_system":"s","source_record_id":"r","occurred_at":"yesterday"}"#,
                "invalid RFC 3339 timestamp",
            ),
        ];
        for (line, want) in cases {
            let err = parse_line(EventKind::LeadEvent, line, 7).expect_err(line);
            assert_eq!(err.exit_code(), 2);
            let text = err.to_string();
            assert!(text.starts_with("line 7: column "), "{text}");
            assert!(text.contains(want), "{text}");
        }
    }
}
