//! The CLI's error type and its exit codes: 2 for bad input or configuration, 1 for the broker or I/O.

use std::io;

use leadflow_events::codec::CodecInitError;
use leadflow_runtime::config::ConfigError;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot set up the event codec: {0}")]
    Codec(#[from] CodecInitError),
    /// A command-line value that cannot work (wrong kind for a topic, zero partitions, ...).
    #[error("{0}")]
    Usage(String),
    /// A JSON line that is not an event of the expected kind; `line` counts from 1, blank lines included.
    #[error("line {line}: {message}")]
    BadLine { line: u64, message: String },
    /// The broker refused or could not be reached.
    #[error("{0}")]
    Broker(String),
    /// A bug: something the program built is not valid (e.g. a generated event its schema rejects).
    #[error("internal error: {0}")]
    Internal(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

impl CliError {
    /// The process exit code: 2 for input the user must fix, 1 for broker and I/O failures.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Config(_)
            | CliError::Codec(_)
            | CliError::Usage(_)
            | CliError::BadLine { .. } => 2,
            CliError::Broker(_) | CliError::Internal(_) | CliError::Io { .. } => 1,
        }
    }

    /// An I/O failure with what was being done.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        CliError::Io {
            context: context.into(),
            source,
        }
    }

    /// Line `line` (from 1) of an input could not be read.
    pub(crate) fn unreadable_line(line: u64, e: &io::Error) -> Self {
        CliError::BadLine {
            line,
            message: format!("cannot read the line: {e}"),
        }
    }

    /// A broker failure with what was being done.
    pub fn broker(context: &str, e: impl std::fmt::Display) -> Self {
        CliError::Broker(format!("{context}: {e}"))
    }
}

/// A range read's failure: a partition the topic does not have is the user's to fix.
impl From<leadflow_runtime::topic_range::RangeError> for CliError {
    fn from(e: leadflow_runtime::topic_range::RangeError) -> Self {
        match e {
            e @ leadflow_runtime::topic_range::RangeError::NoSuchPartition { .. } => {
                CliError::Usage(e.to_string())
            }
            e => CliError::Broker(e.to_string()),
        }
    }
}

pub use leadflow_events::json::describe_json_error;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_name_the_field_and_column_once() {
        let e = serde_json::from_str::<leadflow_events::LeadEvent>(r#"{"event_id":"e"}"#)
            .expect_err("lead_id is missing");
        let text = describe_json_error(&e);
        assert!(text.contains("missing field `lead_id`"), "{text}");
        assert!(text.starts_with("column "), "{text}");
        assert!(!text.contains("line"), "{text}");
    }

    #[test]
    fn exit_codes() {
        assert_eq!(
            CliError::BadLine {
                line: 3,
                message: "x".into()
            }
            .exit_code(),
            2
        );
        assert_eq!(CliError::Broker("down".into()).exit_code(), 1);
        assert_eq!(CliError::Usage("no".into()).exit_code(), 2);
    }
}
