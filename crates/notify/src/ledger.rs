//! The delivery ledger: which (idempotency key, channel) pairs are already delivered. Filled from
//! notify's own receipts as it delivers, and from `handoff.deliveries` replayed at start (side
//! input), so a redelivered, replayed or rebalanced packet is not delivered twice.
//! Per-key claims serialise concurrent deliveries of the same packet to the same channel.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use leadflow_events::{DeliveryChannel, DeliveryReceipt, DeliveryStatus, Timestamp};

/// What was delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Done {
    pub external_id: String,
    pub url: Option<String>,
}

type Key = (String, DeliveryChannel);

#[derive(Default)]
struct Inner {
    delivered: HashMap<Key, Done>,
    order: VecDeque<Key>,
    claims: HashMap<Key, Arc<tokio::sync::Mutex<()>>>,
    /// Intents without a delivered receipt (RULES.md §3a): when the earliest was written.
    intents: HashMap<Key, Timestamp>,
    /// The keys delivered to the CRM, by lead (the key's first `|` field: route's keys are
    /// `lead|event|tier|trigger|level`).
    crm_by_lead: HashMap<String, BTreeSet<String>>,
}

fn lead_of(key: &str) -> &str {
    key.split('|').next().unwrap_or(key)
}

/// Bounded: the oldest entries are forgotten past `capacity` (the side input's window bounds what
/// is replayed anyway).
pub struct Ledger {
    capacity: usize,
    inner: Mutex<Inner>,
}

impl Ledger {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn delivered(&self, key: &str, channel: DeliveryChannel) -> Option<Done> {
        self.lock()
            .delivered
            .get(&(key.to_owned(), channel))
            .cloned()
    }

    pub fn mark(&self, key: &str, channel: DeliveryChannel, done: Done) {
        let mut inner = self.lock();
        let k = (key.to_owned(), channel);
        inner.intents.remove(&k);
        if inner.delivered.insert(k.clone(), done).is_none() {
            if channel == DeliveryChannel::Crm {
                inner
                    .crm_by_lead
                    .entry(lead_of(key).to_owned())
                    .or_default()
                    .insert(key.to_owned());
            }
            inner.order.push_back(k);
            while inner.order.len() > self.capacity {
                if let Some(old) = inner.order.pop_front() {
                    inner.delivered.remove(&old);
                    if old.1 == DeliveryChannel::Crm {
                        let lead = lead_of(&old.0).to_owned();
                        if let Some(keys) = inner.crm_by_lead.get_mut(&lead) {
                            keys.remove(&old.0);
                            if keys.is_empty() {
                                inner.crm_by_lead.remove(&lead);
                            }
                        }
                    }
                }
            }
        }
    }

    /// An intent to call `channel` for `key` written at `at` (RULES.md §3a): remembered until a
    /// delivered receipt for the pair arrives; the earliest one counts.
    pub fn note_intent(&self, key: &str, channel: DeliveryChannel, at: Timestamp) {
        let mut inner = self.lock();
        let k = (key.to_owned(), channel);
        if inner.delivered.contains_key(&k) {
            return;
        }
        let earliest = inner
            .intents
            .get(&k)
            .map_or(at, |t| Timestamp(t.0.min(at.0)));
        inner.intents.insert(k, earliest);
        if inner.intents.len() > self.capacity {
            if let Some(oldest) = inner
                .intents
                .iter()
                .min_by_key(|(_, t)| t.0)
                .map(|(k, _)| k.clone())
            {
                inner.intents.remove(&oldest);
            }
        }
    }

    /// When the earliest intent for `key` and `channel` without a delivered receipt was written.
    pub fn intent(&self, key: &str, channel: DeliveryChannel) -> Option<Timestamp> {
        self.lock().intents.get(&(key.to_owned(), channel)).copied()
    }

    /// Applies one receipt (own output replayed, or another instance's).
    pub fn apply(&self, r: &DeliveryReceipt) {
        if r.status == DeliveryStatus::Posting {
            let key = r.idempotency_key.as_deref().unwrap_or(&r.packet_id);
            self.note_intent(key, r.channel, r.delivered_at);
            return;
        }
        let delivered = matches!(
            (r.channel, r.status),
            (
                DeliveryChannel::Slack | DeliveryChannel::Crm,
                DeliveryStatus::Delivered
            ) | (DeliveryChannel::Email, DeliveryStatus::FellBack)
        );
        if delivered {
            let key = r.idempotency_key.as_deref().unwrap_or(&r.packet_id);
            self.mark(
                key,
                r.channel,
                Done {
                    external_id: r.external_id.clone().unwrap_or_default(),
                    url: r.remote_url.clone(),
                },
            );
        }
    }

