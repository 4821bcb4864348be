//! The trace when the lead locator answers: one lookup, one read of exactly the lead's records
//! (`locate`), then — only for topics the locator does not read — the time-bounded scan of
//! [`super::collect`]; the tier decisions (keyed by account) through a second lookup of the account.

use std::time::{Duration, Instant};

use leadflow_events::{Codec, Timestamp, TopicRole};
use leadflow_runtime::partitioner::Partitioner;

use super::locate::{self, Stretch};
use super::scan::ScanRequest;
use super::timeline::Found;
use super::{Trace, TraceOptions, account_of, decode_into, horizon, lead_topics, run_scan};
use crate::error::CliError;
use crate::kafka::CliConfig;

/// What the locator did for a trace.
#[derive(Clone, Debug, Default)]
pub struct LocatorUse {
    /// Records of the lead (and its account's tier decisions) the locator pointed at.
    pub spots: usize,
    /// Time of the lookups.
    pub lookup: Duration,
}

/// Traces `lead_id` with the locator at `url`; `Ok(None)` when the locator does not know the lead
/// (the caller scans), `Err` with why it could not be used.
pub async fn collect(
    cfg: &CliConfig,
    codec: &Codec,
    lead_id: &str,
    opts: &TraceOptions,
    url: &str,
) -> Result<Option<Trace>, String> {
    let started = Instant::now();
    let Some(located) = locate::lookup(url, lead_id).await? else {
        return Ok(None);
    };
    let mut used = LocatorUse {
        spots: located.spots.len(),
        lookup: started.elapsed(),
    };
    let mut trace = Trace::default();
    let mut found = Vec::new();
    read_into(
        cfg,
        codec,
        &locate::plan(&located.spots),
        lead_id,
        &mut trace,
        &mut found,
    )
    .await?;
    let raw = cfg.topics.name(TopicRole::Raw);
    let raw_times = located
        .spots
        .iter()
        .filter(|s| s.topic == raw)
        .map(|s| s.written_at_ms);
    let (first, last) = (raw_times.clone().min(), raw_times.max());
    let since = first.map(|t| Timestamp(t - i64::try_from(opts.skew.as_millis()).unwrap_or(0)));
    let until_of = |role: TopicRole| match (opts.full, last, horizon(role)) {
        (false, Some(last), Some(h)) => Some(Timestamp(
            last + i64::try_from(h.as_millis()).unwrap_or(i64::MAX / 2),
        )),
        _ => None,
    };
    let partitioner = Partitioner::from_setting(cfg.kafka.get("partitioner").map(String::as_str));
    let request = |role: TopicRole, key: &str| ScanRequest {
        topic: cfg.topics.name(role).to_owned(),
        key: key.as_bytes().to_vec(),
        partitioner,
        since,
        until: until_of(role),
    };
    let covered = |role: TopicRole| located.covers.iter().any(|t| t == cfg.topics.name(role));
    // topics the locator does not read: scanned by time as without it
    let mut tasks = Vec::new();
    for role in lead_topics().filter(|r| *r != TopicRole::Tiered && !covered(*r)) {
        let req = request(role, lead_id);
        tasks.push(async move { (role, run_scan(cfg, req).await) });
    }
    for (role, result) in futures::future::join_all(tasks).await {
        let topic = cfg.topics.name(role).to_owned();
        let (hits, stats) = result.map_err(|e| e.to_string())?;
        decode_into(codec, role, &topic, hits, &mut found).await;
        trace.scans.push((topic, stats));
    }
    // tier decisions are keyed by the lead's account
    let account = account_of(&found).unwrap_or_else(|| lead_id.to_owned());
    let tiered = cfg.topics.name(TopicRole::Tiered).to_owned();
    let mut decisions = Vec::new();
    if account != lead_id && covered(TopicRole::Tiered) {
        let asked = Instant::now();
        let spots: Vec<_> = locate::lookup(url, &account)
            .await?
            .map(|l| l.spots)
            .unwrap_or_default()
            .into_iter()
            .filter(|s| s.topic == tiered)
            .collect();
        used.lookup += asked.elapsed();
        used.spots += spots.len();
        let mut by_account = Trace::default();
        read_into(
            cfg,
            codec,
            &locate::plan(&spots),
            &account,
            &mut by_account,
            &mut decisions,
        )
        .await?;
        trace.scans.extend(by_account.scans);
    } else if !covered(TopicRole::Tiered) {
        let (hits, stats) = run_scan(cfg, request(TopicRole::Tiered, &account))
            .await
            .map_err(|e| e.to_string())?;
        decode_into(codec, TopicRole::Tiered, &tiered, hits, &mut decisions).await;
        trace.scans.push((tiered, stats));
    }
    found.extend(
        decisions
            .into_iter()
            .filter(|f| f.event.lead_id() == Some(lead_id)),
    );
    // the lead's own key on leads.tiered (a producer keyed by lead): keep its decisions only
    found.retain(|f| f.role != TopicRole::Tiered || f.event.lead_id() == Some(lead_id));
    trace.steps = super::timeline::timeline(found);
    trace.locator = Some(used);
    trace.elapsed = started.elapsed();
    Ok(Some(trace))
}

/// Reads `rounds`, keeps the records keyed `key`, decodes them into `found`.
async fn read_into(
    cfg: &CliConfig,
    codec: &Codec,
    rounds: &[Vec<Stretch>],
    key: &str,
    trace: &mut Trace,
    found: &mut Vec<Found>,
) -> Result<(), String> {
    let (owned, rounds_owned, key_owned) = (cfg.clone(), rounds.to_vec(), key.as_bytes().to_vec());
    let read = tokio::task::spawn_blocking(move || locate::read(&owned, &rounds_owned, &key_owned))
        .await
        .map_err(|e| format!("the read task failed: {e}"))?
        .map_err(|e: CliError| e.to_string())?;
    for (topic, (hits, stats)) in read {
        let Some(role) = cfg.topics.role_of(&topic) else {
            continue;
        };
        decode_into(codec, role, &topic, hits, found).await;
        trace.scans.push((topic, stats));
    }
    Ok(())
}
