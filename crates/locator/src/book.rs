//! The locator's book: key → where its records are on each lead topic. Pure (no broker, no clock).
//!
//! One [`Pos`] per record (24 bytes: topic index, partition, offset, write time, a gap flag), kept
//! per key in one exactly-sized vector; at most [`BookLimits::spots_per_topic`] per key and topic
//! (rule L2 of `RULES.md`): past that the key's last position on the topic moves forward and is
//! flagged [`Pos::gap_before`], meaning "more records of this key may lie between the previous
//! position and this one" (the reader then reads that stretch of the partition). A record already
//! seen (a re-read after a restart: its offset is not past the last one of its partition) changes
//! nothing, so feeding the book twice is harmless.

use std::collections::HashMap;
use std::mem::size_of;

/// Where one record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    pub offset: i64,
    /// The record's timestamp (ms since the epoch).
    pub at_ms: i64,
    pub partition: i32,
    /// Index into [`Book::topics`].
    pub topic: u16,
    /// Records of the key may lie between the previous position of this topic and this one.
    pub gap_before: bool,
}

/// The book's bounds (`RULES.md` L1–L3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookLimits {
    /// Keys kept; a new key past this is not booked (its lookups answer 404: the trace scans).
    pub max_keys: usize,
    /// Positions kept per key and topic (L2).
    pub spots_per_topic: usize,
    /// Longer keys are not booked (L3).
    pub max_key_bytes: usize,
}

impl Default for BookLimits {
    fn default() -> Self {
        BookLimits {
            max_keys: 5_000_000,
            spots_per_topic: 16,
            max_key_bytes: 128,
        }
    }
}

/// What one record did to the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observed {
    /// A key not booked before.
    NewKey,
    /// One more position of a booked key.
    Added,
    /// Past the per-topic bound: the last position moved forward (L2).
    Folded,
    /// Already booked (a re-read).
    Repeat,
    /// Not booked: the book is full (L1) or the key too long (L3).
    Dropped,
}

/// Key → positions, for the topics it was made with.
#[derive(Debug, Default)]
pub struct Book {
    topics: Vec<String>,
    keys: HashMap<Box<[u8]>, Vec<Pos>>,
    limits: BookLimits,
    key_bytes: usize,
    spots: usize,
}

impl Book {
    pub fn new(topics: Vec<String>, limits: BookLimits) -> Self {
        Book {
            topics,
            limits,
            ..Book::default()
        }
    }

    /// The topics booked, in index order.
    pub fn topics(&self) -> &[String] {
        &self.topics
    }

    /// The index of `topic`, if booked.
    pub fn topic_index(&self, topic: &str) -> Option<u16> {
        self.topics
            .iter()
            .position(|t| t == topic)
            .and_then(|i| u16::try_from(i).ok())
    }

    pub fn keys(&self) -> usize {
        self.keys.len()
    }

    /// Books one record of `key` on topic index `topic`.
    pub fn observe(
        &mut self,
        topic: u16,
        key: &[u8],
        partition: i32,
        offset: i64,
        at_ms: i64,
    ) -> Observed {
        if key.len() > self.limits.max_key_bytes || usize::from(topic) >= self.topics.len() {
            return Observed::Dropped;
        }
        let pos = Pos {
            offset,
            at_ms,
            partition,
            topic,
            gap_before: false,
        };
        let Some(spots) = self.keys.get_mut(key) else {
            if self.keys.len() >= self.limits.max_keys {
                return Observed::Dropped;
            }
            self.keys.insert(key.into(), vec![pos]);
            self.key_bytes += key.len();
            self.spots += 1;
            return Observed::NewKey;
        };
        let mut on_topic = 0;
        let mut last = None;
        for (i, s) in spots.iter().enumerate() {
            if s.topic == topic && s.partition == partition {
                if s.offset >= offset {
                    return Observed::Repeat;
                }
                last = Some(i);
            }
            if s.topic == topic {
                on_topic += 1;
            }
        }
        match last {
            Some(i) if on_topic >= self.limits.spots_per_topic => {
                spots[i] = Pos {
                    gap_before: true,
                    ..pos
                };
                Observed::Folded
            }
            _ => {
                // exactly sized: most keys hold a handful of positions for years
                spots.reserve_exact(1);
                spots.push(pos);
                self.spots += 1;
                Observed::Added
            }
        }
    }

