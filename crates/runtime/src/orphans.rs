//! When a member must rejoin its group: the pure rule behind `group_watch.rs`.
//!
//! A partition of the input topic is *orphaned* when it has records the group has not committed
//! (its committed offset is below its high watermark) and no live member of the group holds it.
//! A member that sees the same partitions orphaned for longer than the bound
//! (`group.rejoin_after_ms`) leaves and rejoins the group, so the coordinator assigns them anew
//! (`crates/runtime/RULES.md`, rule 1). Nothing here depends on a particular broker: "holds" comes
//! from the group's description (DescribeGroups), and when the broker does not describe groups the
//! rule falls back to "the lagging partitions this member does not hold have committed offsets that
//! did not move", judged over [`HOLDER_FACTOR`] times the bound by a member that holds partitions of
//! its own (a live owner stuck on a retry must not be taken for a dead one too soon).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// Without a group description, a member that holds partitions judges over this many bounds.
pub(crate) const HOLDER_FACTOR: u32 = 2;

/// What one look at the group showed, for the input topic only.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct GroupView {
    /// Partitions assigned to this member.
    pub(crate) owned: BTreeSet<i32>,
    /// Every partition of the input topic with its group's committed offset (`None`: nothing
    /// committed) and its high watermark.
    pub(crate) positions: BTreeMap<i32, (Option<i64>, i64)>,
    /// Partitions some member of the group holds, from its description; `None` when the broker did
    /// not describe the group (or described it mid-rebalance).
    pub(crate) held: Option<BTreeSet<i32>>,
    /// The low watermarks, for partitions without a committed offset (lag = high - low then).
    pub(crate) low: BTreeMap<i32, i64>,
}

impl GroupView {
    /// Partitions with records the group has not committed.
    pub(crate) fn lagging(&self) -> BTreeSet<i32> {
        self.positions
            .iter()
            .filter(|(p, (committed, high))| {
                let from = committed.unwrap_or_else(|| self.low.get(p).copied().unwrap_or(0));
                *high > from
            })
            .map(|(p, _)| *p)
            .collect()
    }
}

/// The verdict of one look.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Every lagging partition has a live owner (or nothing lags).
    Healthy,
    /// These partitions look orphaned, since `since`; not yet for longer than the bound.
    Suspect {
        partitions: BTreeSet<i32>,
        for_: Duration,
    },
    /// Orphaned for longer than the bound: leave and rejoin the group.
    Rejoin {
        partitions: BTreeSet<i32>,
        after: Duration,
    },
}

/// Tracks orphaned partitions across looks.
#[derive(Debug)]
pub(crate) struct OrphanWatch {
    bound: Duration,
    since: Option<Instant>,
    /// Committed offsets at the previous look (the fallback's "did not move").
    previous: BTreeMap<i32, Option<i64>>,
}

impl OrphanWatch {
    pub(crate) fn new(bound: Duration) -> Self {
        Self {
            bound,
            since: None,
            previous: BTreeMap::new(),
        }
    }

    /// The partitions `view` shows orphaned.
    fn orphaned(&self, view: &GroupView) -> BTreeSet<i32> {
        let lagging = view.lagging();
        match &view.held {
            Some(held) => lagging
                .into_iter()
                .filter(|p| !held.contains(p) && !view.owned.contains(p))
                .collect(),
            // no description: partitions this member does not hold whose committed offset did not
            // move since the previous look (a live owner commits every commit interval)
            None => lagging
                .into_iter()
                .filter(|p| !view.owned.contains(p))
                .filter(|p| {
                    let now = view.positions.get(p).map(|(c, _)| *c);
                    self.previous.contains_key(p) && self.previous.get(p).copied() == now
                })
                .collect(),
        }
    }

    /// How long `view`'s orphans must last: longer for a member judging without a description
    /// while it holds partitions itself.
    fn bound_for(&self, view: &GroupView) -> Duration {
        if view.held.is_none() && !view.owned.is_empty() {
            self.bound * HOLDER_FACTOR
        } else {
            self.bound
        }
    }

