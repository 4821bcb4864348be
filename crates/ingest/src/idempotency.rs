//! The idempotency memory: which requests (by `Idempotency-Key`) and which events (by event id) a
//! publisher already had accepted, with the answer to replay, for `idempotency_window_secs`.
//! Bounded (`idempotency_max_entries`, oldest first out); rebuilt from `leads.raw` at start-up
//! (`rebuild.rs`). Pure: the caller passes the time. Rules: `RULES.md` § Idempotency.

use std::collections::{HashMap, VecDeque};

/// A stored answer: the event ids a request or event was accepted with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub event_ids: Vec<String>,
}

/// What to do with a request or event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Not seen within the window: the caller owns it now and must `complete` or `release` it.
    Fresh,
    /// Accepted before with the same content: answer this again, write nothing.
    Replay(Stored),
    /// Accepted before (or in flight) with different content: 409.
    Conflict,
    /// The same request is being processed right now: 409 with Retry-After.
    InFlight,
}

#[derive(Clone, Debug)]
enum State {
    Pending,
    Done(Stored),
}

#[derive(Clone, Debug)]
struct Entry {
    fingerprint: [u8; 32],
    at_ms: i64,
    state: State,
}

/// Keys: `k:<publisher>:<Idempotency-Key>` and `e:<publisher>:<event_id>` (see [`request_key`],
/// [`event_key`]).
#[derive(Debug)]
pub struct IdempotencyStore {
    entries: HashMap<String, Entry>,
    /// Insertion order for eviction and expiry (a key may appear again after a re-insert; stale
    /// positions are skipped).
    order: VecDeque<(String, i64)>,
    window_ms: i64,
    max_entries: usize,
}

/// The key of a request carrying `Idempotency-Key: key`.
pub fn request_key(publisher: &str, key: &str) -> String {
    format!("k:{publisher}:{key}")
}

/// The key of an event by its id.
pub fn event_key(publisher: &str, event_id: &str) -> String {
    format!("e:{publisher}:{event_id}")
}

impl IdempotencyStore {
    pub fn new(window_secs: u64, max_entries: usize) -> Self {
        Self {
            entries: HashMap::new(),
            order: VecDeque::new(),
            window_ms: i64::try_from(window_secs.saturating_mul(1000)).unwrap_or(i64::MAX),
            max_entries: max_entries.max(1),
        }
    }

    /// Entries held (pending and done).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Looks `key` up; when fresh (unknown or expired), records it as pending under `fingerprint`.
    pub fn claim(&mut self, key: &str, fingerprint: [u8; 32], now_ms: i64) -> Claim {
        self.expire(now_ms);
        if let Some(e) = self.entries.get(key) {
            if now_ms.saturating_sub(e.at_ms) < self.window_ms {
                return match (&e.state, e.fingerprint == fingerprint) {
                    (_, false) => Claim::Conflict,
                    (State::Pending, true) => Claim::InFlight,
                    (State::Done(s), true) => Claim::Replay(s.clone()),
                };
            }
        }
        self.insert(key, fingerprint, now_ms, State::Pending);
        Claim::Fresh
    }

    /// The claimed `key` was accepted with `stored`.
    pub fn complete(&mut self, key: &str, fingerprint: [u8; 32], stored: Stored, now_ms: i64) {
        match self.entries.get_mut(key) {
            Some(e) => {
                e.state = State::Done(stored);
                e.fingerprint = fingerprint;
            }
            None => self.insert(key, fingerprint, now_ms, State::Done(stored)),
        }
    }

    /// The claimed `key` was not accepted: forget it so a retry can try again.
    pub fn release(&mut self, key: &str) {
        if matches!(
            self.entries.get(key).map(|e| &e.state),
            Some(State::Pending)
        ) {
            self.entries.remove(key);
        }
    }

    /// Records an accepted key read back from the topic at start-up (time = the record's timestamp).
    pub fn restore(&mut self, key: &str, fingerprint: [u8; 32], stored: Stored, at_ms: i64) {
        self.insert(key, fingerprint, at_ms, State::Done(stored));
    }

    fn insert(&mut self, key: &str, fingerprint: [u8; 32], at_ms: i64, state: State) {
        self.entries.insert(
            key.to_owned(),
            Entry {
                fingerprint,
                at_ms,
                state,
            },
        );
        self.order.push_back((key.to_owned(), at_ms));
        while self.entries.len() > self.max_entries {
            let Some((old, at)) = self.order.pop_front() else {
                break;
            };
            if self.entries.get(&old).is_some_and(|e| e.at_ms == at) {
                self.entries.remove(&old);
            }
        }
    }

    fn expire(&mut self, now_ms: i64) {
        while let Some((key, at)) = self.order.front() {
            if now_ms.saturating_sub(*at) < self.window_ms {
                break;
            }
            let (key, at) = (key.clone(), *at);
            self.order.pop_front();
            // only a done entry expires; a pending one is still owned by its request
            if self
                .entries
                .get(&key)
                .is_some_and(|e| e.at_ms == at && matches!(e.state, State::Done(_)))
            {
                self.entries.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(id: &str) -> Stored {
        Stored {
            event_ids: vec![id.to_owned()],
        }
    }

    #[test]
    fn a_retry_gets_the_original_answer_within_the_window_only() {
        let mut s = IdempotencyStore::new(60, 10);
        let k = request_key("forms", "abc");
        assert_eq!(s.claim(&k, [1; 32], 0), Claim::Fresh);
        assert_eq!(s.claim(&k, [1; 32], 10), Claim::InFlight);
        s.complete(&k, [1; 32], stored("e1"), 20);
        assert_eq!(s.claim(&k, [1; 32], 30_000), Claim::Replay(stored("e1")));
        assert_eq!(s.claim(&k, [2; 32], 30_000), Claim::Conflict);
        // 60 s after it was first claimed, it is forgotten
        assert_eq!(s.claim(&k, [2; 32], 60_001), Claim::Fresh);
    }

    #[test]
    fn a_failed_request_can_be_retried() {
        let mut s = IdempotencyStore::new(60, 10);
        assert_eq!(s.claim("k", [1; 32], 0), Claim::Fresh);
        s.release("k");
        assert_eq!(s.claim("k", [1; 32], 1), Claim::Fresh);
    }

    #[test]
    fn the_memory_is_bounded_oldest_first() {
        let mut s = IdempotencyStore::new(3600, 2);
        s.restore("a", [0; 32], stored("a"), 0);
        s.restore("b", [0; 32], stored("b"), 1);
        s.restore("c", [0; 32], stored("c"), 2);
        assert_eq!(s.len(), 2);
        assert_eq!(s.claim("a", [0; 32], 3), Claim::Fresh);
        assert_eq!(s.claim("c", [0; 32], 3), Claim::Replay(stored("c")));
    }

    #[test]
    fn publishers_have_separate_key_spaces() {
        assert_ne!(request_key("a", "1"), request_key("b", "1"));
        assert_ne!(event_key("a", "1"), event_key("b", "1"));
        assert_ne!(request_key("a", "1"), event_key("a", "1"));
    }
}
