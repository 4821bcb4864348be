//! Raw Kafka access for tests: create a topic, produce bytes, read everything back without a group.

use std::time::{Duration, Instant};

use leadflow_runtime::topic_metadata::{fetch_cluster_metadata, led_partition_count};
use leadflow_runtime::topic_range::{RangeItem, RangeSpec, RangeStream, TopicRange};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;

const METADATA_TIMEOUT: Duration = Duration::from_secs(5);

/// One record as it was read from the broker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub payload: Vec<u8>,
    /// Header name and value (`None` for a null value), in record order.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

fn client_config(bootstrap: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap)
        .set("client.id", "leadflow-testkit");
    c
}

/// Creates `name` with `partitions` partitions (replication 1) and waits until the broker's metadata
/// shows every partition. An existing topic is accepted as it is.
pub async fn create_topic(bootstrap: &str, name: &str, partitions: i32) {
    let admin: AdminClient<DefaultClientContext> = client_config(bootstrap)
        .create()
        .unwrap_or_else(|e| panic!("cannot create an admin client for {bootstrap}: {e}"));
    let topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = admin
        .create_topics([&topic], &opts)
        .await
        .unwrap_or_else(|e| panic!("creating topic {name} on {bootstrap} failed: {e}"));
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => panic!("creating topic {topic} on {bootstrap} failed: {code}"),
        }
    }
    let found = partition_count(bootstrap, name, Duration::from_secs(30), move |n| {
        n >= partitions as usize
    })
    .await;
    if found < partitions as usize {
        panic!("topic {name} shows {found} of {partitions} partitions after 30 s on {bootstrap}");
    }
}

/// Polls the cluster metadata until `ready(partitions of topic)` holds or `wait` passes; returns the
/// last count seen (0 when the topic does not exist; see `leadflow_runtime::topic_metadata`).
async fn partition_count(
    bootstrap: &str,
    topic: &str,
    wait: Duration,
    ready: impl Fn(usize) -> bool + Send + 'static,
) -> usize {
    let config = client_config(bootstrap);
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = config
            .create()
            .unwrap_or_else(|e| panic!("cannot create a metadata client: {e}"));
        let deadline = Instant::now() + wait;
        let mut seen = 0;
        loop {
            if let Ok(metadata) = fetch_cluster_metadata(consumer.client(), METADATA_TIMEOUT) {
                seen = led_partition_count(&metadata, &topic);
                if ready(seen) {
                    return seen;
                }
            }
            if Instant::now() >= deadline {
                return seen;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    })
    .await
    .unwrap_or_else(|e| panic!("metadata task failed: {e}"))
}

/// Produces one record and waits for the broker's acknowledgement; returns its (partition, offset).
pub async fn produce_raw(
    bootstrap: &str,
    topic: &str,
    key: Option<&[u8]>,
    payload: &[u8],
) -> (i32, i64) {
    produce_raw_all(
        bootstrap,
        topic,
        [(key.map(<[u8]>::to_vec), payload.to_vec())],
    )
    .await
    .pop()
    .unwrap_or_else(|| panic!("no delivery report for a record to {topic}"))
}

/// A producer waiting for every replica's acknowledgement (30 s per record at most), with `extra`
/// settings.
fn acks_all_producer(bootstrap: &str, extra: &[(&str, &str)]) -> FutureProducer {
    let mut config = client_config(bootstrap);
    config.set("acks", "all").set("message.timeout.ms", "30000");
    for (k, v) in extra {
        config.set(*k, *v);
    }
    config
        .create()
        .unwrap_or_else(|e| panic!("cannot create a producer for {bootstrap}: {e}"))
}

/// A record of `payload` for `topic`, with `key` when there is one.
fn keyed<'a>(
    topic: &'a str,
    key: Option<&'a [u8]>,
    payload: &'a [u8],
) -> FutureRecord<'a, [u8], [u8]> {
    let record = FutureRecord::to(topic).payload(payload);
    match key {
        Some(k) => record.key(k),
        None => record,
    }
}

/// Produces every (key, payload) in order with one producer, waiting for each acknowledgement;
/// returns their (partition, offset) in the same order.
pub async fn produce_raw_all(
    bootstrap: &str,
    topic: &str,
    records: impl IntoIterator<Item = (Option<Vec<u8>>, Vec<u8>)>,
) -> Vec<(i32, i64)> {
    let producer = acks_all_producer(bootstrap, &[]);
    let mut out = Vec::new();
    for (key, payload) in records {
        let delivery = producer
            .send(
                keyed(topic, key.as_deref(), &payload),
                Timeout::After(Duration::from_secs(30)),
            )
            .await
            .unwrap_or_else(|(e, _)| panic!("producing to {topic} on {bootstrap} failed: {e}"));
        out.push((delivery.partition, delivery.offset));
    }
    if let Err(e) = producer.flush(Timeout::After(Duration::from_secs(10))) {
        panic!("flushing the producer for {topic} failed: {e}");
    }
    out
}

