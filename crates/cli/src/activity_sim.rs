//! `leadflow activity simulate`: reps answering the packets on `handoff.packets`, most in time, a
//! share late and a share never, so the demo and the SLA report have something to show. Seeded: the
//! same seed gives every lead the same fate.

use std::time::Duration;

use clap::Args;
use leadflow_events::{
    Codec, EventKind, HandoffKind, HandoffPacket, RepActivity, RepActivityKind, SlaKind, Timestamp,
    TopicRole,
};
use rand::{Rng as _, SeedableRng as _};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::error::CliError;
use crate::kafka::{CliConfig, topic_partitions};

/// How reps behave.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Share of leads contacted after their first-contact deadline.
    #[arg(long, default_value_t = 0.2, value_parser = parse_share)]
    pub late_share: f64,
    /// Share of leads nobody contacts (the watchdog escalates them).
    #[arg(long, default_value_t = 0.1, value_parser = parse_share)]
    pub silent_share: f64,
    /// Share of leads contacted in time but recorded late: the activity carries an event time
    /// before the deadline and is published `--recorded-after` seconds after the deadline, once the
    /// watchdog has escalated the lead (it reconciles the deadline and withdraws the reassignment).
    #[arg(long, default_value_t = 0.0, value_parser = parse_share)]
    pub recorded_late_share: f64,
    /// Seconds after the deadline a recorded-late contact is published.
    #[arg(long, default_value_t = 15, value_name = "SECONDS")]
    pub recorded_after: u64,
    /// Seed of the reps' behaviour.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Answer the packets already on the topic too (default: only new ones).
    #[arg(long)]
    pub from_beginning: bool,
    /// Stop after this many seconds without a new packet (default: run until Ctrl-C).
    #[arg(long, value_name = "SECONDS")]
    pub idle_timeout: Option<u64>,
}

fn parse_share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a share between 0 and 1")),
    }
}

/// What a simulated rep does with one packet.
#[derive(Clone, Debug, PartialEq)]
pub enum Fate {
    /// Nothing (no human handoff, or no deadline to answer).
    Ignore,
    /// Never answered.
    Silent,
    /// Contacted at this event time (before or after the deadline), published at `publish_at`
    /// (the event time, or later for a contact recorded late).
    Contact {
        activity: RepActivity,
        publish_at: Timestamp,
    },
}

/// The seeded fate of a packet: in time (between 10 % and 90 % of the time to the first-contact
/// deadline), late (10 % to 100 % of that span after it), or silent.
pub fn fate(packet: &HandoffPacket, args: &SimulateArgs) -> Fate {
    let d = &packet.decision;
    // a withdrawal notice asks nothing of anyone
    if d.handoff == HandoffKind::None || packet.withdraws.is_some() {
        return Fate::Ignore;
    }
    let sla = if packet.sla.is_empty() {
        &d.sla
    } else {
        &packet.sla
    };
    let Some(due) = sla
        .iter()
        .find(|s| s.kind == SlaKind::FirstContact)
        .or_else(|| sla.first())
        .map(|s| s.due_at)
    else {
        return Fate::Ignore;
    };
    let lead = d.scored.enriched.lead.lead_id.clone();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(args.seed ^ fnv(&packet.packet_id));
    let roll: f64 = rng.random();
    let span = (due.0 - packet.created_at.0).max(60_000);
    let recorded_late = args.silent_share + args.late_share;
    let mut publish_at = None;
    let at = if roll < args.silent_share {
        return Fate::Silent;
    } else if roll < recorded_late {
        due.0 + (span as f64 * rng.random_range(0.1..1.0)) as i64
    } else if roll < recorded_late + args.recorded_late_share {
        publish_at = Some(due.0 + (args.recorded_after as i64).saturating_mul(1_000));
        packet.created_at.0 + (span as f64 * rng.random_range(0.1..0.9)) as i64
    } else {
        packet.created_at.0 + (span as f64 * rng.random_range(0.1..0.9)) as i64
    };
    let activity = RepActivity {
        activity_id: format!("sim-{}", packet.packet_id),
        lead_id: lead,
        packet_id: Some(packet.packet_id.clone()),
        rep_id: packet
            .assignee
            .as_ref()
            .map_or_else(|| "rep-unassigned".to_owned(), |a| a.rep_id.clone()),
        kind: RepActivityKind::Contacted,
        reason: None,
        reassigned_to: None,
        occurred_at: Timestamp(at),
    };
    Fate::Contact {
        publish_at: publish_at.map_or(activity.occurred_at, Timestamp),
        activity,
    }
}

fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Runs `activity simulate`: each contact is published when its event time comes (at once when it is
/// already past, e.g. for generated leads with historical times).
pub async fn run(cfg: &CliConfig, args: &SimulateArgs) -> Result<(), CliError> {
    let topic = cfg.topics.name(TopicRole::Packets).to_owned();
    let codec = Codec::from_config(cfg.registry.as_ref())?;
    let group = format!("leadflow-cli-simulate-{}", uuid::Uuid::new_v4());
    let mut config = leadflow_runtime::kafka::consumer_config(cfg, &group);
    config
        .set("enable.auto.commit", "false")
        .set("statistics.interval.ms", "0");
    let consumer: StreamConsumer = config
        .create()
        .map_err(|e| CliError::broker("cannot create a consumer", e))?;
    let mut tpl = TopicPartitionList::new();
    let start = if args.from_beginning {
        Offset::Beginning
    } else {
        Offset::End
    };
    for p in topic_partitions(consumer.client(), &cfg.bootstrap_servers, &topic)? {
        tpl.add_partition_offset(&topic, p, start)
            .map_err(|e| CliError::broker("cannot build the assignment", e))?;
    }
    consumer
        .assign(&tpl)
        .map_err(|e| CliError::broker(&format!("cannot assign {topic}"), e))?;
    let (mut on_time, mut late, mut silent, mut recorded_late) = (0u64, 0u64, 0u64, 0u64);
    let mut pending: Vec<(Timestamp, RepActivity)> = Vec::new();
    let idle = args.idle_timeout.map(Duration::from_secs);
    let mut last_packet = tokio::time::Instant::now();
    loop {
        // publish what is due by now
        let now = Timestamp::from(chrono::Utc::now());
        let (due, later): (Vec<_>, Vec<_>) = pending.drain(..).partition(|(at, _)| *at <= now);
        pending = later;
        let due: Vec<RepActivity> = due.into_iter().map(|(_, a)| a).collect();
        if !due.is_empty() {
            crate::activity_publish::publish(cfg, &due).await?;
        }
        if idle.is_some_and(|t| last_packet.elapsed() >= t) && pending.is_empty() {
            break;
        }
        let next = tokio::select! {
            m = consumer.recv() => Some(m),
            () = tokio::time::sleep(Duration::from_millis(200)) => None,
            _ = tokio::signal::ctrl_c() => break,
        };
        let Some(message) = next else { continue };
        let message = message.map_err(|e| CliError::broker(&format!("cannot read {topic}"), e))?;
        let Some(payload) = message.payload() else {
            continue;
        };
        last_packet = tokio::time::Instant::now();
        let packet: HandoffPacket = match codec.decode(payload).await {
            Ok(p) => p,
            Err(e) => {
                eprintln!(
                    "skipping a record that is not a {}: {e}",
                    EventKind::HandoffPacket.full_name()
                );
                continue;
            }
        };
        match fate(&packet, args) {
            Fate::Ignore => {}
            Fate::Silent => silent += 1,
            Fate::Contact {
                activity: a,
                publish_at,
            } => {
                if publish_at > a.occurred_at {
                    recorded_late += 1;
                } else if packet
                    .sla
                    .iter()
                    .chain(packet.decision.sla.iter())
                    .any(|s| s.kind == SlaKind::FirstContact && a.occurred_at > s.due_at)
                {
                    late += 1;
                } else {
                    on_time += 1;
                }
                pending.push((publish_at, a));
            }
        }
    }
    eprintln!(
        "simulated reps: {on_time} contacted in time, {late} late, {recorded_late} in time but recorded late, {silent} never"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use leadflow_events::samples;

    use super::*;

    fn args(late: f64, silent: f64) -> SimulateArgs {
        SimulateArgs {
            late_share: late,
            silent_share: silent,
            recorded_late_share: 0.0,
            recorded_after: 15,
            seed: 7,
            from_beginning: false,
            idle_timeout: None,
        }
    }

    #[test]
    fn shares_decide_each_packets_fate_reproducibly() {
        let mut counts = (0, 0, 0);
        for i in 0..1_000 {
            let mut p = samples::handoff_packet();
            p.packet_id = format!("pkt-{i}");
            let due = p.sla.first().unwrap_or(&p.decision.sla[0]).due_at;
            let a = fate(&p, &args(0.2, 0.1));
            assert_eq!(a, fate(&p, &args(0.2, 0.1)), "seeded");
            match a {
                Fate::Silent => counts.2 += 1,
                Fate::Contact { activity: c, .. } if c.occurred_at > due => counts.1 += 1,
                Fate::Contact {
                    activity: c,
                    publish_at,
                } => {
                    assert_eq!(publish_at, c.occurred_at, "recorded at once");
                    assert!(c.occurred_at >= p.created_at);
                    counts.0 += 1;
                }
                Fate::Ignore => panic!("a hot packet is answered or not"),
            }
        }
        assert!((600..800).contains(&counts.0), "{counts:?}");
        assert!((140..260).contains(&counts.1), "{counts:?}");
        assert!((60..140).contains(&counts.2), "{counts:?}");
        let mut none = samples::handoff_packet();
        none.decision.handoff = HandoffKind::None;
        assert_eq!(fate(&none, &args(0.2, 0.1)), Fate::Ignore);
        let mut notice = samples::handoff_packet();
        notice.withdraws = Some("pkt-1".into());
        assert_eq!(fate(&notice, &args(0.2, 0.1)), Fate::Ignore);
    }

    #[test]
    fn a_contact_recorded_late_is_stamped_in_time_and_published_after_the_deadline() {
        let mut a = args(0.0, 0.0);
        a.recorded_late_share = 1.0;
        a.recorded_after = 20;
        let p = samples::handoff_packet();
        let due = p.sla.first().unwrap_or(&p.decision.sla[0]).due_at;
        let Fate::Contact {
            activity,
            publish_at,
        } = fate(&p, &a)
        else {
            panic!("every lead is contacted");
        };
        assert!(activity.occurred_at <= due, "in time");
        assert_eq!(
            publish_at,
            Timestamp(due.0 + 20_000),
            "recorded after the deadline"
        );
    }
}
