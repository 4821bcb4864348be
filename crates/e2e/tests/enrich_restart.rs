#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! The enrich stage's deduplication memory survives a restart: it is rebuilt from its dedup
//! changelog (`enrich.dedup-keys`, a side input), not from local files and not from leads.enriched.
//! A repeated event id produces nothing; the same person again — same email, a new lead id, on
//! another partition — is marked as an update of the earlier event. Under load the changelog's
//! entries are joined into fewer records, none lost, each partition's in order, and a restart
//! rebuilds the memory from those joined records.

use std::collections::BTreeMap;
use std::time::Duration;

use leadflow_e2e::Service;
use leadflow_enrich::dedup_key::hash128;
use leadflow_events::{Codec, DedupKeyBatch, EnrichedLead, Event, LeadEvent, Timestamp, samples};
use leadflow_testkit::{
    bootstrap, consume_all, create_topic, produce_raw_all, produce_raw_burst, unique_name,
};

const EMAIL: &str = "ada.lovelace@northwind.io";

fn lead(event_id: &str, lead_id: &str, minutes_later: i64) -> LeadEvent {
    let mut l = samples::lead_event();
    l.event_id = event_id.into();
    l.lead_id = lead_id.into();
    l.contact.email = Some(EMAIL.into());
    l.occurred_at = Timestamp(samples::T0.0 + minutes_later * 60_000);
    l
}

/// Produces the leads keyed by lead id; returns the partition each landed on.
async fn produce(bs: &str, topic: &str, leads: &[LeadEvent]) -> Vec<i32> {
    let codec = Codec::single_object().unwrap();
    let mut records = Vec::new();
    for l in leads {
        records.push((
            Some(l.key().as_bytes().to_vec()),
            codec.encode(topic, l).await.unwrap(),
        ));
    }
    produce_raw_all(bs, topic, records)
        .await
        .into_iter()
        .map(|(partition, _)| partition)
        .collect()
}

