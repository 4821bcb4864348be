//! When a run has settled: no topic gains a record and every stage's group has committed all its
//! input for a while, with the fleet supervised meanwhile (a stage that exits on its own is
//! restarted, as a supervisor would).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use leadflow_events::TopicNames;

use crate::fleet::Fleet;
use crate::groups::GroupReader;
use crate::{audit, say, stopped};

/// Waits `d`, restarting a stage that exited on its own (as a supervisor would; counted).
pub async fn supervise_for(
    fleet: &mut Fleet,
    restart_delay: Duration,
    d: Duration,
    start: Instant,
) -> Result<()> {
    let until = Instant::now() + d;
    let mut rng = rand::rng();
    while Instant::now() < until {
        stopped()?;
        for label in fleet.reap() {
            say(start, format!("{label} exited on its own; restarting it"));
        }
        fleet.restart_due(restart_delay, 0.0, &mut rng);
        tokio::time::sleep(Duration::from_millis(200).min(until - Instant::now())).await;
    }
    Ok(())
}

/// Waits until no topic gained a record and every stage's group had committed all its input for
/// `settle` seconds (at most `max_settle`).
pub async fn settle(
    bootstrap: &str,
    fleet: &mut Fleet,
    settle: u64,
    max_settle: u64,
    restart_delay: Duration,
    start: Instant,
) -> Result<bool> {
    let topics: Vec<String> = TopicNames::default()
        .all()
        .into_iter()
        .map(|(_, n)| n.to_owned())
        .collect();
    let begun = Instant::now();
    let (mut last, mut still_since) = (-1, Instant::now());
    let groups = Arc::new(GroupReader::new(bootstrap));
    while begun.elapsed() < Duration::from_secs(max_settle) {
        let now = audit::end_offsets(bootstrap, &topics).unwrap_or(-1);
        let g = groups.clone();
        let lag = tokio::task::spawn_blocking(move || g.total_lag())
            .await
            .ok()
            .flatten();
        // quiet topics are not enough: a stage waiting out a retry backoff writes nothing either
        if now != last || lag != Some(0) {
            last = now;
            still_since = Instant::now();
        } else if still_since.elapsed() >= Duration::from_secs(settle) {
            return Ok(true);
        }
        supervise_for(fleet, restart_delay, Duration::from_secs(1), start).await?;
    }
    Ok(false)
}
