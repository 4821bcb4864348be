//! The range reader for async code: the blocking reader on a thread of its own, its records handed
//! over, owned, through a bounded channel (a slow consumer of the records slows the read down).

use rdkafka::ClientConfig;
use rdkafka::message::{BorrowedMessage, Headers, Message};
use tokio::sync::mpsc;

use super::reader::{Step, TopicRange};
use super::{RangeError, RangeSpec};

/// Records in flight between the reading thread and its reader.
const CHANNEL: usize = 1_024;

/// One record, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeRecord {
    pub partition: i32,
    pub offset: i64,
    /// Write time (ms), when the record has one.
    pub timestamp: Option<i64>,
    pub key: Option<Vec<u8>>,
    pub payload: Option<Vec<u8>>,
    /// Header name and value (`None` for a null value), in record order.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl RangeRecord {
    pub fn of(m: &BorrowedMessage<'_>) -> Self {
        RangeRecord {
            partition: m.partition(),
            offset: m.offset(),
            timestamp: m.timestamp().to_millis(),
            key: m.key().map(<[u8]>::to_vec),
            payload: m.payload().map(<[u8]>::to_vec),
            headers: m
                .headers()
                .map(|hs| {
                    hs.iter()
                        .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// What a spawned read hands over.
#[derive(Debug)]
pub enum RangeItem {
    Record(RangeRecord),
    /// A look at the broker ended `partition` at `next` without its last record.
    Reached {
        partition: i32,
        next: i64,
    },
    /// Every partition reached its end; a following read goes on, any other closes after this.
    CaughtUp,
    /// The read stalled; a following read goes on after it, any other closes after it.
    Stalled(RangeError),
}

/// The receiving end of a spawned read. Dropping it stops the read within a poll.
pub struct RangeStream {
    rx: mpsc::Receiver<Result<RangeItem, RangeError>>,
}

impl RangeStream {
    /// A stream of what `rx` hands over (a test's stand-in for a read).
    pub fn from_channel(rx: mpsc::Receiver<Result<RangeItem, RangeError>>) -> Self {
        RangeStream { rx }
    }

    /// The next item; `None` once the read is over (after [`RangeItem::CaughtUp`] for a read that
    /// does not follow, or after an error).
    pub async fn next(&mut self) -> Option<Result<RangeItem, RangeError>> {
        self.rx.recv().await
    }
}

impl TopicRange {
    /// Opens the read on a blocking thread (see [`TopicRange::open`]).
    pub async fn open_async(config: &ClientConfig, spec: RangeSpec) -> Result<Self, RangeError> {
        let config = config.clone();
        let topic = spec.topic.clone();
        tokio::task::spawn_blocking(move || TopicRange::open(&config, spec))
            .await
            .map_err(|e| RangeError::Stopped {
                topic,
                detail: format!("the task opening the read failed: {e}"),
            })?
    }

    /// Runs the read on a thread of its own; its records arrive through the returned stream.
    pub fn spawn(mut self) -> RangeStream {
        let (tx, rx) = mpsc::channel(CHANNEL);
        let name = format!("range-{}", self.topic());
        let run = move || {
            let follow = self.follows();
            loop {
                if tx.is_closed() {
                    return;
                }
                let item = match self.step() {
                    Ok(Step::Record(m)) => RangeItem::Record(RangeRecord::of(&m)),
                    Ok(Step::Reached { partition, next }) => RangeItem::Reached { partition, next },
                    Ok(Step::Idle) => continue,
                    Ok(Step::CaughtUp) => RangeItem::CaughtUp,
                    Ok(Step::End) => {
                        let _ = tx.blocking_send(Ok(RangeItem::CaughtUp));
                        return;
                    }
                    Err(e @ RangeError::Stalled { .. }) if follow => RangeItem::Stalled(e),
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e));
                        return;
                    }
                };
                if tx.blocking_send(Ok(item)).is_err() {
                    return;
                }
            }
        };
        if let Err(e) = std::thread::Builder::new().name(name).spawn(run) {
            tracing::error!(error = %e, "cannot start a range read's thread");
        }
        RangeStream { rx }
    }
}

/// Every record of the range, read to its end.
pub async fn read_to_end(
    config: &ClientConfig,
    spec: RangeSpec,
) -> Result<Vec<RangeRecord>, RangeError> {
    let spec = RangeSpec {
        follow: false,
        ..spec
    };
    let topic = spec.topic.clone();
    let mut stream = TopicRange::open_async(config, spec).await?.spawn();
    let mut out = Vec::new();
    while let Some(item) = stream.next().await {
        match item? {
            RangeItem::Record(r) => out.push(r),
            RangeItem::Reached { .. } => {}
            RangeItem::CaughtUp => return Ok(out),
            RangeItem::Stalled(e) => return Err(e),
        }
    }
    Err(RangeError::Stopped {
        topic,
        detail: "the reading thread ended before the range's end".into(),
    })
}
