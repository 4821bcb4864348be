//! `leadflow exceptions`: work the exception queue. The queue is rebuilt on every call from
//! `leads.exceptions` (what failed) and the compacted `exceptions.state` (what operators decided);
//! every action is one state record, so the queue is shared by every operator and replayable.
//! Rules (owners, due times, escalation, stable ids): `RULES.md` beside this file.

pub mod correct;
pub mod queue;
pub mod render;
pub mod rules;
pub mod store;

use std::io::Read as _;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use leadflow_events::{Codec, ErrorKind, ExceptionState, Timestamp};

use crate::error::CliError;
use crate::kafka::{CliConfig, kind_for_topic};
use queue::{Action, Entry, Filter, Queue, apply, check_resend};

const EXAMPLES: &str = "Examples:
  leadflow exceptions list --overdue
  leadflow exceptions list --stage enrich --owner marketing-ops --json
  leadflow exceptions show enrich:leads.raw:2:17
  leadflow exceptions replay enrich:leads.raw:2:17 --edit fixed.json --reason 'email corrected'
  leadflow exceptions close enrich:leads.raw:2:17 --reason 'test lead'";

/// Exception queue commands.
#[derive(Debug, Subcommand)]
pub enum ExceptionsCommand {
    /// Open exceptions, most urgent first (filter by stage, kind, owner, overdue).
    #[command(after_help = EXAMPLES)]
    List(ListArgs),
    /// One exception: reason, source, the original record decoded, history.
    #[command(after_help = EXAMPLES)]
    Show(ShowArgs),
    /// Re-produce the original bytes to the source topic (a transient failure).
    #[command(after_help = EXAMPLES)]
    Retry(ResendArgs),
    /// Re-produce the original record, or a corrected JSON version (--edit), to the source topic.
    #[command(after_help = EXAMPLES)]
    Replay(ReplayArgs),
    /// Close an exception with a reason.
    #[command(after_help = EXAMPLES)]
    Close(CloseArgs),
    /// Re-open a closed exception.
    #[command(after_help = EXAMPLES)]
    Reopen(ActArgs),
    /// Give an exception to another owner.
    #[command(after_help = EXAMPLES)]
    Assign(AssignArgs),
    /// Escalate an exception to the owner's manager role (or --owner), with a shorter due time.
    #[command(after_help = EXAMPLES)]
    Escalate(EscalateArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(long)]
    pub stage: Option<String>,
    /// Error kind: decode, validation, missing_field, duplicate, stale, processing, delivery.
    #[arg(long, value_parser = parse_kind)]
    pub kind: Option<ErrorKind>,
    #[arg(long)]
    pub owner: Option<String>,
    /// Only those past their due time.
    #[arg(long)]
    pub overdue: bool,
    /// Closed ones too.
    #[arg(long)]
    pub all: bool,
    /// Only this lead's.
    #[arg(long)]
    pub lead: Option<String>,
    /// One JSON object per line.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    pub id: String,
    #[arg(long)]
    pub json: bool,
}

