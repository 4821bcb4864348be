//! `leadflow reps import|set-status|list|remove`: the rep roster on the compacted `reps` topic.

pub(crate) mod topic;

use std::path::PathBuf;

use clap::{Args, Subcommand};
use leadflow_events::AnyEvent;
use leadflow_events::{Codec, EventKind, RepState, RepStatus, Timestamp, TopicRole};
use leadflow_generate::roster_file::{self, RosterError};
use leadflow_route::{Reassigned, Router};

use crate::error::CliError;
use crate::kafka::CliConfig;
use crate::sink::Sink;

#[derive(Debug, Subcommand)]
pub enum RepsCommand {
    /// Validate a roster file and publish every rep to the reps topic (all or nothing).
    #[command(
        long_about = "Reads a roster (.csv with a header row, a .json array, or .jsonl), validates \
every row (role, teams, territories, segments, cap, working hours, status, manager references, \
duplicate ids) and publishes one RepState per rep to the compacted reps topic, keyed by rep id. \
A bad row rejects the whole file: the error names its line and nothing is published (exit 2). \
Reps already on the topic but absent from the file are left as they are (use `reps remove`).\n\n\
CSV columns: rep_id,name,email,role,teams,territories,segments,max_open_leads,time_zone,days,start,\
end,status,status_until,manager_id,slack_user_id,crm_owner_id (lists separated by ';').",
        after_help = "Examples:\n  leadflow reps import deploy/roster.csv\n  leadflow reps import roster.json --dry-run"
    )]
    Import(ImportArgs),
    /// Change one rep's status (available, busy, out-of-office, inactive), live.
    #[command(
        long_about = "Reads the rep's current state from the reps topic, changes its status (and \
status_until for busy / out-of-office) and publishes it. Route applies it to the next lead without \
a restart.",
        after_help = "Examples:\n  leadflow reps set-status ae-emea-1 out-of-office --until 2026-12-07\n  leadflow reps set-status ae-emea-1 available\n  leadflow reps set-status sdr-na-1 busy --until 2026-11-30T15:00:00Z"
    )]
    SetStatus(SetStatusArgs),
    /// Print the roster read back from the reps topic, with each rep's open load.
    #[command(
        long_about = "Reads the whole reps topic (latest state per rep), and the last --window-days \
of handoff.packets and handoff.activity to count each rep's open leads exactly as route does \
(assigned and not yet contacted, rejected or reassigned). Prints a table, or JSON lines with --json.",
        after_help = "Examples:\n  leadflow reps list\n  leadflow reps list --json | jq -c 'select(.open_leads > 0)'"
    )]
    List(ListArgs),
    /// Remove a rep: INACTIVE at once, their open leads reassigned, then a tombstone.
    #[command(
        long_about = "Publishes the rep as INACTIVE (never assigned again), reassigns each of \
their open leads to the next owner by route's rules (a packet per lead on handoff.packets, one \
escalation level up, naming the rep as previous owner: notify closes their CRM task and tells \
them), then writes a tombstone: running route instances drop the rep at once and compaction \
forgets them. Safe to run again if it stopped half-way.",
        after_help = "Examples:\n  leadflow reps remove ae-emea-2"
    )]
    Remove(RemoveArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Roster file: .csv, .json (array) or .jsonl.
    pub file: PathBuf,
    /// Validate only; publish nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct SetStatusArgs {
    /// Rep id.
    pub rep: String,
    /// available, busy, out-of-office or inactive.
    #[arg(value_parser = parse_status)]
    pub status: RepStatus,
    /// When the status ends (RFC 3339 or YYYY-MM-DD); busy / out-of-office only.
    #[arg(long)]
    pub until: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Days of packets and activity read to count open leads (0 = everything retained).
    #[arg(long, default_value_t = 30)]
    pub window_days: u32,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Rep id.
    pub rep: String,
    /// Days of packets and activity read to find the rep's open leads (route's state window).
    #[arg(long, default_value_t = 30)]
    pub window_days: u32,
}

fn parse_status(s: &str) -> Result<RepStatus, String> {
    RepStatus::parse(s)
        .ok_or_else(|| format!("{s:?} is not available, busy, out-of-office or inactive"))
}

fn now() -> Timestamp {
    Timestamp::from(chrono::Utc::now())
}

