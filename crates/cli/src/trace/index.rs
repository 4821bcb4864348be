//! A local index of `leads.raw`: lead id → the times of its first and last raw record, and per
//! partition the next offset to index. `trace` catches it up (reads only the records written since
//! the last call, keys only) and then reads the lead's partition between those times, instead of
//! scanning the partition from its beginning on every call.
//!
//! One file per cluster and topic under the index directory (`~/.cache/leadflow/trace-index` by
//! default), written to a temporary file and renamed, so concurrent `trace` calls never see half a
//! file (the last writer wins; both are complete).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use leadflow_events::Timestamp;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::error::CliError;
use crate::kafka::{CliConfig, METADATA_TIMEOUT, topic_partitions};

const HEADER: &str = "leadflow-trace-index v1";

/// The index of one topic.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LeadIndex {
    /// partition → next offset to index.
    pub next: BTreeMap<i32, i64>,
    /// lead id → (first, last) write time in ms.
    pub leads: HashMap<String, (i64, i64)>,
}

/// What a catch-up cost.
#[derive(Clone, Debug, Default)]
pub struct CatchUp {
    pub indexed: u64,
    pub elapsed: Duration,
}

/// The default index directory: `$XDG_CACHE_HOME/leadflow/trace-index` or
/// `~/.cache/leadflow/trace-index`.
pub fn default_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|c| c.join("leadflow").join("trace-index"))
}

