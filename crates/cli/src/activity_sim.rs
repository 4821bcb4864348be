//! `leadflow activity simulate`: reps answering the packets on `handoff.packets`, most in time, a
//! share late, a share never, a share rejected back to the pool, so the demo, the SLA report and the
//! quality report have something to show. Seeded: the same seed gives every lead the same fate.
//! With `--via-sandbox` the reps act where reps act: Accept, Contacted and Reject on the sandbox's
//! Slack messages (signed clicks to leadflow-ingest) and a call logged late as a HubSpot task
//! completion webhook; without it the activity is published to `handoff.activity` directly.

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
    /// Share of leads the rep rejects back to the pool (with a reason) early in the first-contact
    /// span; route gives them to the next rep, whose packet gets its own fate.
    #[arg(long, default_value_t = 0.0, value_parser = parse_share)]
    pub reject_share: f64,
    /// Share of the contacted leads the rep accepts first (Accept, early in the span).
    #[arg(long, default_value_t = 0.0, value_parser = parse_share)]
    pub accept_share: f64,
    /// Act through the sandbox at this URL (e.g. http://127.0.0.1:8025), as reps do: clicks on its
    /// Slack messages and HubSpot task completions, which reach leadflow-ingest signed; nothing is
    /// published directly.
    #[arg(long, value_name = "URL")]
    pub via_sandbox: Option<String>,
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

/// How an activity reaches leadflow in `--via-sandbox` mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// A click on the packet's Slack message (`accept`, `contacted`, `reject`).
    Slack(&'static str),
    /// The packet's HubSpot task completed, stamped at the activity's time (a call logged late).
    CrmTask { idempotency_key: String },
}

/// One thing a simulated rep does: the activity, when it reaches leadflow, and how.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub activity: RepActivity,
    pub publish_at: Timestamp,
    pub via: Via,
}

/// What a simulated rep does with one packet.
#[derive(Clone, Debug, PartialEq)]
pub enum Fate {
    /// Nothing (no human handoff, or no deadline to answer).
    Ignore,
    /// Never answered.
    Silent,
    /// Contacted at this event time (before or after the deadline), published at `publish_at`
    /// (the event time, or later for a contact recorded late); accepted first at `accept_at`.
    Contact {
        activity: RepActivity,
        publish_at: Timestamp,
        accept_at: Option<Timestamp>,
    },
    /// Rejected back to the pool with a reason.
    Reject { activity: RepActivity },
}

/// The reasons a simulated rejection picks from (the Slack menu's).
const REASONS: [&str; 5] = [
    "not_a_fit",
    "bad_data",
    "duplicate",
    "competitor",
    "wrong_territory",
];

/// The seeded fate of a packet: in time (between 10 % and 90 % of the time to the first-contact
/// deadline), late (10 % to 100 % of that span after it), recorded late, rejected (2 % to 8 % of
/// the span), or silent; an accept, when drawn, comes at 1 % to 5 % of the span.
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
    let at_share = |lo: f64, hi: f64, rng: &mut rand_chacha::ChaCha8Rng| {
        packet.created_at.0 + (span as f64 * rng.random_range(lo..hi)) as i64
    };
    let recorded_late = args.silent_share + args.late_share;
    let rejected = recorded_late + args.recorded_late_share;
    let activity = |kind, at, prefix: &str, reason: Option<String>| RepActivity {
        activity_id: format!("sim-{prefix}{}", packet.packet_id),
        lead_id: lead.clone(),
        packet_id: Some(packet.packet_id.clone()),
        rep_id: packet
            .assignee
            .as_ref()
            .map_or_else(|| "rep-unassigned".to_owned(), |a| a.rep_id.clone()),
        kind,
        reason,
        reassigned_to: None,
        occurred_at: Timestamp(at),
    };
    let mut publish_at = None;
    let at = if roll < args.silent_share {
        return Fate::Silent;
    } else if roll < recorded_late {
        due.0 + (span as f64 * rng.random_range(0.1..1.0)) as i64
    } else if roll < rejected {
        publish_at = Some(due.0 + (args.recorded_after as i64).saturating_mul(1_000));
        at_share(0.1, 0.9, &mut rng)
    } else if roll < rejected + args.reject_share {
        let reason = REASONS[rng.random_range(0..REASONS.len())].to_owned();
        let at = at_share(0.02, 0.08, &mut rng);
        return Fate::Reject {
            activity: activity(RepActivityKind::Rejected, at, "rej-", Some(reason)),
        };
    } else {
        at_share(0.1, 0.9, &mut rng)
    };
    let accept_roll: f64 = rng.random();
    let accept_at = (accept_roll < args.accept_share)
        .then(|| Timestamp(at_share(0.01, 0.05, &mut rng).min(at)));
    let activity = activity(RepActivityKind::Contacted, at, "", None);
    Fate::Contact {
        publish_at: publish_at.map_or(activity.occurred_at, Timestamp),
        activity,
        accept_at,
    }
}

