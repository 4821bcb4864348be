//! The history a backtest reads: generated leads, enriched and scored by the stages' own code
//! (enrich's transform with the demo dataset, the embedded model), each scored lead on the scored
//! topic and each lead's generated outcomes on the outcomes topic, produced in large batches.

use std::time::Instant;

use leadflow_enrich::provider::LocalProvider;
use leadflow_enrich::{EnrichOutcome, EnrichSettings, Enricher};
use leadflow_events::{Codec, Event, Timestamp};
use leadflow_generate::outcomes::outcomes_for;
use leadflow_generate::{DEFAULT_START, LeadGenerator};
use leadflow_score::{Model, score};
use rdkafka::ClientConfig;

use crate::counted_producer::CountedProducer;

/// What the preload wrote.
#[derive(Clone, Debug)]
pub struct Preloaded {
    pub scored: u64,
    pub outcomes: u64,
    pub bytes: u64,
    pub seconds: f64,
}

/// The bulk-load producer: large batches, no idempotence (a load, not a pipeline write).
fn load_config(bs: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bs)
        .set("linger.ms", "50")
        .set("batch.num.messages", "10000")
        .set("batch.size", "4000000")
        .set("queue.buffering.max.messages", "500000")
        .set("queue.buffering.max.kbytes", "1048576")
        .set("message.timeout.ms", "300000")
        .set("compression.type", "none");
    c
}

/// Produces `count` scored leads of `seed` to `scored` and their outcomes to `outcomes`.
pub async fn preload(
    bs: &str,
    scored: &str,
    outcomes: &str,
    count: u64,
    seed: u64,
) -> anyhow::Result<Preloaded> {
    let started = Instant::now();
    let codec = Codec::single_object()?;
    let model = Model::embedded("lead-priority")?;
    let mut generator = LeadGenerator::new(seed, Timestamp::parse_rfc3339(DEFAULT_START)?);
    let mut enricher = Enricher::new(&EnrichSettings::demo(), LocalProvider::demo());
    let producer = CountedProducer::new(&load_config(bs))?;
    let (mut n_scored, mut n_outcomes, mut bytes) = (0u64, 0u64, 0u64);
    while n_scored < count {
        let lead = generator.next_lead();
        for o in outcomes_for(seed, &lead) {
            let payload = codec.encode(outcomes, &o).await?;
            producer.send(outcomes, o.key().as_bytes(), &payload)?;
            n_outcomes += 1;
            bytes += payload.len() as u64;
        }
        // invalid leads (the generator's ~0.6 %) and repeated events have no scored record
        if let Ok(EnrichOutcome::Lead(e)) = enricher.enrich(lead.event).await {
            let s = score(&e, &model);
            let payload = codec.encode(scored, &s).await?;
            producer.send(scored, s.key().as_bytes(), &payload)?;
            n_scored += 1;
            bytes += payload.len() as u64;
            if n_scored % 100_000 == 0 {
                eprintln!(
                    "preload: {n_scored} scored leads, {n_outcomes} outcomes queued ({:.0} s)",
                    started.elapsed().as_secs_f64()
                );
            }
        }
    }
    let delivered = tokio::task::spawn_blocking(move || producer.finish()).await??;
    anyhow::ensure!(
        delivered == n_scored + n_outcomes,
        "{delivered} of {} records delivered",
        n_scored + n_outcomes
    );
    Ok(Preloaded {
        scored: n_scored,
        outcomes: n_outcomes,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}
