//! Hands a stage's outputs to librdkafka only when it can send them at once.
//!
//! An idempotent librdkafka producer (2.12) sends a partition's next ProduceRequest only while
//! fewer than 5 *messages* of that partition are in flight (it compares its per-partition message
//! count with the 5-request limit), so in practice one request per partition at a time. Records
//! queued behind that request whose `linger.ms` has passed make the broker thread poll with a zero
//! timeout until the acknowledgement arrives: a busy loop that took 60–90 % of a stage's CPU on a
//! slow broker (`scripts/BROKER.md` 5). A plain consume → produce loop with a bounded in-flight
//! window rarely hits it, because it produces in bursts right after acknowledgements.
//!
//! The gate gives every stage that shape: records wait here (not in librdkafka's queue) while
//! [`HANDOVER_BELOW`] or more handed-over records await their acknowledgement, and are handed over
//! together, at most [`ROUND_BYTES`] at a time (one request per partition), as soon as fewer are in
//! flight. librdkafka would not have sent them earlier anyway; they now wait without burning a core.
//! At low rates nothing is in flight and a record is handed over at once (no added latency).
//! Ordering is kept: records are handed over in the order they were submitted.

use std::collections::VecDeque;

use futures::stream::{FuturesUnordered, StreamExt};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio::sync::{mpsc, oneshot};

/// Records handed over may be sent at once while fewer than this many await acknowledgement (the
/// idempotent producer's per-partition limit, counted in messages).
pub(crate) const HANDOVER_BELOW: usize = 5;
/// Most payload bytes handed over in one round: below librdkafka's `batch.size` (1 MB), so one
/// round is one request per partition.
pub(crate) const ROUND_BYTES: usize = 512 * 1024;

/// Where a record landed, or why not.
pub(crate) type Delivered = Result<(), KafkaError>;

/// One record to produce and where to report its acknowledgement.
struct Submitted {
    topic: String,
    key: String,
    payload: Vec<u8>,
    reply: oneshot::Sender<Delivered>,
}

/// The submitting side; cheap to clone. The gate's task ends once every clone is dropped and every
/// record it holds is acknowledged (or failed).
#[derive(Clone)]
pub(crate) struct SendGate {
    tx: mpsc::UnboundedSender<Submitted>,
}

impl SendGate {
    /// Starts the gate's task over `producer` (on the current tokio runtime).
    pub(crate) fn start(producer: FutureProducer) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(producer, rx));
        Self { tx }
    }

    /// Submits one record; the receiver resolves once the broker acknowledged it (or it failed).
    pub(crate) fn send(
        &self,
        topic: String,
        key: String,
        payload: Vec<u8>,
    ) -> oneshot::Receiver<Delivered> {
        let (reply, done) = oneshot::channel();
        let submitted = Submitted {
            topic,
            key,
            payload,
            reply,
        };
        if let Err(mpsc::error::SendError(s)) = self.tx.send(submitted) {
            // the gate's task is gone (runtime shutting down): report it as a failed delivery
            let _ = s.reply.send(Err(KafkaError::Canceled));
        }
        done
    }
}

async fn run(producer: FutureProducer, mut rx: mpsc::UnboundedReceiver<Submitted>) {
    let mut waiting: VecDeque<Submitted> = VecDeque::new();
    let mut in_flight = FuturesUnordered::new();
    let mut open = true;
    loop {
        // take everything already submitted, so that a round hands over as much as it can
        while open {
            match rx.try_recv() {
                Ok(s) => waiting.push_back(s),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => open = false,
            }
        }
        let mut queue_full = false;
        if in_flight.len() < HANDOVER_BELOW {
            let mut bytes = 0;
            while bytes < ROUND_BYTES {
                let Some(s) = waiting.pop_front() else { break };
                let record = FutureRecord::to(&s.topic).key(&s.key).payload(&s.payload);
                match producer.send_result(record) {
                    Ok(delivery) => {
                        bytes += s.payload.len() + s.key.len();
                        let reply = s.reply;
                        in_flight.push(async move {
                            let result = match delivery.await {
                                Ok(Ok(_)) => Ok(()),
                                Ok(Err((e, _))) => Err(e),
                                Err(_canceled) => Err(KafkaError::Canceled),
                            };
                            let _ = reply.send(result);
                        });
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                        // librdkafka's own queue is full (other users of the producer): try again
                        // after an acknowledgement, or shortly
                        waiting.push_front(s);
                        queue_full = true;
                        break;
                    }
                    Err((e, _)) => {
                        let _ = s.reply.send(Err(e));
                    }
                }
            }
        }
        if !open && waiting.is_empty() && in_flight.is_empty() {
            break;
        }
        tokio::select! {
            Some(()) = in_flight.next(), if !in_flight.is_empty() => {}
            received = rx.recv(), if open => match received {
                Some(s) => waiting.push_back(s),
                None => open = false,
            },
            _ = tokio::time::sleep(std::time::Duration::from_millis(10)), if queue_full && in_flight.is_empty() => {}
        }
    }
}
