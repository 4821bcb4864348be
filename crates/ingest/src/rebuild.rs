//! Start-up: the idempotency memory is rebuilt from the records ingest wrote to `leads.raw` within the
//! window (their `leadflow-ingest-*` headers), bounded in time (`rebuild_timeout_ms`) and bytes
//! (`idempotency_max_bytes`: the store evicts each publisher's oldest). Records other producers wrote
//! carry no such headers and are skipped.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use leadflow_runtime::topic_range::{PartitionRange, RangeError, RangeSpec, Step, TopicRange};
use rdkafka::message::Headers;
use rdkafka::{ClientConfig, Message};

use crate::idempotency::{IdempotencyStore, Stored, event_key, request_key};
use crate::sink::headers;

/// What the replay read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rebuilt {
    pub records: u64,
    pub events: u64,
    pub requests: u64,
    /// The replay stopped at its time bound before reaching the end of the topic.
    pub timed_out: bool,
    /// Records with ingest headers but without a valid MAC (ignored, I5).
    pub unsigned: u64,
}

#[derive(Default)]
struct Request {
    fingerprint: [u8; 32],
    count: usize,
    ids: BTreeMap<usize, String>,
    at_ms: i64,
}

fn fingerprint(hex_text: &[u8]) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_text, &mut out).ok()?;
    Some(out)
}

/// Applies ingest's records to the memory; batches are restored once all their records are read.
#[derive(Default)]
pub struct Replayer {
    requests: HashMap<String, Request>,
    /// With a `record_signing_secret`, only records whose ingest headers carry its MAC count (I5).
    signing: Option<leadflow_runtime::Secret>,
    pub counts: Rebuilt,
}

impl Replayer {
    /// A replayer that trusts only records signed with `signing` (when set).
    pub fn new(signing: Option<leadflow_runtime::Secret>) -> Self {
        Self {
            signing,
            ..Self::default()
        }
    }

    /// Applies one record (its headers and timestamp).
    pub fn apply<M: Message>(&mut self, msg: &M, now_ms: i64, store: &mut IdempotencyStore) {
        self.counts.records += 1;
        let Some(hs) = msg.headers() else { return };
        let mut get = BTreeMap::new();
        for h in hs.iter() {
            if let Some(v) = h.value {
                get.insert(h.key, v);
            }
        }
        if let Some(secret) = &self.signing {
            let value = |k: &str| get.get(k).copied().unwrap_or_default();
            let expected = crate::sink::headers_mac(
                secret.expose(),
                [
                    value(headers::PUBLISHER),
                    value(headers::EVENT_ID),
                    value(headers::FINGERPRINT),
                    value(headers::KEY),
                    value(headers::REQUEST),
                    value(headers::POSITION),
                ],
            );
            let given = value(headers::MAC);
            if !bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), given)) {
                // not written by an ingest holding the secret: another producer's headers
                self.counts.unsigned += 1;
                return;
            }
        }
        let at_ms = msg.timestamp().to_millis().unwrap_or(now_ms);
        let (Some(publisher), Some(event_id), Some(fp)) = (
            get.get(headers::PUBLISHER)
                .and_then(|v| std::str::from_utf8(v).ok()),
            get.get(headers::EVENT_ID)
                .and_then(|v| std::str::from_utf8(v).ok()),
            get.get(headers::FINGERPRINT).and_then(|v| fingerprint(v)),
        ) else {
            return;
        };
        store.restore(
            &event_key(publisher, event_id),
            fp,
            Stored {
                event_ids: vec![event_id.to_owned()],
            },
            at_ms,
        );
        self.counts.events += 1;
        let (Some(key), Some(request_fp), Some(position)) = (
            get.get(headers::KEY)
                .and_then(|v| std::str::from_utf8(v).ok()),
            get.get(headers::REQUEST).and_then(|v| fingerprint(v)),
            get.get(headers::POSITION)
                .and_then(|v| std::str::from_utf8(v).ok()),
        ) else {
            return;
        };
        let Some((index, count)) = position
            .split_once('/')
            .and_then(|(i, c)| Some((i.parse::<usize>().ok()?, c.parse::<usize>().ok()?)))
        else {
            return;
        };
        let rk = request_key(publisher, key);
        let r = self.requests.entry(rk.clone()).or_default();
        r.fingerprint = request_fp;
        r.count = count;
        r.ids.insert(index, event_id.to_owned());
        r.at_ms = r.at_ms.max(at_ms);
        // a request cut short by a failure was answered 503: only complete ones are replayed
        if r.ids.len() == r.count && r.ids.keys().copied().eq(0..r.count) {
            if let Some(done) = self.requests.remove(&rk) {
                store.restore(
                    &rk,
                    done.fingerprint,
                    Stored {
                        event_ids: done.ids.into_values().collect(),
                    },
                    done.at_ms,
                );
                self.counts.requests += 1;
            }
        }
    }
}

/// The read of `leads.raw` behind the rebuild: a following range read (`leadflow_runtime::topic_range`),
/// so the catch-up ends where the topic ended at the start and the follower goes on from there with
/// the same consumer. Owned by one thread at a time.
pub struct RebuildRead {
    range: RefCell<TopicRange>,
}

