//! `leadflow activity`: records what a rep did with a lead on `handoff.activity` (the watchdog closes
//! SLA deadlines with it), one at a time or from a JSON lines file.

use std::io::{self, BufRead, BufReader};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use leadflow_events::{RepActivity, RepActivityKind, Timestamp, TopicRole};

pub use crate::activity_publish::publish;
use crate::error::{CliError, describe_json_error};
use crate::kafka::CliConfig;

/// What a rep did.
#[derive(Debug, Subcommand)]
pub enum ActivityCommand {
    /// The rep made first contact with the lead (stops the first-contact clock).
    #[command(
        after_help = "Examples:\n  leadflow activity contacted lead-0042 --rep rep-ae-1\n  leadflow activity contacted lead-0042 --rep rep-ae-1 --at 2026-11-30T09:04:00Z"
    )]
    Contacted(RecordArgs),
    /// The rep accepted the lead (stops the assignment clock).
    #[command(after_help = "Examples:\n  leadflow activity accepted lead-0042 --rep rep-ae-1")]
    Accepted(RecordArgs),
    /// The rep qualified the lead (stops every clock).
    #[command(after_help = "Examples:\n  leadflow activity qualified lead-0042 --rep rep-ae-1")]
    Qualified(RecordArgs),
    /// The rep disqualified the lead (stops every clock); give the reason.
    #[command(
        after_help = "Examples:\n  leadflow activity disqualified lead-0042 --rep rep-ae-1 --reason not_a_fit"
    )]
    Disqualified(RecordArgs),
    /// The rep rejected the lead as not a fit, bad data, a competitor or a duplicate (stops every clock).
    #[command(
        after_help = "Examples:\n  leadflow activity rejected lead-0042 --rep rep-ae-1 --reason duplicate"
    )]
    Rejected(RecordArgs),
    /// The rep handed the lead to another rep (stops the assignment clock; the others run on for the new owner).
    #[command(
        after_help = "Examples:\n  leadflow activity reassigned lead-0042 --rep rep-ae-1 --to rep-ae-2"
    )]
    Reassigned(RecordArgs),
    /// Publishes activities from a JSON lines file (`-` for stdin); a bad line rejects the whole file.
    #[command(
        after_help = "Examples:\n  leadflow activity import activity.jsonl\n  echo '{\"lead_id\":\"lead-0042\",\"rep_id\":\"rep-ae-1\",\"kind\":\"CONTACTED\",\"occurred_at\":\"2026-11-30T09:04:00Z\"}' | leadflow activity import -\n\nEach line is a RepActivity as `leadflow tail handoff.activity` prints it; `activity_id` may be left out\n(derived from the line, so importing the same file twice records each activity once)."
    )]
    Import(ImportArgs),
    /// Simulates reps answering the packets on handoff.packets: most in time, some late, some never.
    #[command(
        after_help = "Examples:\n  leadflow activity simulate --late-share 0.2 --silent-share 0.1\n  leadflow activity simulate --from-beginning --idle-timeout 15"
    )]
    Simulate(crate::activity_sim::SimulateArgs),
}

/// One activity given on the command line.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// The lead id.
    pub lead: String,
    /// The rep who acted.
    #[arg(long)]
    pub rep: String,
    /// When it happened (RFC 3339; default now). Event time decides whether the SLA was met.
    #[arg(long, value_parser = parse_time)]
    pub at: Option<Timestamp>,
    /// The packet answered, when known.
    #[arg(long)]
    pub packet: Option<String>,
    /// Reason (disqualified/rejected) or note.
    #[arg(long)]
    pub reason: Option<String>,
    /// The new owner (reassigned).
    #[arg(long)]
    pub to: Option<String>,
}

/// A JSON lines file of activities.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file, or `-` for stdin.
    pub file: PathBuf,
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    if s.eq_ignore_ascii_case("now") {
        return Ok(Timestamp::from(chrono::Utc::now()));
    }
    Timestamp::parse_rfc3339(s)
        .map_err(|e| format!("{s:?} is not an RFC 3339 time like 2026-11-30T09:04:00Z: {e}"))
}

/// Builds the activity of a command-line record.
pub fn record(
    kind: RepActivityKind,
    args: &RecordArgs,
    now: Timestamp,
) -> Result<RepActivity, CliError> {
    if args.lead.trim().is_empty() || args.rep.trim().is_empty() {
        return Err(CliError::Usage(
            "the lead id and --rep must not be empty".into(),
        ));
    }
    if kind == RepActivityKind::Reassigned && args.to.is_none() {
        return Err(CliError::Usage("reassigned needs --to <rep id>".into()));
    }
    if kind != RepActivityKind::Reassigned && args.to.is_some() {
        return Err(CliError::Usage("--to is only for reassigned".into()));
    }
    Ok(RepActivity {
        activity_id: format!("act-{}", uuid::Uuid::new_v4()),
        lead_id: args.lead.clone(),
        packet_id: args.packet.clone(),
        rep_id: args.rep.clone(),
        kind,
        reason: args.reason.clone(),
        reassigned_to: args.to.clone(),
        occurred_at: args.at.unwrap_or(now),
    })
}

