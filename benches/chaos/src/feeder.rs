//! The upstream publisher: generated leads (the same stream as `leadflow generate --seed`) produced to
//! `leads.raw` at a fixed rate. Like any at-least-once publisher it sends a lead again when its
//! delivery fails (e.g. while the broker restarts), so a lead can reach `leads.raw` twice; the
//! pipeline has to cope with that.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use leadflow_events::{Codec, Event, Timestamp};
use leadflow_generate::{DEFAULT_START, LeadGenerator};
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio::task::JoinSet;

/// How the feeding went.
#[derive(Debug, Default)]
pub struct Fed {
    pub leads: usize,
    /// Sends repeated after a failed delivery.
    pub resends: usize,
    /// Leads never delivered (gave up after `GIVE_UP`).
    pub undelivered: usize,
}

const GIVE_UP: Duration = Duration::from_secs(300);

pub async fn feed(
    bootstrap: &str,
    topic: &str,
    count: u64,
    rate: f64,
    seed: u64,
    idempotent: bool,
) -> Result<Fed> {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set(
            "enable.idempotence",
            if idempotent { "true" } else { "false" },
        )
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("message.timeout.ms", "30000")
        .set("client.id", "leadflow-chaos-feeder")
        .create()?;
    let codec = Arc::new(Codec::single_object()?);
    let mut generator = LeadGenerator::new(seed, Timestamp::parse_rfc3339(DEFAULT_START)?);
    let resends = Arc::new(AtomicUsize::new(0));
    let undelivered = Arc::new(AtomicUsize::new(0));
    let interval = Duration::from_secs_f64(1.0 / rate);
    let started = Instant::now();
    let mut sends = JoinSet::new();
    for i in 0..count {
        let due = started + interval.mul_f64(i as f64);
        tokio::time::sleep_until(tokio::time::Instant::from_std(due)).await;
        let event = generator.next_lead().event;
        let payload = codec.encode(topic, &event).await?;
        let key = event.key().to_owned();
        let (producer, topic, resends, undelivered) = (
            producer.clone(),
            topic.to_owned(),
            resends.clone(),
            undelivered.clone(),
        );
        sends.spawn(async move {
            let first = Instant::now();
            loop {
                let record = FutureRecord::to(&topic).key(&key).payload(&payload);
                match producer.send(record, Duration::from_secs(10)).await {
                    Ok(_) => return,
                    Err((e, _)) if first.elapsed() < GIVE_UP => {
                        if resends.fetch_add(1, Ordering::Relaxed) < 5 {
                            eprintln!("chaos feeder: delivery failed ({e}); sending again");
                        }
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                    Err((e, _)) => {
                        eprintln!("chaos feeder: giving up on a lead after {GIVE_UP:?}: {e}");
                        undelivered.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                }
            }
        });
        while sends.try_join_next().is_some() {}
    }
    while sends.join_next().await.is_some() {}
    Ok(Fed {
        leads: count as usize,
        resends: resends.load(Ordering::Relaxed),
        undelivered: undelivered.load(Ordering::Relaxed),
    })
}