/// Runs a `reps` subcommand.
pub async fn run(cfg: &CliConfig, command: &RepsCommand) -> Result<(), CliError> {
    match command {
        RepsCommand::Import(args) => import(cfg, args).await,
        RepsCommand::SetStatus(args) => set_status(cfg, args).await,
        RepsCommand::List(args) => list(cfg, args).await,
        RepsCommand::Remove(args) => remove(cfg, args).await,
    }
}

async fn import(cfg: &CliConfig, args: &ImportArgs) -> Result<(), CliError> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| CliError::io(format!("cannot read {}", args.file.display()), e))?;
    let name = args.file.to_string_lossy();
    let reps = roster_file::parse(&name, &text, now()).map_err(|e| match e {
        RosterError::BadLine { line, message } => CliError::Usage(format!(
            "{name}: line {line}: {message} (nothing was published)"
        )),
        e @ RosterError::Empty { .. } => CliError::Usage(e.to_string()),
    })?;
    if args.dry_run {
        eprintln!(
            "{name}: {} reps valid (dry run: nothing published)",
            reps.len()
        );
        return Ok(());
    }
    let delivered = publish(cfg, &reps).await?;
    eprintln!(
        "published {delivered} reps to {}",
        cfg.topics.name(TopicRole::Reps)
    );
    Ok(())
}

async fn publish(cfg: &CliConfig, reps: &[RepState]) -> Result<u64, CliError> {
    let topic = cfg.topics.name(TopicRole::Reps).to_owned();
    let codec = Codec::from_config(cfg.registry.as_ref())?;
    let mut sink = Sink::connect(cfg, &topic)?;
    for rep in reps {
        let payload = codec
            .encode(&topic, rep)
            .await
            .map_err(|e| CliError::Internal(format!("rep {}: {e}", rep.rep_id)))?;
        sink.send(&rep.rep_id, &payload).await?;
    }
    sink.finish().await
}

/// The latest state of every rep on the topic (tombstones applied).
async fn current_roster(cfg: &CliConfig) -> Result<Vec<RepState>, CliError> {
    let records = topic::read_all(cfg, TopicRole::Reps, None).await?;
    let mut latest: std::collections::BTreeMap<String, RepState> = Default::default();
    for (key, event) in records {
        match event {
            Some(AnyEvent::RepState(r)) => {
                latest.insert(key, r);
            }
            None => {
                latest.remove(&key);
            }
            Some(_) => {}
        }
    }
    Ok(latest.into_values().collect())
}

async fn set_status(cfg: &CliConfig, args: &SetStatusArgs) -> Result<(), CliError> {
    let until = args
        .until
        .as_deref()
        .map(roster_file::parse_time)
        .transpose()
        .map_err(|e| CliError::Usage(format!("--until {e}")))?;
    if until.is_some() && !matches!(args.status, RepStatus::Busy | RepStatus::OutOfOffice) {
        return Err(CliError::Usage(
            "--until only applies to busy and out-of-office".into(),
        ));
    }
    let roster = current_roster(cfg).await?;
    let Some(mut rep) = roster.into_iter().find(|r| r.rep_id == args.rep) else {
        return Err(CliError::Usage(format!(
            "rep {} is not on the {} topic (see `leadflow reps list`)",
            args.rep,
            cfg.topics.name(TopicRole::Reps)
        )));
    };
    rep.status = args.status;
    rep.status_until = until;
    rep.updated_at = now();
    publish(cfg, std::slice::from_ref(&rep)).await?;
    eprintln!(
        "{}: {}{}",
        rep.rep_id,
        rep.status.as_str(),
        until
            .map(|t| format!(" until {}", t.to_rfc3339()))
            .unwrap_or_default()
    );
    Ok(())
}

