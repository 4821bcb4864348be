//! `leadflow trace LEAD_ID`: one lead through every topic — raw, enriched, scored, tiered, packets,
//! deliveries, activity, escalations, outcomes, exceptions — as a timeline.
//!
//! How it stays fast on large topics: every lead-scoped topic is keyed by lead id — except
//! `leads.tiered`, keyed by the lead's account, read once the enriched record told the account — so
//! the lead's records are all in one partition per topic (the producers' partitioner applied to
//! the key). The trace reads only that partition: `leads.raw` from its beginning (the lead's first event is not
//! known yet; key bytes are compared before anything is decoded), then every other topic from the
//! lead's first write minus `--skew` (`offsets_for_times`), all topics at once, up to a horizon per
//! topic after the lead's last raw event ([`horizon`]; `--full` reads to the current end).
//!
//! With a lead locator (`--locator-url`, `LEADFLOW_LOCATOR_URL`: the `leadflow-locator` service) the
//! trace asks it where the lead's records are and reads exactly those ([`by_locator`]); it falls
//! back to the scan when the locator does not answer or does not know the lead.

pub mod by_locator;
pub mod index;
pub mod locate;
pub mod scan;
pub mod timeline;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use leadflow_events::{AnyEvent, Codec, Timestamp, TopicRole};

use crate::error::CliError;
use crate::kafka::CliConfig;
use leadflow_runtime::partitioner::Partitioner;
use scan::{ScanRequest, ScanStats, scan};
use timeline::{Found, Step};

