//! `schemas/exception_record.avsc`: the visible exception queue on `leads.exceptions`.

use serde::{Deserialize, Serialize};

use crate::event::{Event, EventKind};
use crate::time::Timestamp;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExceptionRecord {
    pub exception_id: String,
    pub stage: String,
    pub source_topic: String,
    pub source_partition: i32,
    pub source_offset: i64,
    #[serde(default)]
    pub source_key: Option<String>,
    #[serde(default)]
    pub error_kind: ErrorKind,
    pub reason: String,
    pub owner: String,
    #[serde(default)]
    pub lead_id: Option<String>,
    pub raised_at: Timestamp,
    pub due_at: Timestamp,
    #[serde(with = "serde_bytes")]
    pub original: Vec<u8>,
}

impl Event for ExceptionRecord {
    const KIND: EventKind = EventKind::ExceptionRecord;
    fn key(&self) -> &str {
        self.lead_id.as_deref().unwrap_or(&self.exception_id)
    }
    fn lead_id(&self) -> Option<&str> {
        self.lead_id.as_deref()
    }
}

/// Class of an input failure (the exception path: README.md, Operations, Exceptions).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorKind {
    Decode,
    Validation,
    MissingField,
    Duplicate,
    Stale,
    #[default]
    Processing,
    Delivery,
}

impl ErrorKind {
    /// Lower-case label for metrics, e.g. `decode`.
    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::Decode => "decode",
            ErrorKind::Validation => "validation",
            ErrorKind::MissingField => "missing_field",
            ErrorKind::Duplicate => "duplicate",
            ErrorKind::Stale => "stale",
            ErrorKind::Processing => "processing",
            ErrorKind::Delivery => "delivery",
        }
    }
}
