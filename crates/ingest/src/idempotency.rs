//! The idempotency memory: which requests (by `Idempotency-Key`) and which events (by event id) a
//! publisher already had accepted, with the answer to replay, for `idempotency_window_secs`.
//! Bounded in bytes (`idempotency_max_bytes`), split in equal shares between the configured
//! publishers: one publisher's flood evicts only its own oldest entries (I4). Every entry has exactly
//! one position in its publisher's eviction order (a re-insert or a release removes the old one), so
//! eviction and expiry walk live entries only. Rebuilt from `leads.raw` at start-up (`rebuild.rs`).
//! Pure: the caller passes the time. Rules: `RULES.md` § Idempotency.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// A stored answer: the event ids a request or event was accepted with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub event_ids: Vec<String>,
}

/// Who owns a pending claim: only that owner's `release` forgets it.
pub type Ticket = u64;

/// What to do with a request or event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Not seen within the window: the caller owns it now (`Ticket`) and must `complete` or
    /// `release` it (`service.rs` holds it in a guard that releases it on every other path).
    Fresh(Ticket),
    /// Accepted before with the same content: answer this again, write nothing.
    Replay(Stored),
    /// Accepted before (or in flight) with different content: 409.
    Conflict,
    /// The same request is being processed right now: 409 with Retry-After.
    InFlight,
    /// The key names no configured publisher (only the rebuild can ask that): nothing is stored.
    Unknown,
}

#[derive(Clone, Debug)]
enum State {
    Pending(Ticket),
    Done(Stored),
}

#[derive(Clone, Debug)]
struct Entry {
    fingerprint: [u8; 32],
    at_ms: i64,
    /// Its position in its publisher's order (also the ticket of a pending claim).
    seq: u64,
    state: State,
}

/// One publisher's part of the memory.
#[derive(Debug, Default)]
struct Share {
    /// Live entries in insertion order (oldest first): exactly one position per entry.
    order: BTreeMap<u64, Arc<str>>,
    bytes: usize,
}

/// Keys: `k:<publisher>:<Idempotency-Key>` and `e:<publisher>:<event_id>` (see [`request_key`],
/// [`event_key`]); publisher ids contain no `:`.
#[derive(Debug)]
pub struct IdempotencyStore {
    entries: HashMap<Arc<str>, Entry>,
    shares: HashMap<String, Share>,
    window_ms: i64,
    share_bytes: usize,
    next_seq: u64,
}

/// The key of a request carrying `Idempotency-Key: key`.
pub fn request_key(publisher: &str, key: &str) -> String {
    format!("k:{publisher}:{key}")
}

/// The key of an event by its id.
pub fn event_key(publisher: &str, event_id: &str) -> String {
    format!("e:{publisher}:{event_id}")
}

/// The publisher part of a key.
fn publisher_of(key: &str) -> &str {
    key.get(2..)
        .and_then(|rest| rest.split(':').next())
        .unwrap_or_default()
}

/// Bytes one entry costs beyond its key and its stored ids: the hash map slot (at most half full
/// after a resize, hence 2x, plus 1x for the table the last resize freed, which the allocator may
/// keep resident for a while: without it, the resident growth can exceed the accounting), the B-tree position (a node is at least half full: 2x of 16 bytes), the key's
/// `Arc` header and the allocator's rounding of the three allocations. Checked against the
/// process's resident growth by `tests/idempotency_memory.rs`; measured by
/// `benches/idempotency_memory.rs`.
pub const ENTRY_OVERHEAD_BYTES: usize =
    3 * std::mem::size_of::<(Arc<str>, Entry)>() + 2 * 16 + 16 + 3 * 16;

fn entry_bytes(key: &str, state: &State) -> usize {
    let stored = match state {
        State::Pending(_) => 0,
        State::Done(s) => {
            s.event_ids.capacity() * std::mem::size_of::<String>()
                + s.event_ids
                    .iter()
                    .map(|id| id.capacity() + 16)
                    .sum::<usize>()
        }
    };
    ENTRY_OVERHEAD_BYTES + key.len() + stored
}

