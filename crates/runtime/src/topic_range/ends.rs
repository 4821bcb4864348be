//! The bookkeeping of a range read, without a broker: which offsets each partition is read between,
//! where each partition's read stands, and when a partition is done. Pure.
//!
//! A partition is done when a record at or past its end arrived (`offset + 1 >= end`), or when a
//! look at the broker finds the read's position at or past the partition's end *as the broker has
//! it now* (`position >= min(end, current high watermark)`). The second rule ends a read whose last
//! offset below the start's high watermark never arrives: a transaction marker or an aborted
//! record (the client skips them), a record compacted away, or a high watermark a broker restart
//! set lower than it was.

use std::collections::BTreeMap;

/// What one partition is read between: offsets `start..end` (end exclusive), and the watermarks
/// the partition had when the read was planned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartitionRange {
    pub partition: i32,
    /// The low watermark at the start.
    pub low: i64,
    /// The high watermark at the start.
    pub high: i64,
    pub start: i64,
    pub end: i64,
}

impl PartitionRange {
    /// The range of a partition with watermarks `(low, high)` from `start` (the low watermark when
    /// `None`) to `end` (exclusive; the high watermark when `None`), each clamped into the
    /// watermarks.
    pub fn clamp(
        partition: i32,
        (low, high): (i64, i64),
        start: Option<i64>,
        end: Option<i64>,
    ) -> Self {
        let high = high.max(low);
        let start = start.unwrap_or(low).clamp(low, high);
        let end = end.unwrap_or(high).clamp(start, high);
        PartitionRange {
            partition,
            low,
            high,
            start,
            end,
        }
    }

