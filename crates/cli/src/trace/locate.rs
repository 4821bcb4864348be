//! Tracing with the lead locator (`leadflow-locator`): one HTTP lookup gives where the lead's
//! records are on every topic the locator reads (partition, offset); one consumer is then
//! `assign`ed at those offsets and reads exactly those records (and, past a flagged gap or between
//! records less than [`MERGE_GAP`] apart, the stretch between them). No scan from a partition's
//! beginning, no `offsets_for_times`, no watermark requests, one consumer for every topic.
//!
//! Anything the locator cannot answer (unreachable, not caught up, lead unknown) makes the trace
//! fall back to the scan; a record read at a spot whose key is not the lead's (a stale locator) is
//! skipped, like any record of another key in a scan.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use leadflow_locator::{Located, Spot};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use leadflow_events::Timestamp;

use super::scan::{Hit, ScanStats};
use crate::error::CliError;
use crate::kafka::{CliConfig, scan_config};

/// Spots of one partition closer than this many offsets are read as one stretch.
pub const MERGE_GAP: i64 = 64;
/// A read that gets no record for this long gives up (the trace falls back to the scan).
const STALL: Duration = Duration::from_secs(5);
/// How long the lookup may take.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);

/// The environment variable `--locator-url` defaults to.
pub const LOCATOR_ENV: &str = "LEADFLOW_LOCATOR_URL";

/// One stretch of one partition to read: `first..=last`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stretch {
    pub topic: String,
    pub partition: i32,
    pub first: i64,
    pub last: i64,
}

/// Asks the locator at `base` where `key`'s records are: `Ok(None)` when it does not know the key.
pub async fn lookup(base: &str, key: &str) -> Result<Option<Located>, String> {
    let url = format!(
        "{}/v1/leads/{}",
        base.trim_end_matches('/'),
        percent_encode(key)
    );
    let client = reqwest::Client::builder()
        .timeout(LOOKUP_TIMEOUT)
        .build()
        .map_err(|e| e.to_string())?;
    let answer = client.get(&url).send().await.map_err(|e| e.to_string())?;
    match answer.status().as_u16() {
        200 => answer
            .json::<Located>()
            .await
            .map(Some)
            .map_err(|e| format!("{url}: {e}")),
        404 => Ok(None),
        s => Err(format!("{url} answered {s}")),
    }
}