/// Parses one JSON line into an activity; a missing `activity_id` is derived from the line.
pub fn parse_activity_line(line: &str, number: u64) -> Result<RepActivity, CliError> {
    let bad = |message: String| CliError::BadLine {
        line: number,
        message,
    };
    let mut value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| bad(describe_json_error(&e)))?;
    let Some(obj) = value.as_object_mut() else {
        return Err(bad("expected a JSON object".into()));
    };
    if !obj.contains_key("activity_id") {
        let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, line.trim().as_bytes());
        obj.insert("activity_id".into(), format!("act-{id}").into());
    }
    let activity: RepActivity =
        serde_json::from_value(value).map_err(|e| bad(describe_json_error(&e)))?;
    if activity.kind == RepActivityKind::Other {
        return Err(bad("kind OTHER cannot be recorded".into()));
    }
    if activity.kind == RepActivityKind::Enrolled {
        return Err(bad(
            "kind ENROLLED is recorded by the nurture stage, not by a rep".into(),
        ));
    }
    if activity.lead_id.trim().is_empty() || activity.rep_id.trim().is_empty() {
        return Err(bad("lead_id and rep_id must not be empty".into()));
    }
    Ok(activity)
}

/// Runs `activity`.
pub async fn run(cfg: &CliConfig, command: &ActivityCommand) -> Result<(), CliError> {
    let now = Timestamp::from(chrono::Utc::now());
    let activities = match command {
        ActivityCommand::Contacted(a) => vec![record(RepActivityKind::Contacted, a, now)?],
        ActivityCommand::Accepted(a) => vec![record(RepActivityKind::Accepted, a, now)?],
        ActivityCommand::Qualified(a) => vec![record(RepActivityKind::Qualified, a, now)?],
        ActivityCommand::Disqualified(a) => vec![record(RepActivityKind::Disqualified, a, now)?],
        ActivityCommand::Rejected(a) => vec![record(RepActivityKind::Rejected, a, now)?],
        ActivityCommand::Reassigned(a) => vec![record(RepActivityKind::Reassigned, a, now)?],
        ActivityCommand::Import(args) => read_file(&args.file)?,
        ActivityCommand::Simulate(args) => return crate::activity_sim::run(cfg, args).await,
    };
    let published = publish(cfg, &activities).await?;
    eprintln!(
        "{published} activit{} recorded on {}",
        if published == 1 { "y" } else { "ies" },
        cfg.topics.name(TopicRole::Activity)
    );
    Ok(())
}

/// Every line parsed before anything is published: a bad line rejects the whole file.
fn read_file(path: &PathBuf) -> Result<Vec<RepActivity>, CliError> {
    let input: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(BufReader::new(io::stdin()))
    } else {
        let file = std::fs::File::open(path)
            .map_err(|e| CliError::io(format!("cannot open {}", path.display()), e))?;
        Box::new(BufReader::new(file))
    };
    let mut out = Vec::new();
    for (i, line) in input.lines().enumerate() {
        let number = i as u64 + 1;
        let line = line.map_err(|e| CliError::unreadable_line(number, &e))?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(parse_activity_line(&line, number)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(to: Option<&str>) -> RecordArgs {
        RecordArgs {
            lead: "lead-1".into(),
            rep: "rep-1".into(),
            at: None,
            packet: None,
            reason: None,
            to: to.map(str::to_owned),
        }
    }

    #[test]
    fn a_record_defaults_to_now_and_checks_reassign_target() {
        let now = Timestamp(1_000);
        let a = record(RepActivityKind::Contacted, &args(None), now).unwrap();
        assert_eq!(a.occurred_at, now);
        assert_eq!(a.kind, RepActivityKind::Contacted);
        assert!(record(RepActivityKind::Reassigned, &args(None), now).is_err());
        assert!(record(RepActivityKind::Contacted, &args(Some("rep-2")), now).is_err());
        let r = record(RepActivityKind::Reassigned, &args(Some("rep-2")), now).unwrap();
        assert_eq!(r.reassigned_to.as_deref(), Some("rep-2"));
    }

    #[test]
    fn lines_parse_with_a_derived_stable_id_and_bad_lines_name_the_line() {
        let line = r#"{"lead_id":"lead-1","rep_id":"rep-1","kind":"CONTACTED","occurred_at":"2026-11-30T09:04:00Z"}"#;
        let a = parse_activity_line(line, 1).unwrap();
        let b = parse_activity_line(line, 7).unwrap();
        assert_eq!(a.activity_id, b.activity_id);
        assert_eq!(a.kind, RepActivityKind::Contacted);
        let err = parse_activity_line(r#"{"lead_id":"lead-1","kind":"CONTACTED"}"#, 3).unwrap_err();
        assert!(err.to_string().starts_with("line 3:"), "{err}");
        assert!(err.to_string().contains("rep_id"), "{err}");
        assert!(parse_activity_line("[1]", 4).is_err());
    }
}
