//! `leadflow replay`: re-drives a time or offset range of a topic into the pipeline by re-producing
//! its records unchanged (same key, same Avro payload, so the same event ids, packet ids and
//! idempotency keys): stages downstream treat them as the redeliveries they are, and notify's
//! per-packet-and-channel idempotency keys keep Slack / CRM / email from receiving anything twice.

use clap::Args;
use leadflow_events::{AnyEvent, Codec, Timestamp};
use leadflow_runtime::topic_range::{
    PartitionRange, Partitions, RangeItem, RangeSpec, RangeStart, TopicRange,
};

use crate::error::CliError;
use crate::kafka::{CliConfig, kind_for_topic, range_config};
use crate::sink::Sink;

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
    let mut spec = RangeSpec::whole(args.topic.clone());
    if let Some(p) = args.partition {
        spec.partitions = Partitions::Only(vec![p]);
    }
    spec.start = match (args.since, args.from_offset) {
        (Some(since), _) => RangeStart::Time(since.0),
        (None, Some(offset)) => RangeStart::Offset(offset),
        (None, None) => RangeStart::Beginning,
    };
    spec.end_offset = args.to_offset.map(|last| last.saturating_add(1));
    spec.stop_at_time = args.until.map(|until| until.0);
    let reader = TopicRange::open_async(&range_config(cfg, "replay"), spec).await?;
    let ranges = reader.ranges().to_vec();
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
    if ranges.iter().all(PartitionRange::is_empty) {
        eprintln!("nothing to replay");
        return Ok(());
    }
    let codec = Codec::from_config(cfg.registry.as_ref())?;
    let kind = kind_for_topic(&cfg.topics, &args.topic, None);
    let mut sink = if args.dry_run {
        None
    } else {
        Some(Sink::connect(cfg, &target)?)
    };
    let mut records = reader.spawn();
    let mut sent = 0u64;
    loop {
        let record = match records.next().await {
            None => {
                return Err(CliError::Broker(format!(
                    "reading {} stopped before its end",
                    args.topic
                )));
            }
            Some(item) => match item? {
                RangeItem::Record(r) => r,
                RangeItem::CaughtUp => break,
                RangeItem::Reached { .. } => continue,
                RangeItem::Stalled(e) => return Err(e.into()),
            },
        };
        let (p, offset) = (record.partition, record.offset);
        let key = record
            .key
            .map(|k| String::from_utf8_lossy(&k).into_owned())
            .unwrap_or_default();
        let payload = record.payload.unwrap_or_default();
        match &mut sink {
            None => {
                let what = match kind {
                    Some(k) => match AnyEvent::decode(&codec, k, &payload).await {
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
            Some(s) => s.send(&key, &payload).await?,
        }
        sent += 1;
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
