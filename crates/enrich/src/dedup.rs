//! The deduplication memory, in event time.
//!
//! Two questions per event:
//! - has this exact event (`event_id`) been processed already? Then it produces nothing — unless
//!   it is the same input record again (same partition and offset: redelivered after a crash before
//!   its offset was stored), whose output may never have been acknowledged: it is given the verdict
//!   it was given the first time, again;
//! - has this lead (same normalised email, or same `lead_id`) been seen within the window? Then the
//!   event updates the earlier lead (`is_update`, `previous_event_id`) rather than creating one.
//!
//! The window is measured in event time (`occurred_at`), from the lead's latest sighting. Memory is
//! bounded: entries older than the window behind the newest event time seen (the high watermark) are
//! evicted. Consequently an event arriving more than a window late is not recognised as a repeat.
//! Leads and emails are remembered by their Hash128 (`dedup_key.rs`), never in clear. The index is
//! rebuilt after a restart from the stage's dedup changelog (`enrich.dedup-keys`, one `DedupKey` per
//! produced lead, RULES.md §12).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use leadflow_events::{DedupKey, Hash128, Timestamp};

use crate::dedup_key::{InputPosition, LeadHashes, input_position};

/// The latest sighting of a lead. The event id is shared with the index's other entries for that
/// event (one allocation per id, not one per map).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sighting {
    pub event_id: Arc<str>,
    pub at: Timestamp,
}

/// What the index knows about an incoming event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DedupVerdict {
    /// This event id was processed already: drop it.
    DuplicateEvent,
    /// The lead was seen within the window: the event updates it.
    RepeatLead { previous_event_id: String },
    /// A lead not seen within the window.
    NewLead,
}

/// One event's identity, as the index sees it: its id, the hashes of its lead id and normalised
/// email, its event time and, when known, where its input record was read. When recorded, also the
/// verdict it was given (`previous_event_id`; `None`: a new lead).
#[derive(Clone, Copy, Debug)]
pub struct EventKeys<'a> {
    pub event_id: &'a str,
    pub hashes: LeadHashes,
    pub at: Timestamp,
    pub input: Option<InputPosition>,
    pub previous_event_id: Option<&'a str>,
}

impl<'a> EventKeys<'a> {
    /// Keys of an event from its lead id and normalised (lower-cased) email; hashes them.
    pub fn new(event_id: &'a str, lead_id: &str, email: Option<&str>, at: Timestamp) -> Self {
        Self {
            event_id,
            hashes: LeadHashes::of(lead_id, email),
            at,
            input: None,
            previous_event_id: None,
        }
    }

    /// Keys of a changelog record.
    pub fn of_dedup_key(key: &'a DedupKey) -> Self {
        Self {
            event_id: &key.event_id,
            hashes: LeadHashes {
                lead: key.lead_hash,
                email: key.email_hash,
            },
            at: key.occurred_at,
            input: input_position(key),
            previous_event_id: key.previous_event_id.as_deref(),
        }
    }

    /// The same keys, read at `input`.
    pub fn read_at(mut self, input: Option<InputPosition>) -> Self {
        self.input = input;
        self
    }

    /// The same keys, with the verdict the event was given (`None`: a new lead).
    pub fn decided(mut self, previous_event_id: Option<&'a str>) -> Self {
        self.previous_event_id = previous_event_id;
        self
    }
}

/// A remembered event id: when, where its input record was read (when known), and its verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    at: Timestamp,
    input: Option<InputPosition>,
    previous_event_id: Option<Arc<str>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Key {
    Event(Arc<str>),
    Email(u128),
    Lead(u128),
}

/// Remembers event ids and lead sightings for one window of event time.
#[derive(Clone, Debug)]
pub struct DedupIndex {
    window_ms: i64,
    events: HashMap<Arc<str>, Seen>,
    emails: HashMap<u128, Sighting>,
    leads: HashMap<u128, Sighting>,
    /// Sighting time -> keys recorded at that time, for eviction in time order.
    expiry: BTreeMap<Timestamp, Vec<Key>>,
    high_water: Option<Timestamp>,
}

fn h(hash: Hash128) -> u128 {
    u128::from_le_bytes(hash)
}

