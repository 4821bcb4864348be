//! `leadflow replay`: re-drives a time or offset range of a topic into the pipeline by re-producing
//! its records unchanged (same key, same Avro payload, so the same event ids, packet ids and
//! idempotency keys): stages downstream treat them as the redeliveries they are, and notify's
//! per-packet-and-channel idempotency keys keep Slack / CRM / email from receiving anything twice.

pub mod range;

use std::collections::BTreeMap;

use clap::Args;
use leadflow_events::{AnyEvent, Codec, Timestamp};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::error::CliError;
use crate::kafka::{CliConfig, METADATA_TIMEOUT, kind_for_topic, topic_partitions};
use crate::sink::Sink;
use range::{PartitionRange, clamp};

#[derive(Debug, Args)]
#[command(
    long_about = "Re-produces a range of a topic's records, unchanged (key, Avro payload, so event \
ids and idempotency keys too), to the same topic or to --to: e.g. leads.enriched after a scoring \
rule fix re-scores, re-tiers and re-routes those leads, and notify delivers nothing twice (its \
idempotency key is the packet's). The range is by offsets (--from-offset/--to-offset, inclusive, \
per partition) or by record time (--since/--until). --dry-run prints what would be re-produced and \
sends nothing.\n\nNote: enrich drops an event id it has seen within its dedup window, so replaying \
leads.raw re-processes only events older than that window; replay leads.enriched (or later) to \
re-drive leads through a fixed stage.",
    after_help = "Examples:\n  leadflow replay leads.enriched --since 2026-11-29T00:00:00Z --dry-run\n  leadflow replay leads.enriched --since 2026-11-29T00:00:00Z --until 2026-11-30T00:00:00Z\n  leadflow replay leads.scored --partition 2 --from-offset 1200 --to-offset 1300\n  leadflow replay leads.outcomes --to leads.outcomes.backfill"
)]
pub struct ReplayArgs {
    /// The topic to read.
    pub topic: String,
    /// Re-produce to this topic instead of the same one.
    #[arg(long)]
    pub to: Option<String>,
    /// Only this partition.
    #[arg(long)]
    pub partition: Option<i32>,
    /// First offset (inclusive, per partition).
    #[arg(long, conflicts_with = "since")]
    pub from_offset: Option<i64>,
    /// Last offset (inclusive, per partition).
    #[arg(long, conflicts_with = "until")]
    pub to_offset: Option<i64>,
    /// Records with a record time from this instant (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    pub since: Option<Timestamp>,
    /// Records with a record time before this instant (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    pub until: Option<Timestamp>,
    /// Print what would be re-produced; send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    Timestamp::parse_rfc3339(s).map_err(|e| format!("{s:?} is not an RFC 3339 time: {e}"))
}