impl IdempotencyStore {
    /// A memory of `max_bytes`, in equal shares for `publishers`.
    pub fn new<'a>(
        window_secs: u64,
        max_bytes: usize,
        publishers: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let shares: HashMap<String, Share> = publishers
            .into_iter()
            .map(|p| (p.to_owned(), Share::default()))
            .collect();
        let share_bytes = max_bytes / shares.len().max(1);
        Self {
            entries: HashMap::new(),
            shares,
            window_ms: i64::try_from(window_secs.saturating_mul(1000)).unwrap_or(i64::MAX),
            share_bytes,
            next_seq: 0,
        }
    }

    /// Entries held (pending and done).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes accounted to the entries (what `idempotency_max_bytes` bounds).
    pub fn bytes(&self) -> usize {
        self.shares.values().map(|s| s.bytes).sum()
    }

    /// Bytes accounted to `publisher`'s entries.
    pub fn bytes_of(&self, publisher: &str) -> usize {
        self.shares.get(publisher).map_or(0, |s| s.bytes)
    }

    /// The bytes each publisher may hold.
    pub fn share_bytes(&self) -> usize {
        self.share_bytes
    }

    /// Positions in the eviction orders (equal to `len()`: no stale positions).
    pub fn positions(&self) -> usize {
        self.shares.values().map(|s| s.order.len()).sum()
    }

    /// Looks `key` up; when fresh (unknown or expired), records it as pending under `fingerprint`
    /// and returns the ticket that owns it.
    pub fn claim(&mut self, key: &str, fingerprint: [u8; 32], now_ms: i64) -> Claim {
        let publisher = publisher_of(key);
        if !self.shares.contains_key(publisher) {
            return Claim::Unknown;
        }
        self.expire(publisher, now_ms);
        if let Some(e) = self.entries.get(key) {
            if now_ms.saturating_sub(e.at_ms) < self.window_ms {
                return match (&e.state, e.fingerprint == fingerprint) {
                    (_, false) => Claim::Conflict,
                    (State::Pending(_), true) => Claim::InFlight,
                    (State::Done(s), true) => Claim::Replay(s.clone()),
                };
            }
        }
        let seq = self.insert(key, fingerprint, now_ms, State::Pending);
        Claim::Fresh(seq)
    }

    /// The claimed `key` was accepted with `stored` (also when it was evicted meanwhile).
    pub fn complete(&mut self, key: &str, fingerprint: [u8; 32], stored: Stored, now_ms: i64) {
        let at_ms = self.entries.get(key).map_or(now_ms, |e| e.at_ms);
        let state = State::Done(stored);
        self.insert(key, fingerprint, at_ms, move |_| state);
    }

    /// The claim `ticket` on `key` was not accepted: forget it so a retry can try again. A no-op when
    /// the key was completed, evicted, or claimed by someone else since.
    pub fn release(&mut self, key: &str, ticket: Ticket) {
        if matches!(
            self.entries.get(key).map(|e| &e.state),
            Some(State::Pending(t)) if *t == ticket
        ) {
            self.remove(key);
        }
    }

    /// Records an accepted key read back from the topic (time = the record's timestamp). Keys of
    /// publishers that are not configured are ignored.
    pub fn restore(&mut self, key: &str, fingerprint: [u8; 32], stored: Stored, at_ms: i64) {
        if !self.shares.contains_key(publisher_of(key)) {
            return;
        }
        let state = State::Done(stored);
        self.insert(key, fingerprint, at_ms, move |_| state);
    }

    /// Inserts or replaces `key` at a new position (the old one is removed), then evicts the
    /// publisher's oldest entries while its share is exceeded. Returns the entry's sequence number.
    fn insert(
        &mut self,
        key: &str,
        fingerprint: [u8; 32],
        at_ms: i64,
        state: impl FnOnce(u64) -> State,
    ) -> u64 {
        let publisher = publisher_of(key).to_owned();
        self.remove(key);
        let seq = self.next_seq;
        self.next_seq += 1;
        let state = state(seq);
        let cost = entry_bytes(key, &state);
        let key: Arc<str> = Arc::from(key);
        self.entries.insert(
            key.clone(),
            Entry {
                fingerprint,
                at_ms,
                seq,
                state,
            },
        );
        let Some(share) = self.shares.get_mut(&publisher) else {
            return seq;
        };
        share.order.insert(seq, key);
        share.bytes += cost;
        while share.bytes > self.share_bytes {
            let Some((_, old)) = share.order.pop_first() else {
                break;
            };
            if let Some(e) = self.entries.remove(&old) {
                share.bytes = share.bytes.saturating_sub(entry_bytes(&old, &e.state));
            }
        }
        seq
    }

    fn remove(&mut self, key: &str) {
        let Some(e) = self.entries.remove(key) else {
            return;
        };
        if let Some(share) = self.shares.get_mut(publisher_of(key)) {
            share.order.remove(&e.seq);
            share.bytes = share.bytes.saturating_sub(entry_bytes(key, &e.state));
        }
    }

    /// Forgets `publisher`'s entries older than the window (oldest first; a pending claim is still
    /// owned by its request and stays).
    fn expire(&mut self, publisher: &str, now_ms: i64) {
        let Some(share) = self.shares.get_mut(publisher) else {
            return;
        };
        while let Some((&seq, key)) = share.order.first_key_value() {
            let Some(e) = self.entries.get(key) else {
                share.order.remove(&seq);
                continue;
            };
            if now_ms.saturating_sub(e.at_ms) < self.window_ms
                || matches!(e.state, State::Pending(_))
            {
                break;
            }
            let key = key.clone();
            share.order.remove(&seq);
            if let Some(e) = self.entries.remove(&key) {
                share.bytes = share.bytes.saturating_sub(entry_bytes(&key, &e.state));
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    fn stored(id: &str) -> Stored {
        Stored {
            event_ids: vec![id.to_owned()],
        }
    }

    fn fresh(c: Claim) -> Ticket {
        match c {
            Claim::Fresh(t) => t,
            other => panic!("expected a fresh claim, got {other:?}"),
        }
    }

    const BIG: usize = 1 << 30;

    #[test]
    fn a_retry_gets_the_original_answer_within_the_window_only() {
        let mut s = IdempotencyStore::new(60, BIG, ["forms"]);
        let k = request_key("forms", "abc");
        fresh(s.claim(&k, [1; 32], 0));
        assert_eq!(s.claim(&k, [1; 32], 10), Claim::InFlight);
        s.complete(&k, [1; 32], stored("e1"), 20);
        assert_eq!(s.claim(&k, [1; 32], 30_000), Claim::Replay(stored("e1")));
        assert_eq!(s.claim(&k, [2; 32], 30_000), Claim::Conflict);
        // 60 s after it was first claimed, it is forgotten
        assert!(matches!(s.claim(&k, [2; 32], 60_001), Claim::Fresh(_)));
    }

    #[test]
    fn a_failed_request_can_be_retried() {
        let mut s = IdempotencyStore::new(60, BIG, ["forms"]);
        let k = event_key("forms", "e1");
        let t = fresh(s.claim(&k, [1; 32], 0));
        s.release(&k, t);
        assert!(matches!(s.claim(&k, [1; 32], 1), Claim::Fresh(_)));
    }

    #[test]
    fn only_the_owner_of_a_claim_releases_it() {
        let mut s = IdempotencyStore::new(60, BIG, ["forms"]);
        let k = event_key("forms", "e1");
        let first = fresh(s.claim(&k, [1; 32], 0));
        s.release(&k, first);
        let second = fresh(s.claim(&k, [1; 32], 1));
        // the first owner's late release (a guard dropped twice, a stale ticket) is a no-op
        s.release(&k, first);
        assert_eq!(s.claim(&k, [1; 32], 2), Claim::InFlight);
        s.complete(&k, [1; 32], stored("e1"), 3);
        // a release after completion is a no-op too
        s.release(&k, second);
        assert_eq!(s.claim(&k, [1; 32], 4), Claim::Replay(stored("e1")));
    }

    #[test]
    fn released_and_replaced_entries_leave_no_position_behind() {
        let mut s = IdempotencyStore::new(3600, BIG, ["forms"]);
        for i in 0..1000 {
            let k = event_key("forms", &format!("e{i}"));
            let t = fresh(s.claim(&k, [0; 32], i));
            s.release(&k, t);
            s.restore(&event_key("forms", "same"), [0; 32], stored("same"), i);
        }
        assert_eq!(s.len(), 1);
        assert_eq!(s.positions(), 1, "one position per live entry");
        assert_eq!(
            s.bytes(),
            entry_bytes(&event_key("forms", "same"), &State::Done(stored("same")))
        );
    }

    #[test]
    fn the_memory_is_bounded_in_bytes_oldest_first() {
        let one = entry_bytes(&event_key("forms", "a"), &State::Done(stored("a")));
        let mut s = IdempotencyStore::new(3600, 2 * one, ["forms"]);
        for (i, id) in ["a", "b", "c"].into_iter().enumerate() {
            s.restore(&event_key("forms", id), [0; 32], stored(id), i as i64);
        }
        assert_eq!(s.len(), 2);
        assert!(s.bytes() <= 2 * one);
        assert!(matches!(
            s.claim(&event_key("forms", "a"), [0; 32], 3),
            Claim::Fresh(_)
        ));
        // claiming "a" again evicted "b" (the oldest); "c" is still there
        assert_eq!(
            s.claim(&event_key("forms", "c"), [0; 32], 3),
            Claim::Replay(stored("c"))
        );
    }

    #[test]
    fn one_publishers_flood_does_not_evict_anothers_entries() {
        let mut s = IdempotencyStore::new(3600, 64 * 1024, ["forms", "chat"]);
        s.restore(&event_key("chat", "keep"), [7; 32], stored("keep"), 0);
        for i in 0..10_000 {
            let k = event_key("forms", &format!("flood-{i}"));
            let t = fresh(s.claim(&k, [0; 32], i));
            s.complete(&k, [0; 32], stored("x"), i);
            let _ = t;
        }
        assert!(s.bytes_of("forms") <= s.share_bytes());
        assert_eq!(
            s.claim(&event_key("chat", "keep"), [7; 32], 10_001),
            Claim::Replay(stored("keep")),
            "chat's entry survives forms' flood"
        );
    }

    #[test]
    fn unknown_publishers_are_not_stored() {
        let mut s = IdempotencyStore::new(3600, BIG, ["forms"]);
        s.restore(&event_key("intruder", "e1"), [0; 32], stored("e1"), 0);
        assert!(s.is_empty());
        assert_eq!(
            s.claim(&event_key("intruder", "e1"), [0; 32], 0),
            Claim::Unknown
        );
    }

    #[test]
    fn publishers_have_separate_key_spaces() {
        assert_ne!(request_key("a", "1"), request_key("b", "1"));
        assert_ne!(event_key("a", "1"), event_key("b", "1"));
        assert_ne!(request_key("a", "1"), event_key("a", "1"));
        assert_eq!(publisher_of(&event_key("chat-bot", "x:y")), "chat-bot");
    }
}