/// Produces every record at once (an idempotent producer, so a partition keeps their order) and
/// waits for all the acknowledgements: a preload of thousands of records in one round of requests,
/// where [`produce_raw_all`] waits for each record in turn. Returns (partition, offset) per record.
pub async fn produce_raw_burst(
    bootstrap: &str,
    topic: &str,
    records: impl IntoIterator<Item = (Option<Vec<u8>>, Vec<u8>)>,
) -> Vec<(i32, i64)> {
    let producer = acks_all_producer(
        bootstrap,
        &[("enable.idempotence", "true"), ("linger.ms", "20")],
    );
    let records: Vec<_> = records.into_iter().collect();
    let mut pending = Vec::new();
    for (key, payload) in &records {
        pending.push(producer.send(
            keyed(topic, key.as_deref(), payload),
            Timeout::After(Duration::from_secs(30)),
        ));
    }
    let mut out = Vec::with_capacity(pending.len());
    for delivery in futures::future::join_all(pending).await {
        let d = delivery
            .unwrap_or_else(|(e, _)| panic!("producing to {topic} on {bootstrap} failed: {e}"));
        out.push((d.partition, d.offset));
    }
    out
}

/// Reads `topic` from the beginning of every partition, without a consumer group commit, until
/// `expected` records arrived or `timeout` passed, whichever comes first. Returns what was read,
/// sorted by partition then offset; callers assert on the count (ask for one more than you expect,
/// with a short timeout, to check nothing extra arrived). A topic that does not exist within the
/// timeout gives an empty result.
pub async fn consume_all(
    bootstrap: &str,
    topic: &str,
    expected: usize,
    timeout: Duration,
) -> Vec<Record> {
    let deadline = tokio::time::Instant::now() + timeout;
    let Some(mut reader) = TopicReader::open(bootstrap, topic, timeout).await else {
        return Vec::new();
    };
    let mut records = Vec::new();
    while records.len() < expected {
        match reader.next(deadline).await {
            Some(r) => records.push(r),
            None => break,
        }
    }
    records.sort_by_key(|r| (r.partition, r.offset));
    records
}

/// Every record of `topic` up to the end each partition has now (its high watermark), in
/// partition and offset order: what a test reads once the writers stopped, to count exactly what
/// was written (no record after the end can be missed, none is waited for).
pub async fn read_to_end(bootstrap: &str, topic: &str) -> Vec<Record> {
    let mut config = client_config(bootstrap);
    config.set("group.id", crate::unique_name("leadflow-testkit-reader"));
    let mut records: Vec<Record> =
        leadflow_runtime::topic_range::read_to_end(&config, RangeSpec::whole(topic))
            .await
            .unwrap_or_else(|e| panic!("cannot read {topic} to its end on {bootstrap}: {e}"))
            .into_iter()
            .map(|r| Record {
                partition: r.partition,
                offset: r.offset,
                key: r.key,
                payload: r.payload.unwrap_or_default(),
                headers: r.headers,
            })
            .collect();
    records.sort_by_key(|r| (r.partition, r.offset));
    records
}

/// One read of a topic from the beginning of every partition, following it (a following
/// `leadflow_runtime::topic_range` read, without a consumer group commit), for callers that decide
/// themselves when they have read enough (a record that holds several outputs, e.g. a joined dedup
/// changelog record, makes counting records the wrong test).
pub struct TopicReader {
    records: RangeStream,
    topic: String,
}

impl TopicReader {
    /// Assigns every partition of `topic` at its beginning; `None` when the topic does not exist
    /// within `wait`.
    pub async fn open(bootstrap: &str, topic: &str, wait: Duration) -> Option<Self> {
        let partitions = partition_count(bootstrap, topic, wait, |n| n > 0).await;
        if partitions == 0 {
            return None;
        }
        let mut config = client_config(bootstrap);
        config.set("group.id", crate::unique_name("leadflow-testkit-reader"));
        let mut spec = RangeSpec::whole(topic);
        spec.follow = true;
        let range = TopicRange::open_async(&config, spec)
            .await
            .unwrap_or_else(|e| panic!("cannot read {topic} on {bootstrap}: {e}"));
        Some(Self {
            records: range.spawn(),
            topic: topic.to_owned(),
        })
    }

    /// The next record, in arrival order (each partition's in offset order); `None` once
    /// `deadline` passed.
    pub async fn next(&mut self, deadline: tokio::time::Instant) -> Option<Record> {
        loop {
            match tokio::time::timeout_at(deadline, self.records.next()).await {
                Err(_elapsed) => return None,
                Ok(None) => panic!("testkit: the read of {} stopped", self.topic),
                Ok(Some(Err(e))) => panic!("testkit: reading {}: {e}", self.topic),
                Ok(Some(Ok(RangeItem::Record(r)))) => {
                    return Some(Record {
                        partition: r.partition,
                        offset: r.offset,
                        key: r.key,
                        payload: r.payload.unwrap_or_default(),
                        headers: r.headers,
                    });
                }
                Ok(Some(Ok(RangeItem::Stalled(e)))) => {
                    eprintln!("testkit: reading {}: {e} (still waiting)", self.topic);
                }
                Ok(Some(Ok(RangeItem::CaughtUp | RangeItem::Reached { .. }))) => {}
            }
        }
    }
}