async fn enriched(bs: &str, topic: &str, expected: usize, timeout: Duration) -> Vec<EnrichedLead> {
    let codec = Codec::single_object().unwrap();
    let mut out = Vec::new();
    for r in consume_all(bs, topic, expected, timeout).await {
        out.push(codec.decode(&r.payload).await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dedup_memory_is_rebuilt_from_the_changelog_after_a_restart() {
    let bs = bootstrap();
    let lives = TwoLives::create(&bs, "dedup", 2).await;
    let env = |enriched: &str| lives.env(&bs, enriched);
    let logs = tempfile::tempdir().unwrap();

    // first life: one lead; its changelog record holds hashes only, keyed by the lead id
    let first = Service::start("leadflow-enrich", &env(&lives.first_out), logs.path());
    let first_partition = produce(&bs, &lives.raw, &[lead("evt-first", "lead-a", 0)]).await[0];
    let seen = enriched(&bs, &lives.first_out, 1, Duration::from_secs(60)).await;
    assert_eq!(seen.len(), 1, "log:\n{}", first.log());
    assert!(!seen[0].is_update);
    let changelog = consume_all(&bs, &lives.keys, 1, Duration::from_secs(30)).await;
    assert_eq!(changelog.len(), 1, "log:\n{}", first.log());
    assert!(first.terminate(Duration::from_secs(30)).success());
    let record = &changelog[0];
    assert_eq!(record.key.as_deref(), Some(&b"lead-a"[..]));
    let batch: DedupKeyBatch = Codec::single_object()
        .unwrap()
        .decode(&record.payload)
        .await
        .unwrap();
    assert_eq!(batch.keys.len(), 1);
    let key = &batch.keys[0];
    assert_eq!(key.event_id, "evt-first");
    assert_eq!(key.email_hash, Some(hash128(EMAIL)));
    assert!(
        !record
            .payload
            .windows(EMAIL.len())
            .any(|w| w == EMAIL.as_bytes()),
        "no plaintext email on the changelog"
    );

    // second life, no local state, and its leads.enriched a fresh empty topic: only the changelog
    // remembers. The same event again, then the same person under a new lead id.
    let second = Service::start("leadflow-enrich", &env(&lives.second_out), logs.path());
    let partitions = produce(
        &bs,
        &lives.raw,
        &[
            lead("evt-first", "lead-a", 0),
            lead("evt-second", "lead-d", 30),
        ],
    )
    .await;
    assert_ne!(
        partitions[1], first_partition,
        "the repeat must arrive on the other partition (librdkafka: CRC32 of the key)"
    );
    let _ = enriched(&bs, &lives.second_out, 1, Duration::from_secs(60)).await;
    // ask for one more than expected, briefly: nothing extra may arrive
    let seen = enriched(&bs, &lives.second_out, 2, Duration::from_secs(5)).await;
    let log = second.log();
    assert!(second.terminate(Duration::from_secs(30)).success());
    assert_eq!(
        seen.len(),
        1,
        "the repeated event id produced nothing; log:\n{log}"
    );
    let update = &seen[0];
    assert_eq!(update.lead.event_id, "evt-second");
    assert!(update.is_update, "the same person again is an update");
    assert_eq!(update.previous_event_id.as_deref(), Some("evt-first"));
}

/// The topics and the consumer group of an enrich service's two lives: the second life resumes
/// after the first's committed offsets and writes to a fresh `leads.enriched`, so only the changelog
/// (`keys`) carries the dedup memory across.
struct TwoLives {
    raw: String,
    first_out: String,
    second_out: String,
    keys: String,
    exceptions: String,
    group: String,
}

impl TwoLives {
    /// Fresh topics (`partitions` each) and group, named after `prefix`.
    async fn create(bs: &str, prefix: &str, partitions: i32) -> Self {
        let lives = Self {
            raw: unique_name(&format!("{prefix}-raw")),
            first_out: unique_name(&format!("{prefix}-enriched-1")),
            second_out: unique_name(&format!("{prefix}-enriched-2")),
            keys: unique_name(&format!("{prefix}-dedup-keys")),
            exceptions: unique_name(&format!("{prefix}-exceptions")),
            group: unique_name(&format!("{prefix}-enrich")),
        };
        for t in [
            &lives.raw,
            &lives.first_out,
            &lives.second_out,
            &lives.keys,
            &lives.exceptions,
        ] {
            create_topic(bs, t, partitions).await;
        }
        lives
    }

    /// The service's environment for a life writing to `enriched`, with the bundled demo dataset
    /// named explicitly (production names its own file).
    fn env(&self, bs: &str, enriched: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("LEADFLOW_BOOTSTRAP_SERVERS".to_owned(), bs.to_owned()),
            ("LEADFLOW_GROUP_ID".to_owned(), self.group.clone()),
            ("LEADFLOW_TOPICS__RAW".to_owned(), self.raw.clone()),
            ("LEADFLOW_TOPICS__ENRICHED".to_owned(), enriched.to_owned()),
            ("LEADFLOW_TOPICS__DEDUP_KEYS".to_owned(), self.keys.clone()),
            (
                "LEADFLOW_TOPICS__EXCEPTIONS".to_owned(),
                self.exceptions.clone(),
            ),
            ("LEADFLOW_HTTP__LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
            (
                "LEADFLOW_STAGE__PROVIDER__KIND".to_owned(),
                "demo".to_owned(),
            ),
        ])
    }
}

/// A lead of its own person: lead id `lead-{n}`, email `person{n}@northwind.io`.
fn person(n: usize, event_id: &str, lead_id: &str) -> LeadEvent {
    let mut l = samples::lead_event();
    l.event_id = event_id.into();
    l.lead_id = lead_id.into();
    l.contact.email = Some(format!("person{n}@northwind.io"));
    l.occurred_at = Timestamp(samples::T0.0 + i64::try_from(n).unwrap() * 1_000);
    l
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_load_the_changelog_is_joined_into_fewer_records_and_rebuilds_the_memory() {
    const LEADS: usize = 2_000;
    let bs = bootstrap();
    let lives = TwoLives::create(&bs, "joined", 3).await;
    let codec = Codec::single_object().unwrap();
    let mut records = Vec::new();
    for n in 0..LEADS {
        let l = person(n, &format!("evt-{n}"), &format!("lead-{n}"));
        records.push((
            Some(l.key().as_bytes().to_vec()),
            codec.encode(&lives.raw, &l).await.unwrap(),
        ));
    }
    // preloaded: enrich meets a backlog, as after an outage
    let positions = produce_raw_burst(&bs, &lives.raw, records).await;
    let logs = tempfile::tempdir().unwrap();

    let first = Service::start(
        "leadflow-enrich",
        &lives.env(&bs, &lives.first_out),
        logs.path(),
    );
    let seen = enriched(&bs, &lives.first_out, LEADS, Duration::from_secs(120)).await;
    assert_eq!(seen.len(), LEADS, "log:\n{}", first.log());
    // every entry is on the changelog once the inputs' offsets are stored; give the last records a
    // moment, then read all of it (more records than leads cannot exist)
    tokio::time::sleep(Duration::from_secs(2)).await;
    let changelog = consume_all(&bs, &lives.keys, LEADS, Duration::from_secs(10)).await;
    assert!(first.terminate(Duration::from_secs(30)).success());

    let mut entries = Vec::new();
    // per changelog partition, the input offsets seen last for each input partition
    let mut last: BTreeMap<(i32, i32), i64> = BTreeMap::new();
    for record in &changelog {
        let batch: DedupKeyBatch = codec.decode(&record.payload).await.unwrap();
        assert!(!batch.keys.is_empty());
        for k in &batch.keys {
            let at = (record.partition, k.input_partition);
            let before = last.insert(at, k.input_offset);
            assert!(
                before.is_none_or(|b| b < k.input_offset),
                "entries of one input partition stay in input order within a changelog partition"
            );
        }
        entries.extend(batch.keys);
    }
    let mut ids: Vec<String> = entries.iter().map(|k| k.event_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), LEADS, "every produced lead has its entry");
    assert_eq!(entries.len(), LEADS, "and only one");
    assert!(
        changelog.len() < LEADS / 2,
        "a backlog's entries are joined: {} records for {LEADS} leads",
        changelog.len()
    );
    // an entry sits where its input was read
    let by_id: BTreeMap<&str, (i32, i64)> = entries
        .iter()
        .map(|k| (k.event_id.as_str(), (k.input_partition, k.input_offset)))
        .collect();
    assert_eq!(by_id["evt-0"], positions[0]);
    assert_eq!(by_id["evt-1999"], positions[LEADS - 1]);

    // second life, a fresh leads.enriched: the joined changelog is all it remembers. Three people
    // again under new lead ids (updates) and three repeated event ids (dropped).
    let second = Service::start(
        "leadflow-enrich",
        &lives.env(&bs, &lives.second_out),
        logs.path(),
    );
    let mut again = Vec::new();
    for n in [0, 977, 1_999] {
        let l = person(n, &format!("evt-{n}"), &format!("lead-{n}"));
        again.push(l);
    }
    for n in [5, 1_000, 1_998] {
        let l = person(n, &format!("evt-again-{n}"), &format!("lead-new-{n}"));
        again.push(l);
    }
    produce(&bs, &lives.raw, &again).await;
    let _ = enriched(&bs, &lives.second_out, 3, Duration::from_secs(60)).await;
    let seen = enriched(&bs, &lives.second_out, 4, Duration::from_secs(5)).await;
    let log = second.log();
    assert!(second.terminate(Duration::from_secs(30)).success());
    assert_eq!(
        seen.len(),
        3,
        "the repeated event ids produced nothing; log:\n{log}"
    );
    for (update, n) in seen.iter().zip([5, 1_000, 1_998]) {
        assert_eq!(update.lead.event_id, format!("evt-again-{n}"));
        assert!(update.is_update, "{n}: the same person again is an update");
        assert_eq!(update.previous_event_id, Some(format!("evt-{n}")));
    }
}
