//! Typed codec errors. Decode errors say whether retrying can help.

use crate::event::EventKind;

/// A payload could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("empty payload")]
    Empty,
    #[error("truncated {framing} frame: header needs {needed} bytes, payload has {got}")]
    Truncated {
        framing: &'static str,
        needed: usize,
        got: usize,
    },
    #[error(
        "unknown framing: first byte 0x{0:02x} is neither Confluent (0x00) nor single-object (0xC3 0x01)"
    )]
    UnknownFraming(u8),
    #[error("unknown writer schema fingerprint 0x{0:016x}: not a schema of this contract")]
    UnknownFingerprint(u64),
    #[error("schema id {0} is not in the schema registry")]
    UnknownSchemaId(u32),
    #[error("payload uses registry schema id {0} but no schema registry is configured")]
    NoRegistry(u32),
    #[error("registry schema {id} is not valid Avro: {source}")]
    BadWriterSchema {
        id: u32,
        #[source]
        source: Box<apache_avro::Error>,
    },
    #[error("schema registry unavailable: {0}")]
    Registry(#[source] Box<super::RegistryError>),
    #[error("Avro body is malformed or truncated: {0}")]
    Body(#[source] Box<apache_avro::Error>),
    #[error("Avro body is malformed or truncated: {0}")]
    Bounds(#[source] super::BoundsError),
    #[error("payload of {len} bytes exceeds the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    #[error("{0} bytes left over after the Avro body")]
    TrailingBytes(usize),
    #[error("payload does not fit {kind}: {source}")]
    Shape {
        kind: EventKind,
        #[source]
        source: Box<apache_avro::Error>,
    },
}

impl DecodeError {
    /// A registry outage is worth retrying; everything else is poison (the bytes will never decode).
    pub fn is_retryable(&self) -> bool {
        matches!(self, DecodeError::Registry(e) if e.is_retryable())
    }
}

/// An event could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("event does not fit its schema: {0}")]
    Avro(#[source] Box<apache_avro::Error>),
    #[error("schema registry: {0}")]
    Registry(#[source] Box<super::RegistryError>),
    #[error("schemas unavailable: {0}")]
    Schema(String),
}

impl EncodeError {
    /// Registry outages are retryable; a value that does not fit its schema is a bug in the stage.
    pub fn is_retryable(&self) -> bool {
        matches!(self, EncodeError::Registry(e) if e.is_retryable())
    }
}