    /// The keys of `lead`'s packets already delivered to the CRM (sorted).
    pub fn crm_keys_of_lead(&self, lead: &str) -> Vec<String> {
        self.lock()
            .crm_by_lead
            .get(lead)
            .map(|k| k.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Waits until no other delivery of `key` to `channel` is in progress in this process.
    pub async fn claim(&self, key: &str, channel: DeliveryChannel) -> Claim<'_> {
        let k = (key.to_owned(), channel);
        let lock = self
            .lock()
            .claims
            .entry(k.clone())
            .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(())))
            .clone();
        let guard = lock.clone().lock_owned().await;
        Claim {
            ledger: self,
            key: k,
            _guard: guard,
        }
    }

    pub fn len(&self) -> usize {
        self.lock().delivered.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Held while a channel delivers one packet.
pub struct Claim<'a> {
    ledger: &'a Ledger,
    key: Key,
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        let mut inner = self.ledger.lock();
        // Only this claim and the map hold it: nobody waits, forget the entry.
        if inner
            .claims
            .get(&self.key)
            .is_some_and(|a| Arc::strong_count(a) <= 2)
        {
            inner.claims.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use leadflow_events::samples;

    use super::*;

    #[test]
    fn an_intent_is_pending_until_its_delivered_receipt_in_either_order() {
        let ledger = Ledger::new(10);
        let mut intent = samples::delivery_receipt();
        intent.status = DeliveryStatus::Posting;
        intent.idempotency_key = Some("k1".into());
        intent.delivered_at = Timestamp(2_000);
        ledger.apply(&intent);
        intent.delivered_at = Timestamp(1_000);
        ledger.apply(&intent);
        assert_eq!(
            ledger.intent("k1", DeliveryChannel::Slack),
            Some(Timestamp(1_000)),
            "the earliest intent counts"
        );
        assert_eq!(ledger.intent("k1", DeliveryChannel::Crm), None);
        let mut done = samples::delivery_receipt();
        done.idempotency_key = Some("k1".into());
        ledger.apply(&done);
        assert_eq!(ledger.intent("k1", DeliveryChannel::Slack), None);
        // replayed from another partition: the delivered receipt first, then its intent
        done.idempotency_key = Some("k2".into());
        ledger.apply(&done);
        intent.idempotency_key = Some("k2".into());
        ledger.apply(&intent);
        assert_eq!(ledger.intent("k2", DeliveryChannel::Slack), None);
    }

    #[test]
    fn delivered_receipts_are_remembered_and_bounded() {
        let ledger = Ledger::new(2);
        let mut r = samples::delivery_receipt();
        ledger.apply(&r);
        assert!(
            ledger
                .delivered("pkt-evt-0001", DeliveryChannel::Slack)
                .is_some()
        );
        r.status = DeliveryStatus::Retrying;
        r.idempotency_key = Some("other".into());
        ledger.apply(&r);
        assert!(ledger.delivered("other", DeliveryChannel::Slack).is_none());
        for k in ["a", "b", "c"] {
            ledger.mark(
                k,
                DeliveryChannel::Crm,
                Done {
                    external_id: k.into(),
                    url: None,
                },
            );
        }
        assert_eq!(ledger.len(), 2);
        assert!(ledger.delivered("a", DeliveryChannel::Crm).is_none());
        // the CRM keys by lead follow what is remembered
        for k in ["l1|e1|HOT|T|0", "l1|e2|HOT|T|0"] {
            ledger.mark(
                k,
                DeliveryChannel::Crm,
                Done {
                    external_id: k.into(),
                    url: None,
                },
            );
        }
        assert_eq!(
            ledger.crm_keys_of_lead("l1"),
            ["l1|e1|HOT|T|0", "l1|e2|HOT|T|0"]
        );
        ledger.mark(
            "l2|e|HOT|T|0",
            DeliveryChannel::Crm,
            Done {
                external_id: "x".into(),
                url: None,
            },
        );
        assert_eq!(
            ledger.crm_keys_of_lead("l1"),
            ["l1|e2|HOT|T|0"],
            "the oldest forgotten"
        );
    }
}