/// The steps of a fate, in order.
pub fn steps(packet: &HandoffPacket, fate: &Fate) -> Vec<Step> {
    match fate {
        Fate::Ignore | Fate::Silent => Vec::new(),
        Fate::Reject { activity } => vec![Step {
            activity: activity.clone(),
            publish_at: activity.occurred_at,
            via: Via::Slack("reject"),
        }],
        Fate::Contact {
            activity,
            publish_at,
            accept_at,
        } => {
            let mut out = Vec::new();
            if let Some(at) = accept_at {
                out.push(Step {
                    activity: RepActivity {
                        activity_id: format!("sim-acc-{}", packet.packet_id),
                        kind: RepActivityKind::Accepted,
                        occurred_at: *at,
                        ..activity.clone()
                    },
                    publish_at: *at,
                    via: Via::Slack("accept"),
                });
            }
            let via = if publish_at > &activity.occurred_at {
                Via::CrmTask {
                    idempotency_key: packet.idempotency_key.clone(),
                }
            } else {
                Via::Slack("contacted")
            };
            out.push(Step {
                activity: activity.clone(),
                publish_at: *publish_at,
                via,
            });
            out
        }
    }
}

fn fnv(s: &str) -> u64 {
    leadflow_events::stable_hash::fnv1a_64(s.as_bytes())
}

/// How often a step the sandbox cannot place yet (its message or task not there) is tried again.
const SANDBOX_RETRIES: u32 = 30;

/// Acts one step through the sandbox: `Ok(true)` done, `Ok(false)` not there yet (try later).
async fn act(http: &reqwest::Client, sandbox: &str, step: &Step) -> Result<bool, String> {
    let (path, body) = match &step.via {
        Via::Slack(action) => (
            "/_sandbox/slack/click",
            serde_json::json!({
                "packet_id": step.activity.packet_id,
                "action": action,
                "reason": step.activity.reason,
            }),
        ),
        Via::CrmTask { idempotency_key } => (
            "/_sandbox/hubspot/complete-task",
            serde_json::json!({
                "idempotency_key": idempotency_key,
                "occurred_at": step.activity.occurred_at.0,
            }),
        ),
    };
    let r = http
        .post(format!("{}{path}", sandbox.trim_end_matches('/')))
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("sandbox unreachable: {e}"))?;
    match r.status().as_u16() {
        200 => {
            let answer: serde_json::Value = r.json().await.unwrap_or_default();
            match answer["leadflow_status"].as_u64() {
                Some(200 | 204) => Ok(true),
                other => Err(format!("leadflow answered {other:?}")),
            }
        }
        404 => Ok(false),
        status => Err(format!(
            "sandbox answered {status}: {}",
            r.text().await.unwrap_or_default()
        )),
    }
}