async fn remove(cfg: &CliConfig, args: &RemoveArgs) -> Result<(), CliError> {
    let roster = current_roster(cfg).await?;
    let Some(mut rep) = roster.iter().find(|r| r.rep_id == args.rep).cloned() else {
        return Err(CliError::Usage(format!(
            "rep {} is not on the reps topic",
            args.rep
        )));
    };
    // 1. INACTIVE: never eligible again from the next lead on, in every running route.
    rep.status = RepStatus::Inactive;
    rep.status_until = None;
    rep.updated_at = now();
    publish(cfg, std::slice::from_ref(&rep)).await?;
    // 2. Their open leads move to the next owner, decided by route's own rules on the state route
    //    rebuilds (roster without the rep, packets and activity of the window). Before the
    //    tombstone, so a failed run can be repeated: leads already moved are no longer theirs.
    let others = roster.into_iter().filter(|r| r.rep_id != rep.rep_id);
    let router = routing_state(cfg, others, args.window_days).await?;
    let mut packets = Vec::new();
    let mut stuck = 0;
    for outcome in router.reassign_removed(&rep.rep_id, now()) {
        match outcome {
            Reassigned::Packet(p) => packets.push(p),
            Reassigned::Unroutable(reason) => {
                stuck += 1;
                eprintln!(
                    "warning: {reason} (left with the removed rep: the SLA watchdog escalates it)"
                );
            }
            _ => {}
        }
    }
    let moved = publish_packets(cfg, &packets).await?;
    // 3. The tombstone: running services drop the rep from their roster at once; compaction
    //    forgets them.
    let topic = cfg.topics.name(TopicRole::Reps).to_owned();
    topic::tombstone(cfg, &topic, &rep.rep_id).await?;
    eprintln!(
        "{}: removed; {moved} open lead(s) reassigned{}",
        rep.rep_id,
        if stuck > 0 {
            format!(", {stuck} with nobody to take them")
        } else {
            String::new()
        }
    );
    Ok(())
}

/// Route's state as route rebuilds it: `reps` given, the last `window_days` of `handoff.packets`
/// and `handoff.activity` (0 = everything retained).
async fn routing_state(
    cfg: &CliConfig,
    reps: impl IntoIterator<Item = RepState>,
    window_days: u32,
) -> Result<Router, CliError> {
    let router = Router::default();
    for rep in reps {
        if let Err(e) = router.apply_rep(rep) {
            eprintln!("warning: {e}");
        }
    }
    let since = (window_days > 0).then(|| Timestamp(now().0 - i64::from(window_days) * 86_400_000));
    for role in [TopicRole::Packets, TopicRole::Activity] {
        for (_, event) in topic::read_all(cfg, role, since).await? {
            if let Some(e) = event {
                let _ = router.apply(&e);
            }
        }
    }
    Ok(router)
}

/// Produces packets to `handoff.packets`, keyed by lead id as route keys them.
async fn publish_packets(
    cfg: &CliConfig,
    packets: &[std::sync::Arc<leadflow_events::HandoffPacket>],
) -> Result<u64, CliError> {
    if packets.is_empty() {
        return Ok(0);
    }
    let topic = cfg.topics.name(TopicRole::Packets).to_owned();
    let codec = Codec::from_config(cfg.registry.as_ref())?;
    let mut sink = Sink::connect(cfg, &topic)?;
    for p in packets {
        let payload = codec
            .encode(&topic, p.as_ref())
            .await
            .map_err(|e| CliError::Internal(format!("packet {}: {e}", p.packet_id)))?;
        sink.send(p.lead_id(), &payload).await?;
    }
    sink.finish().await
}

async fn list(cfg: &CliConfig, args: &ListArgs) -> Result<(), CliError> {
    let router = routing_state(cfg, current_roster(cfg).await?, args.window_days).await?;
    let rows = router.reps_with_load();
    if args.json {
        for (rep, load) in rows {
            let mut v = leadflow_events::json::event_to_json(&rep)
                .map_err(|e| CliError::Internal(e.to_string()))?;
            v["open_leads"] = serde_json::Value::from(load);
            println!("{v}");
        }
        return Ok(());
    }
    println!(
        "{:<14} {:<19} {:<34} {:<32} {:>9}  {:<20} {:<26} MANAGER",
        "REP", "ROLE", "TEAMS", "STATUS", "OPEN/CAP", "TERRITORIES", "SEGMENTS"
    );
    for (rep, load) in rows {
        let status = match rep.status_until {
            Some(t) => format!("{} until {}", rep.status.as_str(), &t.to_rfc3339()[..10]),
            None => rep.status.as_str().to_owned(),
        };
        let or_all = |v: &[String]| {
            if v.is_empty() {
                "all".to_owned()
            } else {
                v.join(",")
            }
        };
        println!(
            "{:<14} {:<19} {:<34} {:<32} {:>9}  {:<20} {:<26} {}",
            rep.rep_id,
            rep.role.as_str(),
            rep.teams.join(","),
            status,
            format!("{load}/{}", rep.max_open_leads),
            or_all(&rep.territories),
            or_all(&rep.segments),
            rep.manager_id.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}

/// The event kind of the `reps` topic (for tests and tools).
pub const KIND: EventKind = EventKind::RepState;