/// Who acts and why (every action).
#[derive(Debug, Args)]
pub struct ActArgs {
    pub id: String,
    /// Who is acting (default: $USER).
    #[arg(long, env = "LEADFLOW_ACTOR")]
    pub actor: Option<String>,
    #[arg(long)]
    pub reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct ResendArgs {
    #[command(flatten)]
    pub act: ActArgs,
    /// Send again although an earlier retry/replay has not failed again (yet).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub resend: ResendArgs,
    /// A corrected version of the record as JSON (a file, or - for stdin); it must keep the lead
    /// id and, for a packet, the idempotency key.
    #[arg(long, value_name = "FILE")]
    pub edit: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CloseArgs {
    pub id: String,
    #[arg(long, env = "LEADFLOW_ACTOR")]
    pub actor: Option<String>,
    /// Why it is closed (required).
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct AssignArgs {
    #[command(flatten)]
    pub act: ActArgs,
    #[arg(long)]
    pub owner: String,
}

#[derive(Debug, Args)]
pub struct EscalateArgs {
    #[command(flatten)]
    pub act: ActArgs,
    /// Escalate to this owner instead of the owner's manager role.
    #[arg(long)]
    pub owner: Option<String>,
}

fn parse_kind(s: &str) -> Result<ErrorKind, String> {
    serde_json::from_value(serde_json::Value::String(s.to_ascii_uppercase()))
        .map_err(|_| format!("unknown error kind {s:?}"))
}

fn actor(given: Option<&String>) -> String {
    given
        .cloned()
        .or_else(|| std::env::var("USER").ok())
        .filter(|a| !a.trim().is_empty())
        .unwrap_or_else(|| "operator".into())
}

fn now() -> Timestamp {
    Timestamp::from(chrono::Utc::now())
}

/// Runs one `exceptions` command.
pub async fn run(cfg: &CliConfig, command: &ExceptionsCommand) -> Result<(), CliError> {
    let codec = Codec::from_config(cfg.registry.as_ref())?;
    let queue = store::load(cfg, &codec).await?;
    let now = now();
    let (id, req, actor, reason) = match command {
        ExceptionsCommand::List(a) => {
            let filter = Filter {
                stage: a.stage.clone(),
                kind: a.kind,
                owner: a.owner.clone(),
                overdue: a.overdue,
                all: a.all,
                lead: a.lead.clone(),
            };
            print!("{}", render::list(&queue.list(&filter, now), now, a.json));
            return Ok(());
        }
        ExceptionsCommand::Show(a) => {
            let entry = find(&queue, &a.id)?;
            let original = decode_original(cfg, &codec, entry).await;
            print!("{}", render::show(entry, &original, now, a.json));
            return Ok(());
        }
        ExceptionsCommand::Close(a) => (
            &a.id,
            Request::Close,
            a.actor.as_ref(),
            Some(a.reason.clone()),
        ),
        ExceptionsCommand::Reopen(a) => {
            (&a.id, Request::Reopen, a.actor.as_ref(), a.reason.clone())
        }
        ExceptionsCommand::Assign(a) => (
            &a.act.id,
            Request::Assign {
                owner: a.owner.clone(),
            },
            a.act.actor.as_ref(),
            a.act.reason.clone(),
        ),
        ExceptionsCommand::Escalate(a) => (
            &a.act.id,
            Request::Escalate {
                owner: a.owner.clone(),
            },
            a.act.actor.as_ref(),
            a.act.reason.clone(),
        ),
        ExceptionsCommand::Retry(a) => (
            &a.act.id,
            Request::Retry { force: a.force },
            a.act.actor.as_ref(),
            a.act.reason.clone(),
        ),
        ExceptionsCommand::Replay(a) => {
            let edited = match &a.edit {
                Some(path) => Some(read_edit(path)?),
                None => None,
            };
            let act = &a.resend.act;
            let req = Request::Replay {
                force: a.resend.force,
                edited,
            };
            (&act.id, req, act.actor.as_ref(), act.reason.clone())
        }
    };
    execute(cfg, &codec, &queue, id, req, actor, reason).await
}

/// An action as the CLI and the console ask for it.
#[derive(Clone, Debug)]
pub enum Request {
    Assign {
        owner: String,
    },
    Escalate {
        owner: Option<String>,
    },
    Retry {
        force: bool,
    },
    /// `edited`: a corrected record as JSON.
    Replay {
        force: bool,
        edited: Option<String>,
    },
    Close,
    Reopen,
}

async fn execute(
    cfg: &CliConfig,
    codec: &Codec,
    queue: &Queue,
    id: &str,
    req: Request,
    actor_name: Option<&String>,
    reason: Option<String>,
) -> Result<(), CliError> {
    let next = perform(cfg, codec, queue, id, req, &actor(actor_name), reason).await?;
    let last = next.history.last().map_or("updated", |a| a.action.label());
    println!(
        "{} {last}: {} (owner {}, due {})",
        next.exception_id,
        next.status.label(),
        next.owner,
        next.due_at
    );
    Ok(())
}

/// Performs one action on entry `id`: re-produces the record for a retry/replay, then writes the
/// entry's next state to `exceptions.state`. Returns the state written.
pub async fn perform(
    cfg: &CliConfig,
    codec: &Codec,
    queue: &Queue,
    id: &str,
    req: Request,
    actor: &str,
    reason: Option<String>,
) -> Result<ExceptionState, CliError> {
    let entry = find(queue, id)?;
    let action = match req {
        Request::Assign { owner } => Action::Assign { owner },
        Request::Escalate { owner } => Action::Escalate { owner },
        Request::Close => Action::Close,
        Request::Reopen => Action::Reopen,
        Request::Retry { force } => {
            check_resend(entry, force).map_err(|e| CliError::Usage(e.to_string()))?;
            let target = resend(cfg, entry, None).await?;
            Action::Retry { target }
        }
        Request::Replay { force, edited } => {
            check_resend(entry, force).map_err(|e| CliError::Usage(e.to_string()))?;
            let corrected = match edited {
                Some(text) => Some(correct::corrected_payload(cfg, codec, entry, &text).await?),
                None => None,
            };
            let was_edited = corrected.is_some();
            let target = resend(cfg, entry, corrected).await?;
            Action::Replay {
                target,
                edited: was_edited,
            }
        }
    };
    // validate before writing (a retry/replay was checked before it was produced)
    let next =
        apply(entry, action, actor, reason, now()).map_err(|e| CliError::Usage(e.to_string()))?;
    store::write_state(cfg, codec, &next).await?;
    Ok(next)
}

fn find<'q>(queue: &'q Queue, id: &str) -> Result<&'q Entry, CliError> {
    queue.get(id).ok_or_else(|| {
        CliError::Usage(format!(
            "no exception {id:?} on the queue (see `leadflow exceptions list --all`)"
        ))
    })
}

/// Re-produces the original bytes, or `corrected`, to the source topic; returns where it landed.
async fn resend(
    cfg: &CliConfig,
    entry: &Entry,
    corrected: Option<Vec<u8>>,
) -> Result<leadflow_events::ReplayTarget, CliError> {
    if entry.first.original.is_empty() && corrected.is_none() {
        return Err(CliError::Usage(format!(
            "exception {} carries no original bytes; replay it with a corrected record",
            entry.id()
        )));
    }
    let payload = corrected.unwrap_or_else(|| entry.first.original.clone());
    store::resend(cfg, &entry.first, entry.id(), &payload).await
}

/// The original record as JSON, or why it cannot be shown.
pub async fn decode_original(
    cfg: &CliConfig,
    codec: &Codec,
    entry: &Entry,
) -> Result<serde_json::Value, String> {
    let kind = kind_for_topic(&cfg.topics, &entry.first.source_topic, None);
    if entry.first.original.is_empty() {
        return Err("the stage kept no original bytes".into());
    }
    codec
        .decode_value(&entry.first.original, kind)
        .await
        .map(|v| leadflow_events::json::avro_to_json(&v))
        .map_err(|e| e.to_string())
}

fn read_edit(path: &PathBuf) -> Result<String, CliError> {
    if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| CliError::io("cannot read the corrected record from stdin", e))?;
        Ok(s)
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| CliError::io(format!("cannot read {}", path.display()), e))
    }
}
