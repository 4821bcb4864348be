//! `schemas/exception_state.avsc`: the exception queue's state and audit trail on the compacted
//! `exceptions.state` topic, one record per operator action, keyed by exception id.

use serde::{Deserialize, Serialize};

use crate::event::impl_event;
use crate::time::Timestamp;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExceptionState {
    pub exception_id: String,
    #[serde(default)]
    pub status: ExceptionStatus,
    pub owner: String,
    pub due_at: Timestamp,
    #[serde(default)]
    pub escalation_level: i32,
    pub updated_at: Timestamp,
    #[serde(default)]
    pub replay_targets: Vec<ReplayTarget>,
    #[serde(default)]
    pub history: Vec<ExceptionAction>,
}

impl_event!(ExceptionState, key = exception_id);

/// Where an entry stands after its latest action.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExceptionStatus {
    #[default]
    Open,
    Assigned,
    Escalated,
    Retried,
    Replayed,
    Closed,
}

impl ExceptionStatus {
    /// Lower-case label, e.g. `open`.
    pub fn label(self) -> &'static str {
        match self {
            ExceptionStatus::Open => "open",
            ExceptionStatus::Assigned => "assigned",
            ExceptionStatus::Escalated => "escalated",
            ExceptionStatus::Retried => "retried",
            ExceptionStatus::Replayed => "replayed",
            ExceptionStatus::Closed => "closed",
        }
    }
}

/// The topic, partition and offset a retried or replayed record landed at.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReplayTarget {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// One decision on an exception.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExceptionAction {
    #[serde(default)]
    pub action: ExceptionActionKind,
    pub actor: String,
    #[serde(default)]
    pub reason: Option<String>,
    pub at: Timestamp,
    pub owner: String,
    pub due_at: Timestamp,
    #[serde(default)]
    pub target: Option<ReplayTarget>,
    #[serde(default)]
    pub edited: bool,
}

/// What was decided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExceptionActionKind {
    #[default]
    Opened,
    Assigned,
    Escalated,
    Retried,
    Replayed,
    Closed,
    Reopened,
}

impl ExceptionActionKind {
    /// Lower-case label, e.g. `replayed`.
    pub fn label(self) -> &'static str {
        match self {
            ExceptionActionKind::Opened => "opened",
            ExceptionActionKind::Assigned => "assigned",
            ExceptionActionKind::Escalated => "escalated",
            ExceptionActionKind::Retried => "retried",
            ExceptionActionKind::Replayed => "replayed",
            ExceptionActionKind::Closed => "closed",
            ExceptionActionKind::Reopened => "reopened",
        }
    }
}
