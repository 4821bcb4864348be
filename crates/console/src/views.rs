//! What the templates show, built from the queue, a trace and the SLA deadlines (pure).

use std::collections::BTreeMap;

use leadflow_events::Timestamp;
use leadflow_sla_watchdog::{DeadlineState, DeadlineView};
use serde::Serialize;

use super::url_encode;
use leadflow_cli::exceptions::queue::Entry;
use leadflow_cli::exceptions::render::due_in;

#[derive(Debug, Serialize)]
pub struct EntryView {
    pub exception_id: String,
    pub href: String,
    pub status: &'static str,
    pub stage: String,
    pub kind: &'static str,
    pub owner: String,
    pub due: String,
    pub due_at: String,
    pub overdue: bool,
    pub escalation_level: i32,
    pub lead_id: Option<String>,
    pub trace_href: String,
    pub reason: String,
    pub failures: u32,
}

pub fn entry(e: &Entry, now: Timestamp) -> EntryView {
    let lead = e.first.lead_id.clone();
    EntryView {
        exception_id: e.id().to_owned(),
        href: format!("/exception?id={}", url_encode(e.id())),
        status: e.state.status.label(),
        stage: e.first.stage.clone(),
        kind: e.latest.error_kind.label(),
        owner: e.state.owner.clone(),
        due: due_in(e.state.due_at, now),
        due_at: e.state.due_at.to_string(),
        overdue: e.is_overdue(now),
        escalation_level: e.state.escalation_level,
        trace_href: format!("/trace?lead={}", url_encode(lead.as_deref().unwrap_or(""))),
        lead_id: lead,
        reason: e.latest.reason.clone(),
        failures: e.failures,
    }
}

#[derive(Debug, Serialize)]
pub struct HistoryView {
    pub at: String,
    pub action: &'static str,
    pub actor: String,
    pub owner: String,
    pub due_at: String,
    pub reason: Option<String>,
    pub target: Option<String>,
    pub edited: bool,
}

pub fn history(e: &Entry) -> Vec<HistoryView> {
    e.state
        .history
        .iter()
        .map(|a| HistoryView {
            at: a.at.to_string(),
            action: a.action.label(),
            actor: a.actor.clone(),
            owner: a.owner.clone(),
            due_at: a.due_at.to_string(),
            reason: a.reason.clone(),
            target: a
                .target
                .as_ref()
                .map(|t| format!("{}:{}:{}", t.topic, t.partition, t.offset)),
            edited: a.edited,
        })
        .collect()
}

#[derive(Debug, Serialize)]
pub struct ActionView {
    pub name: &'static str,
    pub label: &'static str,
}

/// The actions the entry's status allows.
pub fn actions(e: &Entry) -> Vec<ActionView> {
    let all = [
        ("close", "Close"),
        ("assign", "Assign"),
        ("escalate", "Escalate"),
        ("retry", "Retry"),
        ("replay", "Replay"),
    ];
    if e.is_open() {
        all.into_iter()
            .map(|(name, label)| ActionView { name, label })
            .collect()
    } else {
        vec![ActionView {
            name: "reopen",
            label: "Reopen",
        }]
    }
}

#[derive(Debug, Default, Serialize)]
pub struct TierRow {
    pub tier: String,
    pub waiting: u64,
    pub overdue: u64,
    pub met: u64,
    pub breached: u64,
    pub escalated: u64,
    pub met_pct: String,
}

#[derive(Debug, Serialize)]
pub struct OpenDeadline {
    pub tier: String,
    pub lead_id: String,
    pub trace_href: String,
    pub owner: String,
    pub kind: String,
    pub due: String,
    pub due_at_ms: i64,
    pub overdue: bool,
}

/// Per-tier counts and the open deadlines, soonest first (at most `limit`).
pub fn tiers(
    views: &[DeadlineView],
    now: Timestamp,
    limit: usize,
) -> (Vec<TierRow>, Vec<OpenDeadline>) {
    let mut rows: BTreeMap<String, TierRow> = BTreeMap::new();
    let mut open = Vec::new();
    for v in views {
        let row = rows.entry(v.tier.clone()).or_insert_with(|| TierRow {
            tier: v.tier.clone(),
            ..TierRow::default()
        });
        match v.deadline.state {
            // met, or escalated and then reconciled by a contact stamped in time
            DeadlineState::Met { .. } => {
                row.met += 1;
                if v.escalation_level.is_some() {
                    row.escalated += 1;
                }
            }
            DeadlineState::ClosedLate { .. } | DeadlineState::Missed | DeadlineState::Expired => {
                row.breached += 1
            }
            DeadlineState::Escalated { .. } => {
                row.breached += 1;
                row.escalated += 1;
            }
            DeadlineState::Open => {
                let overdue = v.deadline.due_at < now;
                if overdue {
                    row.overdue += 1;
                    row.breached += 1;
                } else {
                    row.waiting += 1;
                }
                open.push(OpenDeadline {
                    tier: v.tier.clone(),
                    lead_id: v.lead_id.clone(),
                    trace_href: format!("/trace?lead={}", url_encode(&v.lead_id)),
                    owner: v.owner.clone().unwrap_or_else(|| "-".into()),
                    kind: format!("{:?}", v.deadline.kind),
                    due: due_in(v.deadline.due_at, now),
                    due_at_ms: v.deadline.due_at.0,
                    overdue,
                });
            }
            DeadlineState::Superseded => {}
        }
    }
    for row in rows.values_mut() {
        let settled = row.met + row.breached;
        row.met_pct = if settled == 0 {
            "-".into()
        } else {
            format!("{:.1}", row.met as f64 * 100.0 / settled as f64)
        };
    }
    open.sort_by_key(|d| d.due_at_ms);
    open.truncate(limit);
    (rows.into_values().collect(), open)
}