/// Runs `activity simulate`: each step is acted when its time comes (at once when it is already
/// past, e.g. for generated leads with historical times).
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
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(|e| CliError::Usage(format!("cannot build an HTTP client: {e}")))?;
    let (mut on_time, mut late, mut silent, mut recorded_late, mut rejected, mut accepted) =
        (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    let (mut acted, mut failed) = (0u64, 0u64);
    let mut pending: Vec<(Timestamp, Step, u32)> = Vec::new();
    let idle = args.idle_timeout.map(Duration::from_secs);
    let mut last_packet = tokio::time::Instant::now();
    loop {
        // act on what is due by now
        let now = Timestamp::from(chrono::Utc::now());
        let (due, later): (Vec<_>, Vec<_>) = pending.drain(..).partition(|(at, ..)| *at <= now);
        pending = later;
        match &args.via_sandbox {
            None if !due.is_empty() => {
                let activities: Vec<RepActivity> =
                    due.into_iter().map(|(_, step, _)| step.activity).collect();
                crate::activity_publish::publish(cfg, &activities).await?;
            }
            None => {}
            Some(sandbox) => {
                for (_, step, tries) in due {
                    match act(&http, sandbox, &step).await {
                        Ok(true) => acted += 1,
                        Ok(false) if tries < SANDBOX_RETRIES => {
                            pending.push((Timestamp(now.0 + 1_000), step, tries + 1));
                        }
                        Ok(false) => {
                            failed += 1;
                            eprintln!(
                                "lead {}: its Slack message or CRM task never reached the sandbox",
                                step.activity.lead_id
                            );
                        }
                        Err(e) => {
                            failed += 1;
                            eprintln!("lead {}: {e}", step.activity.lead_id);
                        }
                    }
                }
            }
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
        let f = fate(&packet, args);
        match &f {
            Fate::Ignore => {}
            Fate::Silent => silent += 1,
            Fate::Reject { .. } => rejected += 1,
            Fate::Contact {
                activity: a,
                publish_at,
                accept_at,
            } => {
                accepted += u64::from(accept_at.is_some());
                if *publish_at > a.occurred_at {
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
            }
        }
        for step in steps(&packet, &f) {
            pending.push((step.publish_at, step, 0));
        }
    }
    eprintln!(
        "simulated reps: {on_time} contacted in time, {late} late, {recorded_late} in time but recorded late, {silent} never, {rejected} rejected, {accepted} accepted first"
    );
    if args.via_sandbox.is_some() {
        eprintln!("through the sandbox: {acted} actions reached leadflow, {failed} did not");
    }
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
            reject_share: 0.0,
            accept_share: 0.0,
            via_sandbox: None,
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
                    ..
                } => {
                    assert_eq!(publish_at, c.occurred_at, "recorded at once");
                    assert!(c.occurred_at >= p.created_at);
                    counts.0 += 1;
                }
                Fate::Ignore | Fate::Reject { .. } => panic!("a hot packet is answered or not"),
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
        let f = fate(&p, &a);
        let Fate::Contact {
            activity,
            publish_at,
            ..
        } = f.clone()
        else {
            panic!("every lead is contacted");
        };
        assert!(activity.occurred_at <= due, "in time");
        assert_eq!(
            publish_at,
            Timestamp(due.0 + 20_000),
            "recorded after the deadline"
        );
        // through the sandbox: the packet's CRM task completed, stamped in time
        let s = steps(&p, &f);
        assert_eq!(
            s[0].via,
            Via::CrmTask {
                idempotency_key: p.idempotency_key.clone()
            }
        );
        assert_eq!(s[0].publish_at, Timestamp(due.0 + 20_000));
    }

    #[test]
    fn rejections_carry_a_reason_and_accepts_come_before_the_contact() {
        let mut a = args(0.0, 0.0);
        a.reject_share = 0.3;
        a.accept_share = 1.0;
        let (mut rejected, mut accepted) = (0, 0);
        for i in 0..1_000 {
            let mut p = samples::handoff_packet();
            p.packet_id = format!("pkt-{i}");
            let f = fate(&p, &a);
            let s = steps(&p, &f);
            match f {
                Fate::Reject { activity } => {
                    rejected += 1;
                    assert_eq!(activity.kind, RepActivityKind::Rejected);
                    assert!(REASONS.contains(&activity.reason.as_deref().unwrap()));
                    assert_eq!(s.len(), 1);
                    assert_eq!(s[0].via, Via::Slack("reject"));
                }
                Fate::Contact { accept_at, .. } => {
                    accepted += 1;
                    assert!(accept_at.is_some());
                    assert_eq!(s.len(), 2);
                    assert_eq!(s[0].activity.kind, RepActivityKind::Accepted);
                    assert_eq!(s[0].via, Via::Slack("accept"));
                    assert!(
                        s[0].publish_at <= s[1].publish_at,
                        "accepted before contacted"
                    );
                    assert_eq!(s[1].via, Via::Slack("contacted"));
                }
                other => panic!("{other:?}"),
            }
        }
        assert!((240..360).contains(&rejected), "{rejected}");
        assert_eq!(rejected + accepted, 1_000);
    }
}