/// The index file of `topic` on the cluster at `bootstrap`.
pub fn file_for(dir: &Path, bootstrap: &str, topic: &str) -> PathBuf {
    let safe: String = format!("{bootstrap}_{topic}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!("{safe}.idx"))
}

impl LeadIndex {
    /// Reads an index file; a missing or unreadable file is an empty index (rebuilt on catch-up).
    pub fn load(path: &Path) -> LeadIndex {
        let Ok(file) = std::fs::File::open(path) else {
            return LeadIndex::default();
        };
        let mut lines = BufReader::new(file).lines();
        if !matches!(lines.next(), Some(Ok(h)) if h == HEADER) {
            return LeadIndex::default();
        }
        let mut index = LeadIndex::default();
        for line in lines {
            let Ok(line) = line else {
                return LeadIndex::default();
            };
            let mut f = line.split('\t');
            match (f.next(), f.next(), f.next(), f.next()) {
                (Some("P"), Some(p), Some(o), None) => {
                    if let (Ok(p), Ok(o)) = (p.parse(), o.parse()) {
                        index.next.insert(p, o);
                    }
                }
                (Some("L"), Some(id), Some(a), Some(b)) => {
                    if let (Ok(a), Ok(b)) = (a.parse(), b.parse()) {
                        index.leads.insert(id.to_owned(), (a, b));
                    }
                }
                _ => return LeadIndex::default(),
            }
        }
        index
    }

    /// Writes the index (temporary file, then rename).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        {
            let mut w = BufWriter::new(std::fs::File::create(&tmp)?);
            writeln!(w, "{HEADER}")?;
            for (p, o) in &self.next {
                writeln!(w, "P\t{p}\t{o}")?;
            }
            for (id, (a, b)) in &self.leads {
                writeln!(w, "L\t{id}\t{a}\t{b}")?;
            }
            w.flush()?;
        }
        std::fs::rename(&tmp, path)
    }

    /// Records one raw record of `key` written at `at`.
    pub fn add(&mut self, key: &str, at: i64) {
        if key.contains(['\t', '\n', '\r']) {
            return; // cannot be stored; such a lead is traced by scanning
        }
        self.leads
            .entry(key.to_owned())
            .and_modify(|(a, b)| {
                *a = (*a).min(at);
                *b = (*b).max(at);
            })
            .or_insert((at, at));
    }

    /// The first and last write times of a lead's raw records.
    pub fn lookup(&self, lead_id: &str) -> Option<(Timestamp, Timestamp)> {
        self.leads
            .get(lead_id)
            .map(|(a, b)| (Timestamp(*a), Timestamp(*b)))
    }

    /// Reads every partition of `topic` from the indexed offset to its current end (keys and
    /// timestamps only). A partition whose end is below the indexed offset (the topic was
    /// re-created) is indexed again from its beginning.
    pub fn catch_up(&mut self, cfg: &CliConfig, topic: &str) -> Result<CatchUp, CliError> {
        let started = Instant::now();
        let group = format!("leadflow-cli-trace-index-{}", uuid::Uuid::new_v4());
        let mut config = leadflow_runtime::kafka::consumer_config(cfg, &group);
        config
            .set("enable.auto.commit", "false")
            .set("statistics.interval.ms", "0")
            .set("fetch.wait.max.ms", "10")
            .set("queued.min.messages", "200000")
            .set("fetch.max.bytes", "52428800")
            .set("max.partition.fetch.bytes", "10485760")
            .remove("partitioner");
        let consumer: BaseConsumer = config
            .create()
            .map_err(|e| CliError::broker("cannot create a consumer", e))?;
        let partitions = topic_partitions(consumer.client(), &cfg.bootstrap_servers, topic)?;
        let mut remaining = HashMap::new();
        let mut tpl = TopicPartitionList::new();
        for p in partitions {
            let (low, high) = consumer
                .fetch_watermarks(topic, p, METADATA_TIMEOUT)
                .map_err(|e| CliError::broker(&format!("cannot read the end of {topic}"), e))?;
            let mut from = self.next.get(&p).copied().unwrap_or(low);
            if from > high {
                // the topic was re-created: everything indexed for it is stale
                self.leads.clear();
                self.next.clear();
                return self.catch_up(cfg, topic);
            }
            from = from.max(low);
            self.next.insert(p, from);
            if from < high {
                remaining.insert(p, high);
                tpl.add_partition_offset(topic, p, Offset::Offset(from))
                    .map_err(|e| CliError::broker("cannot build the assignment", e))?;
            }
        }
        let mut done = CatchUp::default();
        if !remaining.is_empty() {
            consumer.assign(&tpl).map_err(|e| {
                CliError::broker(&format!("cannot assign the partitions of {topic}"), e)
            })?;
        }
        let mut idle_since = Instant::now();
        while !remaining.is_empty() {
            let Some(result) = consumer.poll(Duration::from_millis(500)) else {
                if idle_since.elapsed() > Duration::from_secs(30) {
                    return Err(CliError::Broker(format!(
                        "indexing {topic} stalled for 30 s"
                    )));
                }
                continue;
            };
            idle_since = Instant::now();
            let m = result.map_err(|e| CliError::broker(&format!("cannot read {topic}"), e))?;
            let (p, o) = (m.partition(), m.offset());
            if let (Some(key), Some(at)) = (
                m.key().and_then(|k| std::str::from_utf8(k).ok()),
                m.timestamp().to_millis(),
            ) {
                self.add(key, at);
            }
            done.indexed += 1;
            self.next.insert(p, o + 1);
            if remaining.get(&p).is_some_and(|high| o + 1 >= *high) {
                remaining.remove(&p);
            }
        }
        done.elapsed = started.elapsed();
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_round_trips_and_keeps_first_and_last_times() {
        let mut i = LeadIndex::default();
        i.add("lead-1", 500);
        i.add("lead-1", 100);
        i.add("lead-1", 900);
        i.add("bad\tkey", 1);
        i.next.insert(0, 42);
        assert_eq!(i.lookup("lead-1"), Some((Timestamp(100), Timestamp(900))));
        assert_eq!(i.lookup("bad\tkey"), None);
        let dir = tempfile::tempdir().expect("dir");
        let path = file_for(dir.path(), "127.0.0.1:9092", "leads.raw");
        assert!(
            path.to_string_lossy()
                .ends_with("127.0.0.1_9092_leads.raw.idx")
        );
        i.save(&path).expect("saved");
        assert_eq!(LeadIndex::load(&path), i);
        std::fs::write(&path, "garbage").expect("write");
        assert_eq!(LeadIndex::load(&path), LeadIndex::default());
    }
}