    /// The positions of `key`, in the order they were booked.
    pub fn lookup(&self, key: &[u8]) -> Option<&[Pos]> {
        self.keys.get(key).map(Vec::as_slice)
    }

    /// The book's heap bytes, estimated from its structure (the map's slots and control bytes, the
    /// keys, the positions), without the allocator's own overhead.
    pub fn bytes(&self) -> usize {
        let slot = size_of::<(Box<[u8]>, Vec<Pos>)>() + 1;
        self.keys.capacity() * slot + self.key_bytes + self.spots * size_of::<Pos>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(limits: BookLimits) -> Book {
        Book::new(vec!["leads.raw".into(), "leads.scored".into()], limits)
    }

    #[test]
    fn a_key_keeps_each_of_its_records_once() {
        let mut b = book(BookLimits::default());
        assert_eq!(b.observe(0, b"lead-1", 3, 10, 1_000), Observed::NewKey);
        assert_eq!(b.observe(1, b"lead-1", 5, 7, 1_070), Observed::Added);
        assert_eq!(b.observe(0, b"lead-1", 3, 42, 9_000), Observed::Added);
        assert_eq!(b.observe(0, b"lead-1", 3, 42, 9_000), Observed::Repeat);
        assert_eq!(b.observe(0, b"lead-1", 3, 11, 1_100), Observed::Repeat);
        let spots = b.lookup(b"lead-1").expect("booked");
        assert_eq!(
            spots
                .iter()
                .map(|s| (s.topic, s.offset))
                .collect::<Vec<_>>(),
            vec![(0, 10), (1, 7), (0, 42)]
        );
        assert!(spots.iter().all(|s| !s.gap_before));
        assert_eq!(b.lookup(b"lead"), None);
        assert_eq!(b.keys(), 1);
        assert_eq!(b.topic_index("leads.scored"), Some(1));
        assert_eq!(b.topic_index("leads.other"), None);
    }

    #[test]
    fn past_the_per_topic_bound_the_last_position_moves_and_flags_a_gap() {
        let mut b = book(BookLimits {
            spots_per_topic: 3,
            ..BookLimits::default()
        });
        for offset in 0..3 {
            b.observe(0, b"k", 0, offset, offset);
        }
        assert_eq!(b.observe(0, b"k", 0, 10, 10), Observed::Folded);
        assert_eq!(b.observe(0, b"k", 0, 20, 20), Observed::Folded);
        // the other topic has its own bound
        assert_eq!(b.observe(1, b"k", 0, 5, 5), Observed::Added);
        let spots = b.lookup(b"k").expect("booked");
        assert_eq!(
            spots
                .iter()
                .map(|s| (s.topic, s.offset, s.gap_before))
                .collect::<Vec<_>>(),
            vec![(0, 0, false), (0, 1, false), (0, 20, true), (1, 5, false)]
        );
    }

    #[test]
    fn a_full_book_and_long_keys_drop_new_keys_only() {
        let mut b = book(BookLimits {
            max_keys: 1,
            max_key_bytes: 8,
            ..BookLimits::default()
        });
        assert_eq!(b.observe(0, b"a", 0, 0, 0), Observed::NewKey);
        assert_eq!(b.observe(0, b"b", 0, 1, 0), Observed::Dropped);
        assert_eq!(b.observe(0, b"a", 0, 2, 0), Observed::Added);
        assert_eq!(b.observe(0, b"123456789", 0, 3, 0), Observed::Dropped);
        assert_eq!(
            b.observe(7, b"a", 0, 4, 0),
            Observed::Dropped,
            "unknown topic"
        );
        assert_eq!(b.keys(), 1);
    }

    #[test]
    fn the_byte_estimate_counts_slots_keys_and_positions() {
        let mut b = book(BookLimits::default());
        let empty = b.bytes();
        b.observe(0, b"lead-1", 0, 0, 0);
        b.observe(1, b"lead-1", 0, 0, 0);
        assert!(b.bytes() >= empty + 6 + 2 * size_of::<Pos>());
        assert_eq!(size_of::<Pos>(), 24);
    }
}
