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

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use leadflow_events::Timestamp;
use leadflow_runtime::topic_range::{RangeSpec, RangeStart, TopicRange};
use rdkafka::message::Message;

use crate::error::CliError;
use crate::kafka::{CliConfig, scan_config};

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
        let mut spec = RangeSpec::whole(topic);
        spec.start = RangeStart::Offsets(self.next.clone().into_iter().collect());
        let mut reader = TopicRange::open(&scan_config(cfg, "trace-index"), spec)?;
        let recreated = reader.ranges().iter().any(|r| {
            self.next
                .get(&r.partition)
                .is_some_and(|next| *next > r.high)
        });
        if recreated {
            // the topic was re-created: everything indexed for it is stale
            self.pending.clear();
            self.next.clear();
            self.reset = true;
            return self.catch_up(cfg, topic);
        }
        for r in reader.ranges() {
            self.next.insert(r.partition, r.start);
        }
        let mut done = CatchUp::default();
        reader.for_each(|m| {
            if let (Some(key), Some(at)) = (
                m.key().and_then(|k| std::str::from_utf8(k).ok()),
                m.timestamp().to_millis(),
            ) {
                self.add(key, at);
            }
            done.indexed += 1;
            self.next.insert(m.partition(), m.offset() + 1);
        })?;
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
