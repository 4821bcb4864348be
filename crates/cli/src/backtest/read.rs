//! A backtest's two big reads, each in one pass on a thread of its own and both at once: the leads
//! (scored by both models as they arrive; only the scores are kept) and the outcomes (a label per
//! lead). Records are decoded straight from the client's buffers, nothing is collected first, so
//! the work on a record overlaps the broker's fetch of the next ones and memory stays at the scores.

use std::collections::HashMap;
use std::sync::Arc;

use leadflow_events::{Codec, EnrichedLead, LeadOutcome, ScoredLead, Timestamp, TopicRole};
use leadflow_recalibrate::join::label_of;
use leadflow_runtime::topic_range::{RangeSpec, TopicRange};
use leadflow_score::Model;
use rdkafka::message::{BorrowedMessage, Message};
use tokio::runtime::Handle;

use super::report::Scored;
use crate::error::CliError;
use crate::kafka::{CliConfig, scan_config};

/// What the leads' read needs besides the broker.
pub struct LeadsRead {
    pub role: TopicRole,
    pub live: Arc<Model>,
    pub candidate: Arc<Model>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Show a progress bar (records read of the topic's range).
    pub progress: bool,
}

/// Every lead of the range (lead event time in `since..until`) on the role's topic, by lead id,
/// scored by both models; a lead's last record wins. `converted` is left unknown.
pub async fn leads(
    cfg: &CliConfig,
    codec: Arc<Codec>,
    read: LeadsRead,
) -> Result<HashMap<String, Scored>, CliError> {
    let topic = cfg.topics.name(read.role).to_owned();
    let config = scan_config(cfg, "backtest");
    let handle = Handle::current();
    blocking(move || {
        let mut range = TopicRange::open(&config, RangeSpec::whole(topic.clone()))?;
        let bar = read.progress.then(|| progress_bar(&range));
        let mut leads: HashMap<String, Scored> = HashMap::new();
        range.for_each(|m| {
            if let Some(b) = &bar {
                b.inc(1);
            }
            let Some(lead) = decode_lead(&handle, &codec, read.role, &topic, m) else {
                return;
            };
            let at = lead.lead.occurred_at;
            if read.since.is_some_and(|s| at < s) || read.until.is_some_and(|u| at >= u) {
                return;
            }
            let scored = Scored::of(&lead, &read.live, &read.candidate, None);
            leads.insert(lead.lead.lead_id, scored);
        })?;
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        Ok(leads)
    })
    .await
}

/// Converted (SQL or later) or not, per lead id, from every outcome on the outcomes topic; a lead
/// with any converting outcome counts as converted.
pub async fn labels(cfg: &CliConfig, codec: Arc<Codec>) -> Result<HashMap<String, bool>, CliError> {
    let topic = cfg.topics.outcomes.clone();
    let config = scan_config(cfg, "backtest");
    let handle = Handle::current();
    blocking(move || {
        let mut range = TopicRange::open(&config, RangeSpec::whole(topic.clone()))?;
        let mut labels: HashMap<String, bool> = HashMap::new();
        range.for_each(|m| {
            let Some(payload) = m.payload() else {
                return;
            };
            match handle.block_on(codec.decode::<LeadOutcome>(payload)) {
                Ok(o) => {
                    if let Some(y) = label_of(o.stage) {
                        let l = labels.entry(o.lead_id).or_insert(y);
                        *l = *l || y;
                    }
                }
                Err(e) => undecodable(&topic, m, &e),
            }
        })?;
        Ok(labels)
    })
    .await
}

/// The enriched lead of a leads record; `None` for a tombstone or a record that does not decode
/// (reported).
fn decode_lead(
    handle: &Handle,
    codec: &Codec,
    role: TopicRole,
    topic: &str,
    m: &BorrowedMessage<'_>,
) -> Option<EnrichedLead> {
    let payload = m.payload()?;
    let decoded = match role {
        TopicRole::Scored => handle
            .block_on(codec.decode::<ScoredLead>(payload))
            .map(|s| s.enriched),
        _ => handle.block_on(codec.decode::<EnrichedLead>(payload)),
    };
    decoded.map_err(|e| undecodable(topic, m, &e)).ok()
}

fn undecodable(topic: &str, m: &BorrowedMessage<'_>, e: &dyn std::fmt::Display) {
    eprintln!(
        "{topic} partition {} offset {}: cannot decode: {e}",
        m.partition(),
        m.offset()
    );
}

fn progress_bar(range: &TopicRange) -> indicatif::ProgressBar {
    let total: i64 = range.ranges().iter().map(|r| r.len()).sum();
    let b = indicatif::ProgressBar::new(u64::try_from(total).unwrap_or(0));
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "reading and scoring {bar:40} {pos}/{len} records ({eta} left)",
    ) {
        b.set_style(style);
    }
    b
}

/// Runs a blocking read on a thread of its own (its decoding may await the schema registry through
/// `Handle::block_on`, which the runtime's thread drives meanwhile).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CliError> + Send + 'static,
) -> Result<T, CliError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| CliError::Internal(format!("a backtest read failed: {e}")))?
}
