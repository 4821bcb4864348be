//! Which records of each partition a replay re-drives. Pure.

/// One partition's range: offsets `start..end` (end exclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartitionRange {
    pub partition: i32,
    pub start: i64,
    pub end: i64,
}

impl PartitionRange {
    pub fn len(&self) -> i64 {
        (self.end - self.start).max(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The range of one partition from its watermarks `(low, high)` and the requested offsets (each
/// clamped into the watermarks; by-time starts are resolved to offsets before this).
pub fn clamp(
    partition: i32,
    (low, high): (i64, i64),
    from: Option<i64>,
    to: Option<i64>,
) -> PartitionRange {
    let start = from.unwrap_or(low).clamp(low, high);
    let end = to.map_or(high, |t| t.saturating_add(1)).clamp(start, high);
    PartitionRange {
        partition,
        start,
        end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_clamped_to_what_the_partition_holds() {
        assert_eq!(clamp(0, (10, 50), None, None).len(), 40);
        let r = clamp(1, (10, 50), Some(20), Some(29));
        assert_eq!((r.start, r.end, r.len()), (20, 30, 10));
        assert_eq!(clamp(2, (10, 50), Some(0), Some(1_000)).len(), 40);
        assert!(clamp(3, (10, 50), Some(60), None).is_empty());
        assert!(clamp(4, (10, 50), Some(30), Some(20)).is_empty());
        assert!(clamp(5, (0, 0), None, None).is_empty());
    }
}