/// A group-less read of `topic` from `now_ms - window_ms`; returns it with its planned ranges.
pub fn open(
    client: &ClientConfig,
    topic: &str,
    now_ms: i64,
    window_ms: i64,
) -> Result<(RebuildRead, Vec<PartitionRange>), String> {
    let mut config = client.clone();
    config
        .set("group.id", "leadflow-ingest-replay")
        .set("fetch.wait.max.ms", "50");
    let mut spec = RangeSpec::since(topic, now_ms.saturating_sub(window_ms));
    spec.follow = true;
    let range = TopicRange::open(&config, spec).map_err(|e| e.to_string())?;
    let ranges = range.ranges().to_vec();
    Ok((
        RebuildRead {
            range: RefCell::new(range),
        },
        ranges,
    ))
}

/// Reads until every partition reached the end it had at the start (`ranges`), bounded by
/// `timeout`, into `store`. Blocking: run it on a blocking thread.
pub fn catch_up(
    read: &RebuildRead,
    ranges: Vec<PartitionRange>,
    now_ms: i64,
    timeout: Duration,
    replayer: &mut Replayer,
    store: &mut IdempotencyStore,
) -> Result<(), String> {
    let started = Instant::now();
    let mut range = read.range.borrow_mut();
    tracing::debug!(
        offsets = ranges.iter().map(PartitionRange::len).sum::<i64>(),
        "idempotency rebuild: reading {}",
        range.topic()
    );
    loop {
        if started.elapsed() > timeout {
            replayer.counts.timed_out = true;
            return Ok(());
        }
        match range.step() {
            Ok(Step::Record(msg)) => replayer.apply(&msg, now_ms, store),
            Ok(Step::CaughtUp | Step::End) => return Ok(()),
            Ok(Step::Reached { .. } | Step::Idle) => {}
            // the time bound decides when a slow broker has had long enough
            Err(e @ RangeError::Stalled { .. }) => {
                tracing::warn!(error = %e, "idempotency rebuild")
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Keeps following the topic after the catch-up: other instances' accepted requests join this
/// instance's memory within a poll (so a retry reaching another replica is still recognised).
pub fn follow(
    read: RebuildRead,
    mut replayer: Replayer,
    store: &std::sync::Mutex<IdempotencyStore>,
    clock: &dyn leadflow_runtime::Clock,
    stop: &tokio_util::sync::CancellationToken,
) {
    let mut range = read.range.into_inner();
    while !stop.is_cancelled() {
        match range.step() {
            Ok(Step::Record(msg)) => {
                let now = clock.now().millis();
                let mut s = store
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                replayer.apply(&msg, now, &mut s);
            }
            Ok(_) => {}
            Err(e) => {
                tracing::debug!(error = %e, "idempotency follower: read error");
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use rdkafka::Timestamp;
    use rdkafka::message::{Header, OwnedHeaders, OwnedMessage};

    use super::*;
    use crate::idempotency::Claim;

    fn record(publisher: &str, event_id: &str, mac: Option<&str>) -> OwnedMessage {
        let fp = hex::encode([7u8; 32]);
        let mut h = OwnedHeaders::new()
            .insert(Header {
                key: headers::PUBLISHER,
                value: Some(publisher),
            })
            .insert(Header {
                key: headers::EVENT_ID,
                value: Some(event_id),
            })
            .insert(Header {
                key: headers::FINGERPRINT,
                value: Some(&fp),
            });
        if let Some(mac) = mac {
            h = h.insert(Header {
                key: headers::MAC,
                value: Some(mac),
            });
        }
        OwnedMessage::new(
            None,
            None,
            "leads.raw".into(),
            Timestamp::CreateTime(1_000),
            0,
            0,
            Some(h),
        )
    }

    fn mac(secret: &str, publisher: &str, event_id: &str) -> String {
        let fp = hex::encode([7u8; 32]);
        crate::sink::headers_mac(
            secret,
            [
                publisher.as_bytes(),
                event_id.as_bytes(),
                fp.as_bytes(),
                b"",
                b"",
                b"",
            ],
        )
    }

    #[test]
    fn with_a_signing_secret_only_signed_headers_are_trusted() {
        let mut store = IdempotencyStore::new(86_400, 1 << 30, ["forms"]);
        let mut r = Replayer::new(Some(leadflow_runtime::Secret::new("s3cret")));
        // another producer's made-up headers: no MAC, or a MAC under another secret
        r.apply(&record("forms", "forged-1", None), 2_000, &mut store);
        let wrong = mac("guess", "forms", "forged-2");
        r.apply(
            &record("forms", "forged-2", Some(&wrong)),
            2_000,
            &mut store,
        );
        assert!(store.is_empty(), "forged headers claim nothing");
        assert_eq!(r.counts.unsigned, 2);
        // ingest's own record
        let good = mac("s3cret", "forms", "e1");
        r.apply(&record("forms", "e1", Some(&good)), 2_000, &mut store);
        assert!(matches!(
            store.claim(&event_key("forms", "e1"), [7; 32], 3_000),
            Claim::Replay(_)
        ));
    }

    #[test]
    fn headers_of_publishers_that_are_not_configured_are_ignored() {
        let mut store = IdempotencyStore::new(86_400, 1 << 30, ["forms"]);
        let mut r = Replayer::new(None);
        r.apply(&record("intruder", "e1", None), 2_000, &mut store);
        assert!(store.is_empty());
    }
}
