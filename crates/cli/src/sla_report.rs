//! `leadflow sla report`: SLA adherence per tier and per rep, from the watchdog's record of what
//! happened to every deadline (`sla.outcomes`, `crates/sla-watchdog/RULES.md`), folded by
//! [`crate::sla_fold`]: every escalation on `sla.escalations` is one escalated deadline here, and
//! a breach counts against the owner who missed it, also after the lead was reassigned.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use clap::{Args, Subcommand};
use leadflow_events::AnyEvent;
use leadflow_events::{Codec, EventKind, Timestamp, TopicRole};
use leadflow_runtime::topic_range::{self, RangeSpec};
use leadflow_sla_watchdog::{DeadlineState, DeadlineView, WatchdogSettings};

use crate::error::CliError;
use crate::kafka::{CliConfig, range_config};

/// SLA commands.
#[derive(Debug, Subcommand)]
pub enum SlaCommand {
    /// Prints SLA adherence per tier and per rep from the topics (target: met > 90 %).
    #[command(
        after_help = "Examples:\n  leadflow sla report --since 7d\n  leadflow sla report --since 24h --json"
    )]
    Report(ReportArgs),
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// How far back: `7d`, `24h`, `90m`.
    #[arg(long, default_value = "7d", value_parser = parse_window)]
    pub since: Duration,
    /// One JSON object per row instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Parses `7d`, `24h`, `90m`, `30s`.
pub fn parse_window(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = s.split_at(s.len().saturating_sub(1));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a window like 7d, 24h or 90m"))?;
    let secs = match unit {
        "d" => n * 86_400,
        "h" => n * 3_600,
        "m" => n * 60,
        "s" => n,
        _ => return Err(format!("{s:?} is not a window like 7d, 24h or 90m")),
    };
    if secs == 0 {
        return Err("the window must be longer than 0".into());
    }
    Ok(Duration::from_secs(secs))
}

/// Counts of one row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Adherence {
    pub met: u64,
    pub breached: u64,
    pub escalated: u64,
    pub open: u64,
}

impl Adherence {
    fn add(&mut self, d: &DeadlineView, now: Timestamp) {
        match d.deadline.state {
            DeadlineState::Met { .. } => {
                self.met += 1;
                // escalated, then reconciled by a contact stamped in time: met, and the escalation
                // is still one of those on sla.escalations
                if d.escalation_level.is_some() {
                    self.escalated += 1;
                }
            }
            DeadlineState::ClosedLate { .. } | DeadlineState::Missed | DeadlineState::Expired => {
                self.breached += 1
            }
            DeadlineState::Escalated { .. } => {
                self.breached += 1;
                self.escalated += 1;
            }
            DeadlineState::Open if d.deadline.due_at < now => self.breached += 1,
            DeadlineState::Open => self.open += 1,
            DeadlineState::Superseded => {}
        }
    }

    /// Met share of settled deadlines, if any settled.
    pub fn ratio(&self) -> Option<f64> {
        let settled = self.met + self.breached;
        (settled > 0).then(|| self.met as f64 / settled as f64)
    }
}

/// Adherence per tier and per rep (the rep who held the lead when the clock ran; `automation` for
/// the automated sequence, `unassigned` when nobody held it).
pub fn tally(
    views: &[DeadlineView],
    now: Timestamp,
) -> (BTreeMap<String, Adherence>, BTreeMap<String, Adherence>) {
    let mut tiers: BTreeMap<String, Adherence> = BTreeMap::new();
    let mut reps: BTreeMap<String, Adherence> = BTreeMap::new();
    for v in views {
        tiers.entry(v.tier.clone()).or_default().add(v, now);
        let rep = match (&v.owner, v.escalatable) {
            (Some(r), _) => r.clone(),
            (None, false) => "automation".into(),
            (None, true) => "unassigned".into(),
        };
        reps.entry(rep).or_default().add(v, now);
    }
    (tiers, reps)
}

/// Renders the two tables.
pub fn render(
    tiers: &BTreeMap<String, Adherence>,
    reps: &BTreeMap<String, Adherence>,
    json: bool,
) -> String {
    let mut out = String::new();
    for (group, rows) in [("tier", tiers), ("rep", reps)] {
        if !json {
            let _ = writeln!(
                out,
                "\n{:<24} {:>6} {:>9} {:>10} {:>6} {:>8}",
                group, "met", "breached", "escalated", "open", "met %"
            );
        }
        for (name, a) in rows {
            let ratio = a.ratio();
            if json {
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::json!({
                        "by": group, "name": name, "met": a.met, "breached": a.breached,
                        "escalated": a.escalated, "open": a.open, "met_ratio": ratio,
                    })
                );
            } else {
                let pct = ratio.map_or("-".to_owned(), |r| format!("{:.1}", r * 100.0));
                let _ = writeln!(
                    out,
                    "{:<24} {:>6} {:>9} {:>10} {:>6} {:>8}",
                    name, a.met, a.breached, a.escalated, a.open, pct
                );
            }
        }
    }
    out
}

