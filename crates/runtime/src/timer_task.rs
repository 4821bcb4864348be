//! The task that runs a stage's timer rounds (see [`crate::stage::Stage`], "Timers"): every
//! interval it opens the gates of newly assigned partitions whose state caught up, calls
//! `on_timer` with the live ones on the injected clock, produces the outputs through the run's
//! producer and hands each acknowledged output back to the stage.

use std::sync::Arc;
use std::time::Duration;

use leadflow_events::TopicNames;
use rdkafka::consumer::Consumer;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error::RuntimeError;
use crate::partition_task::Shared;
use crate::partitioner::Partitioner;
use crate::stage::{Output, Stage, StageError};
use crate::timer::{OwnedKeys, Ownership, Positions};
use crate::topic_metadata::{fetch_cluster_metadata, partitions_of};

const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

/// What the timer task needs besides the run's shared parts.
pub(crate) struct TimerWiring {
    pub(crate) interval: Duration,
    pub(crate) ownership: Arc<Ownership>,
    pub(crate) positions: Arc<Positions>,
    /// The side-input topics whose high watermarks gate a newly assigned partition.
    pub(crate) side_topics: Vec<String>,
    pub(crate) topics: TopicNames,
    pub(crate) partitioner: Partitioner,
    /// Partition count of the input topic (keys → partitions).
    pub(crate) input_partitions: i32,
}

/// Starts the timer task; it ends when `stop` is cancelled, or reports a fatal error on the run's
/// failure channel and ends.
pub(crate) fn spawn_timers<S: Stage>(
    shared: Arc<Shared<S>>,
    wiring: TimerWiring,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(wiring.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                _ = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            // reading the watermarks may take a while on a slow broker; a stop does not wait for it
            // (nothing is produced there), only for a round in flight
            tokio::select! {
                biased;
                _ = stop.cancelled() => return,
                _ = open_gates(&shared, &wiring) => {}
            }
            if let Err(e) = round(&shared, &wiring).await {
                let _ = shared.failures.send(e);
                return;
            }
        }
    })
}

/// Reads the side inputs' high watermarks for newly assigned partitions, and opens the gates of
/// those whose state reached them.
async fn open_gates<S: Stage>(shared: &Shared<S>, wiring: &TimerWiring) {
    let waiting = wiring.ownership.awaiting_targets();
    if !waiting.is_empty() {
        let consumer = shared.consumer.clone();
        let topics = wiring.side_topics.clone();
        let read = tokio::task::spawn_blocking(move || {
            let meta = fetch_cluster_metadata(consumer.client(), METADATA_TIMEOUT)?;
            let mut targets = Vec::new();
            for topic in topics {
                for p in partitions_of(&meta, &topic).unwrap_or_default() {
                    let (_, high) = consumer.fetch_watermarks(&topic, p, METADATA_TIMEOUT)?;
                    targets.push((topic.clone(), p, high));
                }
            }
            Ok::<_, rdkafka::error::KafkaError>(targets)
        })
        .await;
        match read {
            Ok(Ok(targets)) => wiring.ownership.set_targets(&waiting, &targets),
            Ok(Err(e)) => tracing::warn!(error = %e, "side-input watermarks not read; retrying"),
            Err(e) => tracing::warn!(error = %e, "side-input watermark task failed; retrying"),
        }
    }
    let opened = wiring.ownership.open_reached(&wiring.positions);
    if !opened.is_empty() {
        tracing::info!(stage = S::NAME, partitions = ?opened, "state caught up; timers armed");
    }
}

/// One round: `on_timer` for the live partitions, its outputs produced and acknowledged.
async fn round<S: Stage>(shared: &Shared<S>, wiring: &TimerWiring) -> Result<(), RuntimeError> {
    let (live, _busy) = wiring.ownership.begin_round();
    if live.is_empty() {
        return Ok(());
    }
    let owned = OwnedKeys::new(wiring.partitioner, wiring.input_partitions, live);
    let now = shared.clock.now();
    let outputs = match shared.stage.on_timer(&owned, now).await {
        Ok(outputs) => outputs,
        Err(StageError::Fatal(source)) => {
            return Err(RuntimeError::Stage {
                stage: S::NAME,
                source,
            });
        }
        Err(e) => {
            tracing::warn!(stage = S::NAME, error = %e, "timer round failed; tried again next tick");
            return Ok(());
        }
    };
    let mut rest = outputs.as_slice();
    while let Some(first) = rest.first() {
        let n = rest.iter().take_while(|o| o.role == first.role).count();
        let (group, tail) = rest.split_at(n);
        deliver(shared, &wiring.topics, group).await?;
        tracing::info!(
            stage = S::NAME,
            topic = %wiring.topics.name(first.role),
            outputs = group.len(),
            "timer outputs delivered"
        );
        for output in group {
            shared.stage.on_timer_delivered(output);
        }
        rest = tail;
    }
    Ok(())
}

/// Produces outputs to one topic and waits for every acknowledgement.
async fn deliver<S: Stage>(
    shared: &Shared<S>,
    topics: &TopicNames,
    group: &[Output],
) -> Result<(), RuntimeError> {
    let mut acks = Vec::with_capacity(group.len());
    for output in group {
        let topic = topics.name(output.role).to_owned();
        let payload = output
            .event
            .encode(&shared.codec, &topic)
            .await
            .map_err(|e| RuntimeError::Delivery {
                topic: topic.clone(),
                source: Box::new(e),
            })?;
        let ack = shared.gate.send(
            topic.clone(),
            output.record_key().to_owned(),
            payload,
            false,
        );
        acks.push((topic, ack));
    }
    for (topic, ack) in acks {
        match ack.await {
            Ok(Ok(())) => {
                shared.metrics.produced.with_label_values(&[&topic]).inc();
                shared.summary.produced();
            }
            Ok(Err(e)) => {
                return Err(RuntimeError::Delivery {
                    topic,
                    source: Box::new(e),
                });
            }
            Err(_) => {
                return Err(RuntimeError::Delivery {
                    topic,
                    source: "the producer stopped".into(),
                });
            }
        }
    }
    Ok(())
}
