//! A local index of `leads.raw`: one line per raw record (`L<TAB>lead id<TAB>write time ms`) in an
//! append-only file, and per partition the next offset to index in a small side file. `trace`
//! catches it up (reads only the records written since the last call, keys and timestamps only,
//! appends them) and looks the lead up (a substring search over the file: no parsing of the whole
//! index), then reads the lead's partition only between its first and last raw write, instead of
//! scanning the partition from its beginning on every call.
//!
//! One index per cluster and topic under the index directory (`~/.cache/leadflow/trace-index` by
//! default). Lines are appended before the offsets are replaced (write + rename), so a crash can
//! only index a record twice, which lookups tolerate (they take the min and max).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use leadflow_events::Timestamp;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::error::CliError;
use crate::kafka::{CliConfig, METADATA_TIMEOUT, topic_partitions};

const HEADER: &str = "leadflow-trace-index v2";

/// The index of one topic, as far as the process needs it: the offsets and the lines not yet saved.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LeadIndex {
    /// partition → next offset to index.
    pub next: BTreeMap<i32, i64>,
    /// Lines read since the last save.
    pending: String,
    /// The file must be started afresh (the topic was re-created).
    reset: bool,
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

fn offsets_path(path: &Path) -> PathBuf {
    path.with_extension("offsets")
}

impl LeadIndex {
    /// Reads the offsets of an index; a missing or unreadable side file is an empty index.
    pub fn load(path: &Path) -> LeadIndex {
        let mut index = LeadIndex::default();
        let Ok(text) = std::fs::read_to_string(offsets_path(path)) else {
            index.reset = true;
            return index;
        };
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            index.reset = true;
            return index;
        }
        for line in lines {
            let mut f = line.split('\t');
            match (f.next(), f.next(), f.next()) {
                (Some("P"), Some(p), Some(o)) => match (p.parse(), o.parse()) {
                    (Ok(p), Ok(o)) => {
                        index.next.insert(p, o);
                    }
                    _ => {
                        index.next.clear();
                        index.reset = true;
                        return index;
                    }
                },
                _ => {
                    index.next.clear();
                    index.reset = true;
                    return index;
                }
            }
        }
        index
    }

    /// Appends the new lines, then replaces the offsets (temporary file, rename).
    pub fn save(&mut self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(!self.reset)
            .write(true)
            .truncate(self.reset)
            .open(path)?;
        if self.reset {
            writeln!(file, "{HEADER}")?;
        }
        file.write_all(self.pending.as_bytes())?;
        file.flush()?;
        let mut offsets = format!("{HEADER}\n");
        for (p, o) in &self.next {
            let _ = writeln!(offsets, "P\t{p}\t{o}");
        }
        let tmp = offsets_path(path).with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, offsets)?;
        std::fs::rename(&tmp, offsets_path(path))?;
        self.pending.clear();
        self.reset = false;
        Ok(())
    }

    /// Records one raw record of `key` written at `at`.
    pub fn add(&mut self, key: &str, at: i64) {
        if key.contains(['\t', '\n', '\r']) {
            return; // cannot be stored; such a lead is traced by scanning
        }
        let _ = writeln!(self.pending, "L\t{key}\t{at}");
    }

    /// Whether lines are waiting to be saved.
    pub fn dirty(&self) -> bool {
        !self.pending.is_empty() || self.reset
    }

    /// The first and last write times of a lead's raw records in the saved index file.
    pub fn lookup(path: &Path, lead_id: &str) -> Option<(Timestamp, Timestamp)> {
        let text = std::fs::read_to_string(path).ok()?;
        let needle = format!("\nL\t{lead_id}\t");
        let mut found: Option<(i64, i64)> = None;
        let mut rest = text.as_str();
        while let Some(i) = rest.find(&needle) {
            rest = &rest[i + needle.len()..];
            let end = rest.find('\n').unwrap_or(rest.len());
            if let Ok(at) = rest[..end].parse::<i64>() {
                found = Some(found.map_or((at, at), |(a, b)| (a.min(at), b.max(at))));
            }
        }
        found.map(|(a, b)| (Timestamp(a), Timestamp(b)))
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
                self.pending.clear();
                self.next.clear();
                self.reset = true;
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
    fn the_index_appends_and_finds_first_and_last_times() {
        let dir = tempfile::tempdir().expect("dir");
        let path = file_for(dir.path(), "127.0.0.1:9092", "leads.raw");
        assert!(
            path.to_string_lossy()
                .ends_with("127.0.0.1_9092_leads.raw.idx")
        );
        let mut i = LeadIndex::load(&path);
        assert!(i.dirty(), "a new index starts its file");
        i.add("lead-1", 500);
        i.add("lead-10", 5);
        i.add("bad\tkey", 1);
        i.next.insert(0, 2);
        i.save(&path).expect("saved");
        let mut again = LeadIndex::load(&path);
        assert_eq!(again.next.get(&0), Some(&2));
        assert!(!again.dirty());
        again.add("lead-1", 100);
        again.add("lead-1", 900);
        again.next.insert(0, 4);
        again.save(&path).expect("saved");
        assert_eq!(
            LeadIndex::lookup(&path, "lead-1"),
            Some((Timestamp(100), Timestamp(900)))
        );
        assert_eq!(
            LeadIndex::lookup(&path, "lead-10"),
            Some((Timestamp(5), Timestamp(5)))
        );
        assert_eq!(LeadIndex::lookup(&path, "lead"), None);
        assert_eq!(LeadIndex::lookup(&path, "bad\tkey"), None);
        assert_eq!(LeadIndex::load(&path).next.get(&0), Some(&4));
        std::fs::write(offsets_path(&path), "garbage").expect("write");
        assert!(
            LeadIndex::load(&path).dirty(),
            "unreadable offsets: rebuilt"
        );
    }
}
