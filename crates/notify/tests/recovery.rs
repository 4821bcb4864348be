//! RULES.md §2, "recovery ends the backoff", on a scripted channel with tokio's paused clock: a
//! packet backing off from an outage delivers as soon as the channel answers another packet, not
//! when its own backoff ends; a `Retry-After` the service gave is still waited out. No broker, no
//! network.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use leadflow_events::{DeliveryChannel, DeliveryStatus, samples};
use leadflow_notify::{
    Attempt, Channel, ChannelError, Delivered, DeliveryRules, Handoff, Notifier,
};
use leadflow_runtime::SystemClock;
use tokio::time::Instant;

/// A Slack-like channel that is down (every call unavailable at once, optionally with a
/// `Retry-After`) until told otherwise, and records when each packet got through.
struct Scripted {
    down: AtomicBool,
    retry_after: Option<Duration>,
    start: Instant,
    delivered_at: Mutex<HashMap<String, Duration>>,
}

impl Scripted {
    fn new(retry_after: Option<Duration>) -> Arc<Self> {
        Arc::new(Self {
            down: AtomicBool::new(true),
            retry_after,
            start: Instant::now(),
            delivered_at: Mutex::new(HashMap::new()),
        })
    }

    fn delivered_at(&self, key: &str) -> Option<Duration> {
        self.delivered_at.lock().unwrap().get(key).copied()
    }
}

impl Channel for Scripted {
    fn kind(&self) -> DeliveryChannel {
        DeliveryChannel::Slack
    }

    fn deliver<'a>(
        &'a self,
        h: &'a Handoff,
        _: &'a Attempt<'a>,
    ) -> BoxFuture<'a, Result<Delivered, ChannelError>> {
        Box::pin(async move {
            if self.down.load(Ordering::SeqCst) {
                return Err(ChannelError::Unavailable {
                    reason: "connection refused".into(),
                    retry_after: self.retry_after,
                });
            }
            self.delivered_at
                .lock()
                .unwrap()
                .insert(h.idempotency_key.clone(), self.start.elapsed());
            Ok(Delivered {
                external_id: format!("ts-{}", h.idempotency_key),
                url: None,
            })
        })
    }
}

/// The product's numbers (RULES.md §2) without jitter, and a breaker that never opens: the
/// backoff alone decides when a packet tries again.
fn rules() -> DeliveryRules {
    DeliveryRules {
        fallback_after: Duration::from_secs(60),
        give_up_after: Duration::from_secs(180),
        attempt_timeout: Duration::from_secs(10),
        initial_backoff: Duration::from_millis(500),
        max_backoff: Duration::from_secs(30),
        jitter: 0.0,
        max_retry_after: Duration::from_secs(60),
        breaker_failures: 1_000,
        breaker_open: Duration::from_secs(15),
        email_budget: Duration::from_secs(30),
    }
}

fn handoff(n: u32) -> Handoff {
    let mut p = samples::handoff_packet();
    p.packet_id = format!("pkt-{n}");
    p.idempotency_key = format!("lead-{n}|evt-{n}|HOT|HOT_LEAD|0");
    p.decision.scored.enriched.lead.lead_id = format!("lead-{n}");
    Handoff::from_packet(&p)
}

fn delivered(report: &leadflow_notify::DeliveryReport) -> bool {
    report
        .receipts
        .iter()
        .any(|r| r.status == DeliveryStatus::Delivered)
}

/// A notifier over `slack` (down), and the first packet's delivery started in the background.
fn first_packet_on(
    slack: Arc<Scripted>,
) -> (
    Arc<Scripted>,
    Arc<Notifier>,
    Handoff,
    tokio::task::JoinHandle<leadflow_notify::DeliveryReport>,
) {
    let notifier = Arc::new(Notifier::new(
        vec![slack.clone()],
        None,
        rules(),
        Arc::new(SystemClock),
        None,
    ));
    let first = handoff(1);
    let waiting = {
        let (n, h) = (notifier.clone(), first.clone());
        tokio::spawn(async move { n.deliver(&h).await })
    };
    (slack, notifier, first, waiting)
}

#[tokio::test(start_paused = true)]
async fn packets_backing_off_deliver_as_soon_as_another_packet_gets_through() {
    let (slack, notifier, first, waiting) = first_packet_on(Scripted::new(None));
    // down for 16 s: the first packet's attempts at 0, 0.5, 1.5, 3.5, 7.5 and 15.5 s fail, and
    // its next backoff is 16 s (the attempt at 31.5 s)
    tokio::time::sleep(Duration::from_secs(16)).await;
    slack.down.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(slack.delivered_at(&first.idempotency_key), None);

    // a second packet gets through at 17 s: the channel is back
    let second = handoff(2);
    let report = notifier.deliver(&second).await;
    assert!(delivered(&report), "{report:?}");
    let report = waiting.await.unwrap();
    assert!(delivered(&report), "{report:?}");
    let at = slack.delivered_at(&first.idempotency_key).unwrap();
    assert!(
        at < Duration::from_secs(18),
        "the first packet waited out its backoff: delivered at {at:?}, the channel answered at 17 s"
    );
    assert!(report.undeliverable.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_is_waited_out_even_when_the_channel_answers_another_packet() {
    let (slack, notifier, first, waiting) =
        first_packet_on(Scripted::new(Some(Duration::from_secs(20))));
    tokio::time::sleep(Duration::from_secs(1)).await;
    slack.down.store(false, Ordering::SeqCst);
    let report = notifier.deliver(&handoff(2)).await;
    assert!(delivered(&report), "{report:?}");
    let report = waiting.await.unwrap();
    assert!(delivered(&report), "{report:?}");
    let at = slack.delivered_at(&first.idempotency_key).unwrap();
    assert!(
        at >= Duration::from_secs(20),
        "the service asked for 20 s and the packet came back after {at:?}"
    );
}