/// Runs `replay`.
pub async fn run(cfg: &CliConfig, args: &ReplayArgs) -> Result<(), CliError> {
    let group = format!("leadflow-cli-replay-{}", uuid::Uuid::new_v4());
    let mut config = leadflow_runtime::kafka::consumer_config(cfg, &group);
    config
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false");
    let consumer: StreamConsumer = config
        .create()
        .map_err(|e| CliError::broker("cannot create a consumer", e))?;
    let mut partitions = topic_partitions(consumer.client(), &cfg.bootstrap_servers, &args.topic)?;
    if let Some(p) = args.partition {
        if !partitions.contains(&p) {
            return Err(CliError::Usage(format!(
                "{} has no partition {p} (it has {partitions:?})",
                args.topic
            )));
        }
        partitions = vec![p];
    }
    // starts by time resolve to offsets first
    let mut by_time: BTreeMap<i32, i64> = BTreeMap::new();
    if let Some(since) = args.since {
        let mut tpl = TopicPartitionList::new();
        for p in &partitions {
            tpl.add_partition_offset(&args.topic, *p, Offset::Offset(since.0))
                .map_err(|e| CliError::broker("cannot build the assignment", e))?;
        }
        let found = consumer
            .offsets_for_times(tpl, METADATA_TIMEOUT)
            .map_err(|e| CliError::broker("cannot look up offsets by time", e))?;
        for e in found.elements() {
            let o = match e.offset() {
                Offset::Offset(o) => o,
                _ => i64::MAX, // nothing at or after `since`
            };
            by_time.insert(e.partition(), o);
        }
    }
    let mut ranges = Vec::new();
    for p in &partitions {
        let marks = consumer
            .fetch_watermarks(&args.topic, *p, METADATA_TIMEOUT)
            .map_err(|e| CliError::broker(&format!("cannot read the end of {}", args.topic), e))?;
        let from = by_time.get(p).copied().or(args.from_offset);
        ranges.push(clamp(*p, marks, from, args.to_offset));
    }
    let total: i64 = ranges.iter().map(PartitionRange::len).sum();
    let target = args.to.clone().unwrap_or_else(|| args.topic.clone());
    eprintln!(
        "{} {} at most {total} records of {} to {target}:",
        if args.dry_run {
            "would re-produce"
        } else {
            "re-producing"
        },
        if args.until.is_some() {
            "(until the --until time)"
        } else {
            ""
        },
        args.topic
    );
    for r in &ranges {
        eprintln!(
            "  partition {}: offsets {}..{} ({} records)",
            r.partition,
            r.start,
            r.end,
            r.len()
        );
    }
    let todo: Vec<PartitionRange> = ranges.into_iter().filter(|r| !r.is_empty()).collect();
    if todo.is_empty() {
        eprintln!("nothing to replay");
        return Ok(());
    }
    let mut tpl = TopicPartitionList::new();
    for r in &todo {
        tpl.add_partition_offset(&args.topic, r.partition, Offset::Offset(r.start))
            .map_err(|e| CliError::broker("cannot build the assignment", e))?;
    }
    consumer
        .assign(&tpl)
        .map_err(|e| CliError::broker(&format!("cannot assign {}", args.topic), e))?;
    let codec = Codec::from_config(cfg.registry.as_ref())?;
    let kind = kind_for_topic(&cfg.topics, &args.topic, None);
    let mut sink = if args.dry_run {
        None
    } else {
        Some(Sink::connect(cfg, &target)?)
    };
    let mut open: BTreeMap<i32, i64> = todo.iter().map(|r| (r.partition, r.end)).collect();
    let mut sent = 0u64;
    while !open.is_empty() {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(30), consumer.recv())
            .await
            .map_err(|_| CliError::Broker(format!("no record from {} for 30 s", args.topic)))?
            .map_err(|e| CliError::broker("cannot read", e))?;
        let (p, offset) = (msg.partition(), msg.offset());
        let Some(end) = open.get(&p).copied() else {
            continue;
        };
        let past_until = args
            .until
            .is_some_and(|u| msg.timestamp().to_millis().is_some_and(|t| t >= u.0));
        if offset >= end || past_until {
            open.remove(&p);
            continue;
        }
        let key = msg
            .key()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .unwrap_or_default();
        let payload = msg.payload().unwrap_or_default();
        match &mut sink {
            None => {
                let what = match kind {
                    Some(k) => match AnyEvent::decode(&codec, k, payload).await {
                        Ok(e) => format!(
                            "{} lead {}",
                            crate::kafka::kind_name(e.kind()),
                            e.lead_id().unwrap_or("-")
                        ),
                        Err(e) => format!("undecodable ({e})"),
                    },
                    None => format!("{} bytes", payload.len()),
                };
                println!("{}\t{p}\t{offset}\t{key}\t{what}", args.topic);
            }
            Some(s) => s.send(&key, payload).await?,
        }
        sent += 1;
        if offset + 1 >= end {
            open.remove(&p);
        }
    }
    match sink {
        Some(mut s) => {
            let delivered = s.finish().await?;
            eprintln!("re-produced {delivered} records to {target}");
        }
        None => eprintln!("{sent} records would be re-produced (dry run: nothing sent)"),
    }
    Ok(())
}