/// The topics a lead passes through, in pipeline order: every topic but the model's, the roster,
/// and the state topics (exception decisions, dedup keys, SLA outcomes).
fn lead_topics() -> impl Iterator<Item = TopicRole> {
    TopicRole::ALL.into_iter().filter(|r| {
        !matches!(
            r,
            TopicRole::ModelParams
                | TopicRole::ModelHistory
                | TopicRole::Reps
                | TopicRole::ExceptionsState
                | TopicRole::DedupKeys
                | TopicRole::SlaOutcomes
                | TopicRole::LeadState
        )
    })
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  leadflow trace lead-0042
  leadflow trace lead-0042 --json | jq '.steps[] | {hop, decision}'
  leadflow trace lead-0042 --all-partitions --stats")]
pub struct TraceArgs {
    pub lead_id: String,
    /// One JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    /// Scan every partition, not only the lead's (topics written with another partitioner).
    #[arg(long)]
    pub all_partitions: bool,
    /// Read downstream topics from this long before the lead's first event (clock skew between
    /// producers), in seconds.
    #[arg(long, default_value_t = 300)]
    pub skew: u64,
    /// Read every topic to its current end instead of stopping at each topic's horizon.
    #[arg(long)]
    pub full: bool,
    /// Do not use the local raw-topic index: scan the lead's raw partition from its beginning.
    #[arg(long)]
    pub no_index: bool,
    /// Where the raw-topic index lives (default: ~/.cache/leadflow/trace-index).
    #[arg(long, value_name = "DIR")]
    pub index_dir: Option<PathBuf>,
    /// The lead locator (`leadflow-locator`'s HTTP listener, e.g. http://locator:9100): read
    /// exactly the lead's records; the trace scans when it does not answer.
    #[arg(long, value_name = "URL", env = locate::LOCATOR_ENV)]
    pub locator_url: Option<String>,
    /// Print how many records were scanned per topic and how long it took (stderr).
    #[arg(long)]
    pub stats: bool,
}

/// How long after the lead's last raw event its records on `role` can appear: the pipeline hops
/// follow within seconds (an hour covers retries and a stage's backlog), delivery retries and
/// exceptions within a day, rep activity and SLA escalations within the longest SLA plus a holiday
/// week (14 days); outcomes come whenever sales closes, so they are read to the end.
pub fn horizon(role: TopicRole) -> Option<Duration> {
    const HOUR: u64 = 3_600;
    match role {
        TopicRole::Enriched | TopicRole::Scored | TopicRole::Tiered | TopicRole::Packets => {
            Some(Duration::from_secs(HOUR))
        }
        TopicRole::Deliveries | TopicRole::Exceptions => Some(Duration::from_secs(24 * HOUR)),
        TopicRole::Activity | TopicRole::Escalations => Some(Duration::from_secs(14 * 24 * HOUR)),
        _ => None,
    }
}

/// The trace of one lead and what finding it cost.
#[derive(Debug, Default)]
pub struct Trace {
    pub steps: Vec<Step>,
    pub scans: Vec<(String, ScanStats)>,
    /// What catching the raw index up cost, when one was used.
    pub index: Option<index::CatchUp>,
    /// What the lead locator did, when it answered.
    pub locator: Option<by_locator::LocatorUse>,
    pub elapsed: Duration,
}

/// How to trace.
#[derive(Clone, Debug)]
pub struct TraceOptions {
    /// Scan every partition, not only the lead's.
    pub all_partitions: bool,
    /// Read downstream topics from this long before the lead's first raw record.
    pub skew: Duration,
    /// Read every topic to its end (no horizons).
    pub full: bool,
    /// The raw-topic index directory (`None`: scan the lead's raw partition from its beginning).
    pub index_dir: Option<PathBuf>,
    /// The lead locator's base URL (`None`: scan).
    pub locator_url: Option<String>,
}

impl Default for TraceOptions {
    fn default() -> Self {
        Self {
            all_partitions: false,
            skew: Duration::from_secs(300),
            full: false,
            index_dir: index::default_dir(),
            locator_url: None,
        }
    }
}

/// Catches the raw index up and looks the lead up; `None` when no index is used.
async fn indexed_times(
    cfg: &CliConfig,
    dir: &std::path::Path,
    lead_id: &str,
    trace: &mut Trace,
) -> Result<Option<(Timestamp, Timestamp)>, CliError> {
    let topic = cfg.topics.name(TopicRole::Raw).to_owned();
    let path = index::file_for(dir, &cfg.bootstrap_servers, &topic);
    let owned = cfg.clone();
    let lead = lead_id.to_owned();
    let (found, caught) = tokio::task::spawn_blocking(move || {
        let mut idx = index::LeadIndex::load(&path);
        let caught = idx.catch_up(&owned, &topic)?;
        if idx.dirty() {
            idx.save(&path).map_err(|e| {
                CliError::io(format!("cannot save the trace index {}", path.display()), e)
            })?;
        }
        Ok::<_, CliError>((index::LeadIndex::lookup(&path, &lead), caught))
    })
    .await
    .map_err(|e| CliError::Internal(format!("the index task failed: {e}")))??;
    trace.index = Some(caught);
    Ok(found)
}

/// Finds and orders every event of `lead_id`.
pub async fn collect(
    cfg: &CliConfig,
    codec: &Codec,
    lead_id: &str,
    opts: &TraceOptions,
) -> Result<Trace, CliError> {
    let (all_partitions, skew, full) = (opts.all_partitions, opts.skew, opts.full);
    let started = Instant::now();
    if let (Some(url), false) = (&opts.locator_url, all_partitions) {
        match by_locator::collect(cfg, codec, lead_id, opts, url).await {
            Ok(Some(trace)) => return Ok(trace),
            Ok(None) => eprintln!("the lead locator does not know {lead_id}: scanning"),
            Err(e) => eprintln!("the lead locator could not be used ({e}): scanning"),
        }
    }
    let partitioner = if all_partitions {
        None
    } else {
        Partitioner::from_setting(cfg.kafka.get("partitioner").map(String::as_str))
    };
    let keyed = |role: TopicRole, key: &str, since: Option<Timestamp>, until: Option<Timestamp>| {
        ScanRequest {
            topic: cfg.topics.name(role).to_owned(),
            key: key.as_bytes().to_vec(),
            partitioner,
            since,
            until,
        }
    };
    let request = |role: TopicRole, since: Option<Timestamp>, until: Option<Timestamp>| {
        keyed(role, lead_id, since, until)
    };
    let mut trace = Trace::default();
    let mut found = Vec::new();
    let raw_request = match (&opts.index_dir, partitioner) {
        // the raw records lie between the indexed times: read only that stretch; a lead the
        // index does not know is not on leads.raw (the index has read all of it)
        (Some(dir), Some(_)) => indexed_times(cfg, dir, lead_id, &mut trace)
            .await?
            .map(|(first, last)| request(TopicRole::Raw, Some(first), Some(last))),
        _ => Some(request(TopicRole::Raw, None, None)),
    };
    let raw = match raw_request {
        Some(req) => run_scan(cfg, req).await?,
        None => (Vec::new(), ScanStats::default()),
    };
    let first = raw.0.iter().filter_map(|h| h.written_at).min();
    let last = raw.0.iter().filter_map(|h| h.written_at).max();
    let raw_topic = cfg.topics.name(TopicRole::Raw);
    decode_into(codec, TopicRole::Raw, raw_topic, raw.0, &mut found).await;
    trace
        .scans
        .push((cfg.topics.name(TopicRole::Raw).to_owned(), raw.1));
    let since = first.map(|t| Timestamp(t.0 - i64::try_from(skew.as_millis()).unwrap_or(0)));
    let until_of = |role: TopicRole| match (full, last, horizon(role)) {
        (false, Some(last), Some(h)) => Some(Timestamp(
            last.0 + i64::try_from(h.as_millis()).unwrap_or(i64::MAX / 2),
        )),
        _ => None,
    };
    let mut tasks = Vec::new();
    // `leads.tiered` is keyed by account (tier's POLICY.md K1): read once the account is known
    for role in lead_topics().skip(1).filter(|r| *r != TopicRole::Tiered) {
        let req = request(role, since, until_of(role));
        tasks.push(async move { (role, run_scan(cfg, req).await) });
    }
    for (role, result) in futures::future::join_all(tasks).await {
        let topic = cfg.topics.name(role).to_owned();
        let (hits, stats) = result?;
        decode_into(codec, role, &topic, hits, &mut found).await;
        trace.scans.push((topic, stats));
    }
    let account = account_of(&found).unwrap_or_else(|| lead_id.to_owned());
    let tiered = cfg.topics.name(TopicRole::Tiered).to_owned();
    let (hits, stats) = run_scan(
        cfg,
        keyed(
            TopicRole::Tiered,
            &account,
            since,
            until_of(TopicRole::Tiered),
        ),
    )
    .await?;
    let mut decisions = Vec::new();
    decode_into(codec, TopicRole::Tiered, &tiered, hits, &mut decisions).await;
    // the account's partition holds its other leads' decisions too
    found.extend(
        decisions
            .into_iter()
            .filter(|f| f.event.lead_id() == Some(lead_id)),
    );
    trace.scans.push((tiered, stats));
    trace.steps = timeline::timeline(found);
    trace.elapsed = started.elapsed();
    Ok(trace)
}

/// The lead's account, from its enriched or scored record (the key of its tier decisions).
fn account_of(found: &[Found]) -> Option<String> {
    found.iter().find_map(|f| match &f.event {
        AnyEvent::EnrichedLead(e) => Some(e.account_or_lead().to_owned()),
        AnyEvent::ScoredLead(s) => Some(s.enriched.account_or_lead().to_owned()),
        _ => None,
    })
}

async fn run_scan(
    cfg: &CliConfig,
    req: ScanRequest,
) -> Result<(Vec<scan::Hit>, ScanStats), CliError> {
    let cfg = cfg.clone();
    tokio::task::spawn_blocking(move || scan(&cfg, &req))
        .await
        .map_err(|e| CliError::Internal(format!("the scan task failed: {e}")))?
}

async fn decode_into(
    codec: &Codec,
    role: TopicRole,
    topic: &str,
    hits: Vec<scan::Hit>,
    out: &mut Vec<Found>,
) {
    let Some(kind) = role.event_kind() else {
        return;
    };
    for h in hits {
        match AnyEvent::decode(codec, kind, &h.payload).await {
            Ok(event) => out.push(Found {
                role,
                topic: topic.to_owned(),
                partition: h.partition,
                offset: h.offset,
                written_at: h.written_at,
                event,
            }),
            Err(e) => eprintln!(
                "{topic} partition {} offset {}: skipped, cannot decode: {e}",
                h.partition, h.offset
            ),
        }
    }
}

/// The JSON document `--json` prints (and the console serves).
pub fn to_json(lead_id: &str, trace: &Trace) -> serde_json::Value {
    serde_json::json!({
        "lead_id": lead_id,
        "steps": trace.steps,
        "scanned_records": trace.scans.iter().map(|(_, s)| s.scanned).sum::<u64>(),
        "elapsed_ms": u64::try_from(trace.elapsed.as_millis()).unwrap_or(u64::MAX),
        // null when the trace scanned (no locator configured, or it did not answer)
        "located_records": trace.locator.as_ref().map(|l| l.spots),
    })
}

/// Runs `trace`.
pub async fn run(cfg: &CliConfig, args: &TraceArgs) -> Result<(), CliError> {
    let codec = Codec::from_config(cfg.registry.as_ref())?;
    let opts = TraceOptions {
        all_partitions: args.all_partitions,
        skew: Duration::from_secs(args.skew),
        full: args.full,
        index_dir: if args.no_index {
            None
        } else {
            args.index_dir.clone().or_else(index::default_dir)
        },
        locator_url: args.locator_url.clone(),
    };
    let trace = collect(cfg, &codec, &args.lead_id, &opts).await?;
    if args.json {
        println!("{}", to_json(&args.lead_id, &trace));
    } else {
        print!("{}", timeline::render(&args.lead_id, &trace.steps));
    }
    if args.stats {
        for (topic, s) in &trace.scans {
            eprintln!(
                "{topic}: {} partition(s), {} records scanned in {} ms",
                s.partitions,
                s.scanned,
                s.elapsed.as_millis()
            );
        }
        if let Some(l) = &trace.locator {
            eprintln!(
                "locator: {} record(s) located in {} ms",
                l.spots,
                l.lookup.as_millis()
            );
        }
        if let Some(c) = &trace.index {
            eprintln!(
                "index: {} new records indexed in {} ms",
                c.indexed,
                c.elapsed.as_millis()
            );
        }
        eprintln!("total: {} ms", trace.elapsed.as_millis());
    }
    if trace.steps.is_empty() {
        return Err(CliError::Usage(format!(
            "no events found for lead {}",
            args.lead_id
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lead_passes_through_its_topics_in_pipeline_order() {
        let topics: Vec<TopicRole> = lead_topics().collect();
        // from the raw lead to its sales outcome, then the exceptions any stage may raise
        assert_eq!(topics.first(), Some(&TopicRole::Raw));
        assert_eq!(topics[8], TopicRole::Outcomes);
        assert_eq!(topics.last(), Some(&TopicRole::Exceptions));
        assert_eq!(topics.len(), 10, "{topics:?}");
        let tiered = topics.iter().position(|r| *r == TopicRole::Tiered);
        let packets = topics.iter().position(|r| *r == TopicRole::Packets);
        assert!(tiered < packets, "{topics:?}");
    }
}