impl DedupIndex {
    /// An empty index remembering `window` of event time.
    pub fn new(window: Duration) -> Self {
        Self {
            window_ms: i64::try_from(window.as_millis()).unwrap_or(i64::MAX),
            events: HashMap::new(),
            emails: HashMap::new(),
            leads: HashMap::new(),
            expiry: BTreeMap::new(),
            high_water: None,
        }
    }

    /// Classifies an event without changing the index.
    pub fn check(&self, keys: &EventKeys<'_>) -> DedupVerdict {
        if let Some(seen) = self.events.get(keys.event_id) {
            // the same input record redelivered gets its first verdict again (its output may never
            // have been acknowledged); anything else with a known id is a duplicate
            if keys.input.is_none() || seen.input != keys.input {
                return DedupVerdict::DuplicateEvent;
            }
            return seen
                .previous_event_id
                .as_ref()
                .map_or(DedupVerdict::NewLead, |p| DedupVerdict::RepeatLead {
                    previous_event_id: p.to_string(),
                });
        }
        let by_email = keys.hashes.email.and_then(|e| self.emails.get(&h(e)));
        let by_lead = self.leads.get(&h(keys.hashes.lead));
        [by_email, by_lead]
            .into_iter()
            .flatten()
            .filter(|s| &*s.event_id != keys.event_id && self.within_window(s.at, keys.at))
            .max_by_key(|s| s.at)
            .map_or(DedupVerdict::NewLead, |s| DedupVerdict::RepeatLead {
                previous_event_id: s.event_id.to_string(),
            })
    }

    /// Remembers an event (processed here or replayed from the changelog), then evicts what fell
    /// out of the window. Idempotent: recording the same event twice changes nothing.
    pub fn record(&mut self, keys: &EventKeys<'_>) {
        let at = keys.at;
        let event_id = match self.events.get_key_value(keys.event_id) {
            Some((id, _)) => Arc::clone(id),
            None => {
                let id: Arc<str> = Arc::from(keys.event_id);
                self.events.insert(
                    Arc::clone(&id),
                    Seen {
                        at,
                        input: keys.input,
                        previous_event_id: keys.previous_event_id.map(Arc::from),
                    },
                );
                self.push_expiry(at, Key::Event(Arc::clone(&id)));
                id
            }
        };
        if let Some(email) = keys.hashes.email {
            if upsert_latest(&mut self.emails, h(email), &event_id, at) {
                self.push_expiry(at, Key::Email(h(email)));
            }
        }
        let lead = h(keys.hashes.lead);
        if upsert_latest(&mut self.leads, lead, &event_id, at) {
            self.push_expiry(at, Key::Lead(lead));
        }
        if self.high_water.is_none_or(|hw| at > hw) {
            self.high_water = Some(at);
        }
        self.evict();
    }