    /// How many offsets the range spans (records, unless some are markers or compacted away).
    pub fn len(&self) -> i64 {
        (self.end - self.start).max(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether a record that arrived belongs to the range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// Inside the range.
    Inside,
    /// At or past the end of a partition still open: not part of the read, and the partition is done.
    Ended,
    /// Of a partition already done (or not read): not part of the read, and not progress either.
    Outside,
}

impl Arrival {
    /// The read moved on: a record inside the range, or a partition done (the stall rule's progress).
    pub fn is_progress(self) -> bool {
        self != Arrival::Outside
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Open {
    end: i64,
    /// Everything before it was read (or skipped by the client).
    position: i64,
}

/// Where a range read stands: the partitions not done yet, each with its end and position.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RangeEnds {
    open: BTreeMap<i32, Open>,
}

impl RangeEnds {
    /// Every non-empty range is open, at its start.
    pub fn new(ranges: &[PartitionRange]) -> Self {
        let open = ranges
            .iter()
            .filter(|r| !r.is_empty())
            .map(|r| {
                (
                    r.partition,
                    Open {
                        end: r.end,
                        position: r.start,
                    },
                )
            })
            .collect();
        RangeEnds { open }
    }

    /// Every partition is done.
    pub fn is_done(&self) -> bool {
        self.open.is_empty()
    }

    /// The partitions not done yet.
    pub fn open_partitions(&self) -> Vec<i32> {
        self.open.keys().copied().collect()
    }

    /// A partition's position while it is open.
    pub fn position(&self, partition: i32) -> Option<i64> {
        self.open.get(&partition).map(|o| o.position)
    }

    /// A record of `partition` at `offset` arrived. Returns whether it is part of the read; the
    /// partition is done once a record at or past `end - 1` arrived.
    pub fn arrived(&mut self, partition: i32, offset: i64) -> Arrival {
        let Some(open) = self.open.get_mut(&partition) else {
            return Arrival::Outside;
        };
        if offset >= open.end {
            self.open.remove(&partition);
            return Arrival::Ended;
        }
        open.position = open.position.max(offset + 1);
        if open.position >= open.end {
            self.open.remove(&partition);
        }
        Arrival::Inside
    }

    /// The partition is done whatever its position (the caller stops it, e.g. at a time bound):
    /// [`Arrival::Ended`] when it was open.
    pub fn finish(&mut self, partition: i32) -> Arrival {
        match self.open.remove(&partition) {
            Some(_) => Arrival::Ended,
            None => Arrival::Outside,
        }
    }

    /// A look at the broker: the client's position of `partition` (`None` when it has none yet) and
    /// the partition's high watermark now. The partition is done when the position, the client's or
    /// the one the records gave, reached `min(end, high)`. Returns the position it ended at when this
    /// look ended it.
    pub fn looked(
        &mut self,
        partition: i32,
        client_position: Option<i64>,
        high: i64,
    ) -> Option<i64> {
        let open = self.open.get_mut(&partition)?;
        if let Some(p) = client_position {
            open.position = open.position.max(p);
        }
        let position = open.position;
        if position >= open.end.min(high) {
            self.open.remove(&partition);
            return Some(position);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_clamped_to_what_the_partition_holds() {
        assert_eq!(PartitionRange::clamp(0, (10, 50), None, None).len(), 40);
        let r = PartitionRange::clamp(1, (10, 50), Some(20), Some(30));
        assert_eq!((r.start, r.end, r.len()), (20, 30, 10));
        assert_eq!(
            PartitionRange::clamp(2, (10, 50), Some(0), Some(1_001)).len(),
            40
        );
        assert!(PartitionRange::clamp(3, (10, 50), Some(60), None).is_empty());
        assert!(PartitionRange::clamp(4, (10, 50), Some(30), Some(21)).is_empty());
        assert!(PartitionRange::clamp(5, (0, 0), None, None).is_empty());
    }

    fn ends(ranges: &[(i32, i64, i64)]) -> RangeEnds {
        let ranges: Vec<_> = ranges
            .iter()
            .map(|(p, start, end)| PartitionRange::clamp(*p, (0, *end), Some(*start), None))
            .collect();
        RangeEnds::new(&ranges)
    }

    #[test]
    fn a_partition_is_done_at_the_record_before_its_end_and_empty_ones_are_done_at_once() {
        let mut e = ends(&[(0, 0, 2), (1, 0, 0), (2, 5, 6)]);
        assert_eq!(
            e.open_partitions(),
            vec![0, 2],
            "the empty partition is done"
        );
        assert_eq!(e.arrived(0, 0), Arrival::Inside);
        assert!(!e.is_done());
        assert_eq!(e.arrived(2, 5), Arrival::Inside);
        assert_eq!(e.arrived(0, 1), Arrival::Inside);
        assert!(e.is_done());
        // a record of a partition already done is not part of the read, nor progress: a busy done
        // partition does not put off the look at the others
        assert_eq!(e.arrived(0, 2), Arrival::Outside);
        assert!(!Arrival::Outside.is_progress());
        assert_eq!(e.arrived(7, 0), Arrival::Outside);
    }

    #[test]
    fn a_record_past_the_end_ends_the_partition_without_being_read() {
        let mut e = ends(&[(0, 0, 10)]);
        assert_eq!(e.arrived(0, 3), Arrival::Inside);
        // offsets 4..9 were markers or compacted away: the next record is past the end
        assert_eq!(e.arrived(0, 12), Arrival::Ended);
        assert!(Arrival::Ended.is_progress());
        assert!(e.is_done());
        // a time bound ends a partition once
        let mut e = ends(&[(0, 0, 10)]);
        assert_eq!(e.finish(0), Arrival::Ended);
        assert_eq!(e.finish(0), Arrival::Outside);
    }

    #[test]
    fn a_target_that_never_arrives_is_done_once_the_position_reaches_the_high_watermark_now() {
        // the start's high watermark was 10, so the read waits for the record at offset 9
        let mut e = ends(&[(0, 0, 10), (1, 0, 4)]);
        for o in 0..7 {
            assert_eq!(e.arrived(0, o), Arrival::Inside);
        }
        // the broker restarted and its high watermark is 7 now: offset 9 will never come
        assert_eq!(e.looked(0, None, 7), Some(7));
        // partition 1: the client skipped a transaction marker at offset 3 (its position is 4)
        assert_eq!(e.arrived(1, 2), Arrival::Inside);
        assert_eq!(e.looked(1, None, 4), None, "the records alone are at 3");
        assert_eq!(e.looked(1, Some(4), 4), Some(4));
        assert!(e.is_done());
    }

    #[test]
    fn a_look_does_not_end_a_partition_that_still_has_records_to_read() {
        let mut e = ends(&[(0, 0, 10)]);
        assert_eq!(e.arrived(0, 0), Arrival::Inside);
        assert_eq!(e.looked(0, Some(1), 10), None);
        // the topic grew since the start: the end is still the start's high watermark
        assert_eq!(e.looked(0, Some(5), 50), None);
        assert_eq!(e.looked(0, Some(10), 50), Some(10));
        // the high watermark went below the position the read already had
        let mut e = ends(&[(0, 0, 10)]);
        for o in 0..8 {
            e.arrived(0, o);
        }
        assert_eq!(e.position(0), Some(8));
        assert_eq!(e.looked(0, None, 5), Some(8));
    }
}