/// Runs `sla`.
pub async fn run(cfg: &CliConfig, command: &SlaCommand) -> Result<(), CliError> {
    let SlaCommand::Report(args) = command;
    let now = Timestamp::from(chrono::Utc::now());
    let since = Timestamp(now.0 - i64::try_from(args.since.as_millis()).unwrap_or(i64::MAX));
    let views = deadline_views(cfg, since).await?;
    let (tiers, reps) = tally(&views, now);
    if !args.json {
        println!(
            "SLA adherence of deadlines due since {since} (last {}), as of {now}; target met > 90 %",
            humanize(args.since)
        );
    }
    print!("{}", render(&tiers, &reps, args.json));
    Ok(())
}

/// Every deadline due since `since`, with its state, from `sla.outcomes` (also used by the
/// console). The records are read from `since` minus the watchdog's retention, so a deadline due
/// in the window is seen from the record that opened it.
pub async fn deadline_views(
    cfg: &CliConfig,
    since: Timestamp,
) -> Result<Vec<DeadlineView>, CliError> {
    let retention = WatchdogSettings::default().rules().retention_ms;
    let from = Timestamp(since.0.saturating_sub(retention));
    let codec = Codec::from_config(cfg.registry.as_ref())?;
    let topic = cfg.topics.name(TopicRole::SlaOutcomes).to_owned();
    let records: Vec<_> = read_since(cfg, &codec, &topic, EventKind::SlaOutcome, from)
        .await?
        .into_iter()
        .filter_map(|e| match e {
            AnyEvent::SlaOutcome(o) => Some(o),
            _ => None,
        })
        .collect();
    Ok(crate::sla_fold::fold(&records)
        .into_iter()
        .filter(|v| v.deadline.due_at >= since)
        .collect())
}

fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    if s % 86_400 == 0 {
        format!("{}d", s / 86_400)
    } else if s % 3_600 == 0 {
        format!("{}h", s / 3_600)
    } else {
        format!("{}m", s / 60)
    }
}

/// Every event of `topic` written since `since`, up to the end the topic had when reading started
/// (also the quality report's reader).
pub(crate) async fn read_since(
    cfg: &CliConfig,
    codec: &Codec,
    topic: &str,
    kind: EventKind,
    since: Timestamp,
) -> Result<Vec<AnyEvent>, CliError> {
    let config = range_config(cfg, "sla");
    let records = topic_range::read_to_end(&config, RangeSpec::since(topic, since.0)).await?;
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        let Some(payload) = r.payload else { continue };
        match AnyEvent::decode(codec, kind, &payload).await {
            Ok(e) => out.push(e),
            Err(e) => eprintln!(
                "{topic} partition {} offset {}: skipped, cannot decode: {e}",
                r.partition, r.offset
            ),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use leadflow_events::SlaKind;
    use leadflow_sla_watchdog::Deadline;

    use super::*;

    fn view(tier: &str, owner: Option<&str>, state: DeadlineState, due: i64) -> DeadlineView {
        DeadlineView {
            lead_id: "l".into(),
            tier: tier.into(),
            owner: owner.map(str::to_owned),
            escalatable: owner.is_some(),
            deadline: Deadline {
                kind: SlaKind::FirstContact,
                due_at: Timestamp(due),
                state,
            },
            escalation_level: match state {
                DeadlineState::Escalated { level } => Some(level),
                _ => None,
            },
        }
    }

    #[test]
    fn windows_parse() {
        assert_eq!(parse_window("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_window("90m"), Ok(Duration::from_secs(5_400)));
        assert!(parse_window("7").is_err());
        assert!(parse_window("0h").is_err());
        assert!(parse_window("xd").is_err());
    }

    #[test]
    fn adherence_per_tier_and_rep() {
        let now = Timestamp(1_000);
        let views = [
            view(
                "HOT",
                Some("rep-1"),
                DeadlineState::Met { at: Timestamp(1) },
                10,
            ),
            view(
                "HOT",
                Some("rep-1"),
                DeadlineState::Escalated { level: 1 },
                10,
            ),
            view("HOT", Some("rep-2"), DeadlineState::Open, 10), // overdue: a breach
            view("HOT", Some("rep-2"), DeadlineState::Open, 5_000), // still running
            view("HOT", Some("rep-2"), DeadlineState::Superseded, 10),
            view("NURTURE_24H", None, DeadlineState::Missed, 10),
        ];
        let (tiers, reps) = tally(&views, now);
        assert_eq!(
            tiers["HOT"],
            Adherence {
                met: 1,
                breached: 2,
                escalated: 1,
                open: 1
            }
        );
        assert_eq!(tiers["HOT"].ratio(), Some(1.0 / 3.0));
        assert_eq!(reps["rep-1"].ratio(), Some(0.5));
        assert_eq!(reps["automation"].breached, 1);
        let table = render(&tiers, &reps, false);
        assert!(table.contains("HOT"), "{table}");
        assert!(table.contains("33.3"), "{table}");
        let json = render(&tiers, &reps, true);
        assert_eq!(json.lines().count(), 5);
    }
}