    /// Number of remembered event ids, emails and lead ids.
    pub fn len(&self) -> usize {
        self.events.len() + self.emails.len() + self.leads.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The newest event time recorded.
    pub fn high_water(&self) -> Option<Timestamp> {
        self.high_water
    }

    fn within_window(&self, seen: Timestamp, now: Timestamp) -> bool {
        now.0.abs_diff(seen.0) <= self.window_ms.unsigned_abs()
    }

    fn push_expiry(&mut self, at: Timestamp, key: Key) {
        self.expiry.entry(at).or_default().push(key);
    }

    /// Drops everything sighted strictly before `high_water - window`.
    fn evict(&mut self) {
        let Some(hw) = self.high_water else { return };
        let cutoff = Timestamp(hw.0.saturating_sub(self.window_ms));
        while let Some(entry) = self.expiry.first_entry() {
            if *entry.key() >= cutoff {
                break;
            }
            for key in entry.remove() {
                match key {
                    Key::Event(id) => {
                        if self.events.get(&id).is_some_and(|s| s.at < cutoff) {
                            self.events.remove(&id);
                        }
                    }
                    Key::Email(e) => {
                        if self.emails.get(&e).is_some_and(|s| s.at < cutoff) {
                            self.emails.remove(&e);
                        }
                    }
                    Key::Lead(l) => {
                        if self.leads.get(&l).is_some_and(|s| s.at < cutoff) {
                            self.leads.remove(&l);
                        }
                    }
                }
            }
        }
    }
}

/// Keeps the latest sighting per key; whether the map changed.
fn upsert_latest(
    map: &mut HashMap<u128, Sighting>,
    key: u128,
    event_id: &Arc<str>,
    at: Timestamp,
) -> bool {
    if let Some(existing) = map.get(&key) {
        if existing.at > at || (existing.at == at && existing.event_id == *event_id) {
            return false;
        }
    }
    map.insert(
        key,
        Sighting {
            event_id: Arc::clone(event_id),
            at,
        },
    );
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;
    const WINDOW: Duration = Duration::from_secs(30 * 86_400);
    const T0: i64 = 1_795_167_000_000;

    fn keys<'a>(
        event_id: &'a str,
        lead_id: &'a str,
        email: Option<&'a str>,
        at: i64,
    ) -> EventKeys<'a> {
        EventKeys::new(event_id, lead_id, email, Timestamp(at))
    }

    fn repeat(prev: &str) -> DedupVerdict {
        DedupVerdict::RepeatLead {
            previous_event_id: prev.into(),
        }
    }

    /// Each case: events recorded first, then the event checked, and the verdict expected.
    #[test]
    fn verdicts() {
        type Ev = (&'static str, &'static str, Option<&'static str>, i64);
        let a = Some("ada@northwind.io");
        let b = Some("bob@northwind.io");
        let cases: &[(&str, &[Ev], Ev, DedupVerdict)] = &[
            (
                "empty index",
                &[],
                ("e2", "l1", a, T0),
                DedupVerdict::NewLead,
            ),
            (
                "same event id",
                &[("e1", "l1", a, T0)],
                ("e1", "l1", a, T0),
                DedupVerdict::DuplicateEvent,
            ),
            (
                "same event id, different content and time",
                &[("e1", "l1", a, T0)],
                ("e1", "l9", b, T0 + DAY),
                DedupVerdict::DuplicateEvent,
            ),
            (
                "same email, new lead id",
                &[("e1", "l1", a, T0)],
                ("e2", "l2", a, T0 + DAY),
                repeat("e1"),
            ),
            (
                "same lead id, new email",
                &[("e1", "l1", a, T0)],
                ("e2", "l1", b, T0 + DAY),
                repeat("e1"),
            ),
            (
                "same lead id, no email",
                &[("e1", "l1", None, T0)],
                ("e2", "l1", None, T0 + DAY),
                repeat("e1"),
            ),
            (
                "nothing shared",
                &[("e1", "l1", a, T0)],
                ("e2", "l2", b, T0 + DAY),
                DedupVerdict::NewLead,
            ),
            (
                "exactly one window later",
                &[("e1", "l1", a, T0)],
                ("e2", "l2", a, T0 + 30 * DAY),
                repeat("e1"),
            ),
            (
                "one millisecond past the window",
                &[("e1", "l1", a, T0)],
                ("e2", "l2", a, T0 + 30 * DAY + 1),
                DedupVerdict::NewLead,
            ),
            (
                "out of order, within window",
                &[("e1", "l1", a, T0)],
                ("e2", "l2", a, T0 - 29 * DAY),
                repeat("e1"),
            ),
            (
                "out of order, beyond window",
                &[("e1", "l1", a, T0)],
                ("e2", "l2", a, T0 - 31 * DAY),
                DedupVerdict::NewLead,
            ),
            (
                "window runs from the latest sighting",
                &[("e1", "l1", a, T0), ("e2", "l1", a, T0 + 20 * DAY)],
                ("e3", "l1", a, T0 + 45 * DAY),
                repeat("e2"),
            ),
            (
                "most recent of email and lead sightings wins",
                &[("e1", "l1", a, T0), ("e2", "l2", b, T0 + 2 * DAY)],
                ("e3", "l1", b, T0 + 3 * DAY),
                repeat("e2"),
            ),
            (
                "a late event does not replace a newer sighting",
                &[("e1", "l1", a, T0 + 10 * DAY), ("e2", "l1", a, T0)],
                ("e3", "l1", a, T0 + 11 * DAY),
                repeat("e1"),
            ),
        ];
        for (name, recorded, (id, lead, email, at), want) in cases {
            let mut index = DedupIndex::new(WINDOW);
            for (rid, rlead, remail, rat) in *recorded {
                index.record(&keys(rid, rlead, *remail, *rat));
            }
            let got = index.check(&keys(id, lead, *email, *at));
            assert_eq!(&got, want, "{name}");
        }
    }

    #[test]
    fn record_is_idempotent() {
        let mut index = DedupIndex::new(WINDOW);
        let k = keys("e1", "l1", Some("ada@northwind.io"), T0);
        index.record(&k);
        let size = index.len();
        let expiry = index.expiry.values().map(Vec::len).sum::<usize>();
        index.record(&k);
        assert_eq!(index.len(), size);
        assert_eq!(index.expiry.values().map(Vec::len).sum::<usize>(), expiry);
        assert_eq!(index.check(&k), DedupVerdict::DuplicateEvent);
    }

    #[test]
    fn entries_older_than_the_window_are_evicted() {
        let mut index = DedupIndex::new(WINDOW);
        for i in 0..100 {
            let id = format!("e{i}");
            let lead = format!("l{i}");
            let email = format!("p{i}@northwind.io");
            index.record(&keys(&id, &lead, Some(&email), T0 + i * DAY));
        }
        // Days 69..=99 are within 30 days of the high watermark (day 99): 31 leads, 3 keys each.
        assert_eq!(index.high_water(), Some(Timestamp(T0 + 99 * DAY)));
        assert_eq!(index.len(), 31 * 3);
        assert!(index.expiry.keys().all(|t| t.0 >= T0 + 69 * DAY));
        assert_eq!(
            index.check(&keys("e10", "l10", Some("p10@northwind.io"), T0 + 10 * DAY)),
            DedupVerdict::NewLead,
            "evicted event ids are forgotten"
        );
        assert_eq!(
            index.check(&keys("e70", "lx", None, T0 + 70 * DAY)),
            DedupVerdict::DuplicateEvent
        );
    }

    #[test]
    fn a_refreshed_sighting_survives_eviction_of_its_older_entry() {
        let mut index = DedupIndex::new(WINDOW);
        index.record(&keys("e1", "l1", Some("ada@northwind.io"), T0));
        index.record(&keys("e2", "l1", Some("ada@northwind.io"), T0 + 25 * DAY));
        index.record(&keys("e3", "l2", None, T0 + 40 * DAY));
        assert_eq!(
            index.check(&keys("e4", "l9", Some("ada@northwind.io"), T0 + 41 * DAY)),
            repeat("e2")
        );
        assert_eq!(
            index.check(&keys("e1", "l1", None, T0)),
            repeat("e2"),
            "e1 fell out of the window: no longer a duplicate event, but its lead is known"
        );
    }

    #[test]
    fn a_redelivered_record_gets_its_first_verdict_again() {
        let at = |offset| {
            Some(InputPosition {
                partition: 1,
                offset,
            })
        };
        let a = Some("ada@northwind.io");
        let mut index = DedupIndex::new(WINDOW);
        index.record(&keys("e1", "l1", a, T0).read_at(at(1)));
        index.record(
            &keys("e2", "l2", a, T0 + DAY)
                .read_at(at(2))
                .decided(Some("e1")),
        );
        // the same records again: their first verdicts, although each is now a sighting itself
        assert_eq!(
            index.check(&keys("e2", "l2", a, T0 + DAY).read_at(at(2))),
            repeat("e1")
        );
        assert_eq!(
            index.check(&keys("e1", "l1", a, T0).read_at(at(1))),
            DedupVerdict::NewLead
        );
        // the same event ids in other records, or read from nowhere known: duplicates
        assert_eq!(
            index.check(&keys("e2", "l2", a, T0 + DAY).read_at(at(3))),
            DedupVerdict::DuplicateEvent
        );
        assert_eq!(
            index.check(&keys("e2", "l2", a, T0 + DAY)),
            DedupVerdict::DuplicateEvent
        );
        // a changelog record carries the same facts
        let key = crate::dedup_key::dedup_key(
            "e3",
            LeadHashes::of("l3", a),
            Timestamp(T0 + 2 * DAY),
            Some("e2"),
            at(7),
        );
        index.record(&EventKeys::of_dedup_key(&key));
        assert_eq!(
            index.check(&keys("e3", "l3", a, T0 + 2 * DAY).read_at(at(7))),
            repeat("e2")
        );
    }

    #[test]
    fn empty_index() {
        let index = DedupIndex::new(WINDOW);
        assert!(index.is_empty());
        assert_eq!(index.high_water(), None);
    }
}