/// Path-segment encoding of a key (unreserved characters kept).
fn percent_encode(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The stretches to read for `spots`, in rounds: round *i* holds the *i*-th stretch of every
/// partition (a consumer reads one position per partition at a time). Pure.
pub fn plan(spots: &[Spot]) -> Vec<Vec<Stretch>> {
    let mut by_partition: BTreeMap<(&str, i32), Vec<&Spot>> = BTreeMap::new();
    for s in spots {
        by_partition
            .entry((s.topic.as_str(), s.partition))
            .or_default()
            .push(s);
    }
    let mut rounds: Vec<Vec<Stretch>> = Vec::new();
    for ((topic, partition), mut spots) in by_partition {
        spots.sort_by_key(|s| s.offset);
        let mut stretches: Vec<Stretch> = Vec::new();
        for s in spots {
            match stretches.last_mut() {
                Some(st) if s.gap_before || s.offset - st.last <= MERGE_GAP => {
                    st.last = st.last.max(s.offset);
                }
                _ => stretches.push(Stretch {
                    topic: topic.to_owned(),
                    partition,
                    first: s.offset,
                    last: s.offset,
                }),
            }
        }
        for (i, st) in stretches.into_iter().enumerate() {
            if rounds.len() <= i {
                rounds.push(Vec::new());
            }
            rounds[i].push(st);
        }
    }
    rounds
}

/// Reads the planned stretches with one consumer and keeps the records keyed `key`: per topic, its
/// hits and what the read cost. Blocking (call from `spawn_blocking`).
pub fn read(
    cfg: &CliConfig,
    rounds: &[Vec<Stretch>],
    key: &[u8],
) -> Result<BTreeMap<String, (Vec<Hit>, ScanStats)>, CliError> {
    let mut out: BTreeMap<String, (Vec<Hit>, ScanStats)> = BTreeMap::new();
    if rounds.is_empty() {
        return Ok(out);
    }
    let started = Instant::now();
    let mut config = scan_config(cfg, "trace-locate");
    // a stretch below the log start (retention) starts at the earliest record, past its end.
    // The scan's fetch sizes are kept: with 1 MB per partition tansu took longer than the 5 s stall
    // limit to answer a fetch deep in a 167,000-record partition (benches/README.md, Trace)
    config.set("auto.offset.reset", "earliest");
    let consumer: BaseConsumer = config
        .create()
        .map_err(|e| CliError::Internal(format!("cannot create a consumer: {e}")))?;
    for round in rounds {
        let mut assignment = TopicPartitionList::new();
        for st in round {
            assignment
                .add_partition_offset(&st.topic, st.partition, Offset::Offset(st.first))
                .map_err(|e| CliError::Internal(format!("cannot assign {}: {e}", st.topic)))?;
            let entry = out.entry(st.topic.clone()).or_default();
            entry.1.partitions += 1;
        }
        consumer
            .assign(&assignment)
            .map_err(|e| CliError::Internal(format!("cannot assign: {e}")))?;
        let mut open: BTreeMap<(&str, i32), i64> = round
            .iter()
            .map(|st| ((st.topic.as_str(), st.partition), st.last))
            .collect();
        let mut last_progress = Instant::now();
        while !open.is_empty() {
            if last_progress.elapsed() > STALL {
                return Err(CliError::Internal(format!(
                    "no record for {} s reading {} stretch(es) the locator gave",
                    STALL.as_secs(),
                    open.len()
                )));
            }
            let Some(polled) = consumer.poll(Duration::from_millis(50)) else {
                continue;
            };
            let m = polled.map_err(|e| CliError::Internal(format!("read failed: {e}")))?;
            let Some(last) = open.get(&(m.topic(), m.partition())).copied() else {
                continue; // a partition already done
            };
            last_progress = Instant::now();
            let entry = out.entry(m.topic().to_owned()).or_default();
            if m.offset() <= last {
                entry.1.scanned += 1;
                if m.key() == Some(key) {
                    if let Some(payload) = m.payload() {
                        entry.0.push(Hit {
                            partition: m.partition(),
                            offset: m.offset(),
                            written_at: m.timestamp().to_millis().map(Timestamp),
                            payload: payload.to_vec(),
                        });
                    }
                }
            }
            if m.offset() >= last {
                let (topic, partition) = (m.topic(), m.partition());
                open.retain(|(t, p), _| !(*t == topic && *p == partition));
            }
        }
    }
    let elapsed = started.elapsed();
    for (_, stats) in out.values_mut() {
        stats.elapsed = elapsed;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spot(topic: &str, partition: i32, offset: i64, gap_before: bool) -> Spot {
        Spot {
            topic: topic.into(),
            partition,
            offset,
            written_at_ms: 0,
            gap_before,
        }
    }

    #[test]
    fn close_spots_are_one_stretch_far_ones_another_round() {
        let rounds = plan(&[
            spot("leads.raw", 2, 1_000, false),
            spot("leads.scored", 5, 70, false),
            spot("leads.raw", 2, 1_030, false),
            spot("leads.raw", 2, 90_000, false),
            spot("leads.raw", 2, 500_000, true),
        ]);
        let st = |t: &str, p, first, last| Stretch {
            topic: t.into(),
            partition: p,
            first,
            last,
        };
        assert_eq!(
            rounds,
            vec![
                vec![
                    st("leads.raw", 2, 1_000, 1_030),
                    st("leads.scored", 5, 70, 70)
                ],
                // a flagged gap is read whole: the key's records between were not booked
                vec![st("leads.raw", 2, 90_000, 500_000)],
            ]
        );
        assert!(plan(&[]).is_empty());
    }

    #[test]
    fn keys_are_encoded_as_one_path_segment() {
        assert_eq!(percent_encode("lead-0042"), "lead-0042");
        assert_eq!(percent_encode("a/b c"), "a%2Fb%20c");
        assert_eq!(percent_encode("é"), "%C3%A9");
    }
}
