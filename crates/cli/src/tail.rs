//! `leadflow tail <topic>`: decoded events as JSON lines on stdout.

use std::io::{self, BufWriter, Write};
use std::time::Duration;

use clap::Args;
use futures::FutureExt;
use leadflow_events::json::avro_to_json;
use leadflow_events::{Codec, EventKind};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::error::CliError;
use crate::kafka::{CliConfig, kind_for_topic, parse_event_kind, topic_partitions};

#[derive(Debug, Args)]
#[command(
    long_about = "Prints the events of a topic as JSON lines on stdout, one per record, in the same \
format `leadflow produce` reads and `leadflow generate` writes. Reads every partition with its own \
throw-away consumer (manual assignment, nothing committed), so it never disturbs the pipeline's \
consumer groups. Starts at the end of each partition unless --from-beginning is given. Records that \
do not decode are reported on stderr with partition, offset and reason, and tailing continues.\n\n\
Runs until Ctrl-C, --max events were printed, or no record arrived for --idle-timeout seconds.\n\
Events of configured pipeline topics are decoded into their current schema; other topics are shown \
in the shape they were written with (or give --kind).",
    after_help = "Examples:\n  leadflow tail leads.scored\n  leadflow tail leads.raw --from-beginning --max 200 --idle-timeout 20 > raw.jsonl\n  leadflow tail leads.tiered --from-beginning | jq -c 'select(.lead_level == \"HOT\")'"
)]
pub struct TailArgs {
    /// Topic to read.
    pub topic: String,
    /// Start at the earliest offsets instead of only showing new records.
    #[arg(long)]
    pub from_beginning: bool,
    /// Stop after printing this many events.
    #[arg(long, value_name = "N")]
    pub max: Option<u64>,
    /// Stop after this many seconds without a record.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub idle_timeout: Option<Duration>,
    /// Decode as this event kind (default: the kind of the topic's configured role).
    #[arg(long, value_parser = parse_event_kind)]
    pub kind: Option<EventKind>,
}

fn parse_seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if secs <= 0.0 {
        return Err("must be more than 0 seconds".into());
    }
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

/// Runs `tail` until Ctrl-C, `--max` or `--idle-timeout`.
pub async fn run(cfg: &CliConfig, args: &TailArgs) -> Result<(), CliError> {
    let kind = kind_for_topic(&cfg.topics, &args.topic, args.kind);
    let codec = Codec::from_config(cfg.registry.as_ref())?;
    let consumer = assign(cfg, &args.topic, args.from_beginning)?;
    let mut out = BufWriter::new(io::stdout().lock());
    let result = follow(&consumer, &codec, kind, args, &mut out).await;
    let flushed = out.flush();
    match (result, flushed) {
        (Err(e), _) => Err(e),
        (Ok(()), Err(e)) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(CliError::io("cannot write to stdout", e))
        }
        (Ok(()), _) => Ok(()),
    }
}

/// A consumer with a throw-away group id, assigned every partition of `topic`.
fn assign(cfg: &CliConfig, topic: &str, from_beginning: bool) -> Result<StreamConsumer, CliError> {
    let group = format!("leadflow-cli-tail-{}", uuid::Uuid::new_v4());
    let mut config = leadflow_runtime::kafka::consumer_config(cfg, &group);
    config
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("statistics.interval.ms", "0");
    let consumer: StreamConsumer = config
        .create()
        .map_err(|e| CliError::broker("cannot create a consumer", e))?;
    let partitions = topic_partitions(consumer.client(), &cfg.bootstrap_servers, topic)?;
    let start = if from_beginning {
        Offset::Beginning
    } else {
        Offset::End
    };
    let mut tpl = TopicPartitionList::new();
    for p in partitions {
        tpl.add_partition_offset(topic, p, start)
            .map_err(|e| CliError::broker("cannot build the assignment", e))?;
    }
    consumer
        .assign(&tpl)
        .map_err(|e| CliError::broker(&format!("cannot assign the partitions of {topic}"), e))?;
    Ok(consumer)
}

async fn follow(
    consumer: &StreamConsumer,
    codec: &Codec,
    kind: Option<EventKind>,
    args: &TailArgs,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let mut printed = 0u64;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        if args.max.is_some_and(|max| printed >= max) {
            return Ok(());
        }
        // take what is already there without flushing; flush before waiting
        let next = match consumer.recv().now_or_never() {
            Some(next) => next,
            None => {
                if let Err(e) = out.flush() {
                    return stdout_error(e);
                }
                tokio::select! {
                    next = consumer.recv() => next,
                    () = idle(args.idle_timeout) => return Ok(()),
                    _ = &mut ctrl_c => return Ok(()),
                }
            }
        };
        let message = match next {
            Ok(m) => m,
            Err(e) => {
                eprintln!("consumer error: {e}");
                continue;
            }
        };
        let (partition, offset) = (message.partition(), message.offset());
        let Some(payload) = message.payload() else {
            eprintln!("partition {partition} offset {offset}: tombstone (record has no value)");
            continue;
        };
        match codec.decode_value(payload, kind).await {
            Ok(value) => {
                let line = avro_to_json(&value).to_string();
                if let Err(e) = writeln!(out, "{line}") {
                    return stdout_error(e);
                }
                printed += 1;
            }
            Err(e) => eprintln!("partition {partition} offset {offset}: cannot decode: {e}"),
        }
    }
}

/// A closed pipe (`| head`) ends tailing quietly; other write errors fail.
fn stdout_error(e: io::Error) -> Result<(), CliError> {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(CliError::io("cannot write to stdout", e))
    }
}

async fn idle(timeout: Option<Duration>) {
    match timeout {
        Some(t) => tokio::time::sleep(t).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_timeout_parses_fractional_seconds() {
        assert_eq!(parse_seconds("20"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_seconds("0.5"), Ok(Duration::from_millis(500)));
        assert!(parse_seconds("0").is_err());
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("soon").is_err());
    }
}