    /// Judges one look taken at `now`. After a `Rejoin` verdict the watch starts over.
    pub(crate) fn observe(&mut self, view: &GroupView, now: Instant) -> Verdict {
        let orphaned = self.orphaned(view);
        self.previous = view.positions.iter().map(|(p, (c, _))| (*p, *c)).collect();
        if orphaned.is_empty() {
            self.since = None;
            return Verdict::Healthy;
        }
        let since = *self.since.get_or_insert(now);
        let for_ = now.saturating_duration_since(since);
        if for_ >= self.bound_for(view) {
            self.since = None;
            self.previous.clear();
            return Verdict::Rejoin {
                partitions: orphaned,
                after: for_,
            };
        }
        Verdict::Suspect {
            partitions: orphaned,
            for_,
        }
    }
}

/// The partitions of `topic` in a member's assignment as the consumer protocol encodes it
/// (`ConsumerProtocolAssignment`: version i16, [topic string, [partition i32]], user data); `None`
/// when the bytes are not such an assignment. An empty slice is an empty assignment.
pub(crate) fn assigned_partitions(assignment: &[u8], topic: &str) -> Option<Vec<i32>> {
    if assignment.is_empty() {
        return Some(Vec::new());
    }
    let mut r = Reader(assignment);
    let _version = r.i16()?;
    let topics = r.i32()?;
    let mut out = Vec::new();
    for _ in 0..topics.max(0) {
        let len = usize::try_from(r.i16()?).ok()?;
        let name = r.take(len)?;
        let count = r.i32()?;
        let mine = name == topic.as_bytes();
        for _ in 0..count.max(0) {
            let p = r.i32()?;
            if mine {
                out.push(p);
            }
        }
    }
    Some(out)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn i16(&mut self) -> Option<i16> {
        Some(i16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }
    fn i32(&mut self) -> Option<i32> {
        Some(i32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUND: Duration = Duration::from_secs(10);

    fn view(
        owned: &[i32],
        held: Option<&[i32]>,
        positions: &[(i32, Option<i64>, i64)],
    ) -> GroupView {
        GroupView {
            owned: owned.iter().copied().collect(),
            positions: positions.iter().map(|(p, c, h)| (*p, (*c, *h))).collect(),
            held: held.map(|h| h.iter().copied().collect()),
            low: BTreeMap::new(),
        }
    }

    fn encode(topics: &[(&str, &[i32])]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(0i16.to_be_bytes());
        b.extend((topics.len() as i32).to_be_bytes());
        for (t, ps) in topics {
            b.extend((t.len() as i16).to_be_bytes());
            b.extend(t.as_bytes());
            b.extend((ps.len() as i32).to_be_bytes());
            for p in *ps {
                b.extend(p.to_be_bytes());
            }
        }
        b.extend((-1i32).to_be_bytes()); // no user data
        b
    }

    #[test]
    fn decodes_a_consumer_protocol_assignment() {
        let bytes = encode(&[("other", &[7]), ("leads.raw", &[0, 2])]);
        assert_eq!(assigned_partitions(&bytes, "leads.raw"), Some(vec![0, 2]));
        assert_eq!(assigned_partitions(&bytes, "other"), Some(vec![7]));
        assert_eq!(assigned_partitions(&[], "leads.raw"), Some(vec![]));
        assert_eq!(assigned_partitions(&bytes[..9], "leads.raw"), None);
    }

    #[test]
    fn a_member_holding_nothing_rejoins_after_the_bound_when_lagging_partitions_have_no_owner() {
        let mut w = OrphanWatch::new(BOUND);
        let t0 = Instant::now();
        let v = view(&[], Some(&[]), &[(0, Some(5), 9), (1, None, 3)]);
        assert!(matches!(w.observe(&v, t0), Verdict::Suspect { .. }));
        assert!(matches!(
            w.observe(&v, t0 + Duration::from_secs(9)),
            Verdict::Suspect { .. }
        ));
        assert_eq!(
            w.observe(&v, t0 + BOUND),
            Verdict::Rejoin {
                partitions: [0, 1].into(),
                after: BOUND
            }
        );
        // it starts over: the next look is a new suspicion
        assert!(matches!(
            w.observe(&v, t0 + BOUND + Duration::from_secs(1)),
            Verdict::Suspect { .. }
        ));
    }

    #[test]
    fn partitions_a_live_member_holds_are_never_orphaned() {
        // more members than partitions: this one legitimately holds nothing while the others lag
        let mut w = OrphanWatch::new(BOUND);
        let t0 = Instant::now();
        let v = view(&[], Some(&[0, 1]), &[(0, Some(5), 9), (1, Some(0), 3)]);
        for s in [0, 10, 60] {
            assert_eq!(w.observe(&v, t0 + Duration::from_secs(s)), Verdict::Healthy);
        }
    }

    #[test]
    fn a_survivor_rejoins_for_the_share_of_a_dead_member() {
        let mut w = OrphanWatch::new(BOUND);
        let t0 = Instant::now();
        let v = view(&[0], Some(&[0]), &[(0, Some(9), 9), (1, Some(2), 8)]);
        w.observe(&v, t0);
        assert_eq!(
            w.observe(&v, t0 + BOUND),
            Verdict::Rejoin {
                partitions: [1].into(),
                after: BOUND
            }
        );
    }

    #[test]
    fn nothing_lagging_or_an_owner_appearing_resets_the_clock() {
        let mut w = OrphanWatch::new(BOUND);
        let t0 = Instant::now();
        let lag = view(&[], Some(&[]), &[(0, Some(5), 9)]);
        let caught_up = view(&[], Some(&[]), &[(0, Some(9), 9)]);
        w.observe(&lag, t0);
        assert_eq!(
            w.observe(&caught_up, t0 + Duration::from_secs(5)),
            Verdict::Healthy
        );
        assert!(matches!(
            w.observe(&lag, t0 + BOUND),
            Verdict::Suspect { .. }
        ));
        let owned = view(&[0], Some(&[0]), &[(0, Some(5), 9)]);
        assert_eq!(w.observe(&owned, t0 + 2 * BOUND), Verdict::Healthy);
    }

    #[test]
    fn without_a_group_description_only_a_stuck_commit_on_an_idle_member_counts() {
        let mut w = OrphanWatch::new(BOUND);
        let t0 = Instant::now();
        // the first look has nothing to compare with
        let v = view(&[], None, &[(0, Some(5), 9)]);
        assert_eq!(w.observe(&v, t0), Verdict::Healthy);
        assert!(matches!(
            w.observe(&v, t0 + Duration::from_secs(2)),
            Verdict::Suspect { .. }
        ));
        // someone commits: it has an owner
        let moved = view(&[], None, &[(0, Some(6), 9)]);
        assert_eq!(
            w.observe(&moved, t0 + Duration::from_secs(4)),
            Verdict::Healthy
        );
    }

    #[test]
    fn without_a_description_a_survivor_takes_up_a_stuck_share_after_the_longer_bound() {
        let mut w = OrphanWatch::new(BOUND);
        let t0 = Instant::now();
        // holds 1 (lagging, its own: never judged); 0 lags with a commit that never moves
        let v = view(&[1], None, &[(0, Some(5), 9), (1, Some(0), 9)]);
        assert_eq!(w.observe(&v, t0), Verdict::Healthy);
        assert!(matches!(w.observe(&v, t0 + BOUND), Verdict::Suspect { .. }));
        assert!(matches!(
            w.observe(&v, t0 + 2 * BOUND),
            Verdict::Suspect { .. }
        ));
        assert_eq!(
            w.observe(&v, t0 + BOUND + HOLDER_FACTOR * BOUND),
            Verdict::Rejoin {
                partitions: [0].into(),
                after: HOLDER_FACTOR * BOUND
            }
        );
        // a live owner of 0 commits: never judged, however long it lags
        let mut w = OrphanWatch::new(BOUND);
        for s in 0..40u64 {
            let v = view(&[1], None, &[(0, Some(5 + s as i64), 90), (1, Some(0), 9)]);
            assert_eq!(
                w.observe(&v, t0 + Duration::from_secs(s * 3)),
                Verdict::Healthy
            );
        }
    }

    #[test]
    fn a_partition_without_a_committed_offset_lags_when_it_holds_records() {
        let mut v = view(&[], Some(&[]), &[(0, None, 4), (1, None, 4)]);
        v.low = [(0, 0), (1, 4)].into();
        assert_eq!(v.lagging(), [0].into());
    }
}
