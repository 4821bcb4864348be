//! [`AnyEvent`]: any event of the contract, for code that handles topics generically (the runtime's
//! outputs and side inputs, the CLI's `produce`/`tail`, tools replaying a topic).

use serde_json::Value as Json;

use crate::codec::{Codec, DecodeError, EncodeError};
use crate::event::{Event, EventKind, with_event_kinds};
use crate::json::event_to_json;
use crate::model::*;

/// A deletion on a compacted topic: the key whose latest record has no value, and the kind the
/// topic carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tombstone {
    pub kind: EventKind,
    pub key: String,
}

macro_rules! any_event {
    ($($kind:ident => $file:literal),* $(,)?) => {
        /// Any event of the contract, for tools that handle topics generically.
        // Variants nest each other (a packet holds a decision holds a score...), so their sizes are
        // close to each other; boxing them would only add allocations.
        #[allow(clippy::large_enum_variant)]
        #[derive(Clone, Debug, PartialEq)]
        pub enum AnyEvent {
            $($kind($kind),)*
            /// A record without a value on a compacted topic (a deletion of its key): what side
            /// inputs hand the stage so it can forget the key (e.g. a rep removed from `reps`).
            /// Never produced by a decode; it has no payload to encode.
            Tombstone(Tombstone),
        }

        impl AnyEvent {
            /// Parses one JSON object as an event of `kind`.
            pub fn from_json(kind: EventKind, text: &str) -> Result<AnyEvent, serde_json::Error> {
                Ok(match kind {
                    $(EventKind::$kind => AnyEvent::$kind(serde_json::from_str(text)?),)*
                })
            }

            /// Decodes a payload (either framing) as an event of `kind`.
            pub async fn decode(
                codec: &Codec,
                kind: EventKind,
                bytes: &[u8],
            ) -> Result<AnyEvent, DecodeError> {
                Ok(match kind {
                    $(EventKind::$kind => AnyEvent::$kind(codec.decode::<$kind>(bytes).await?),)*
                })
            }

            /// The lead id, when the event is about one lead.
            pub fn lead_id(&self) -> Option<&str> {
                match self {
                    $(AnyEvent::$kind(e) => Event::lead_id(e),)*
                    AnyEvent::Tombstone(_) => None,
                }
            }

            /// Which schema the event uses.
            pub fn kind(&self) -> EventKind {
                match self {
                    $(AnyEvent::$kind(_) => EventKind::$kind,)*
                    AnyEvent::Tombstone(t) => t.kind,
                }
            }

            /// The Kafka key.
            pub fn key(&self) -> &str {
                match self {
                    $(AnyEvent::$kind(e) => e.key(),)*
                    AnyEvent::Tombstone(t) => &t.key,
                }
            }

            /// Encodes for `topic`.
            pub async fn encode(&self, codec: &Codec, topic: &str) -> Result<Vec<u8>, EncodeError> {
                match self {
                    $(AnyEvent::$kind(e) => codec.encode(topic, e).await,)*
                    AnyEvent::Tombstone(t) => Err(EncodeError::Schema(format!(
                        "a tombstone for key {} has no value to encode",
                        t.key
                    ))),
                }
            }

            /// The JSON `tail` prints for it.
            pub fn to_json(&self) -> Result<Json, EncodeError> {
                match self {
                    $(AnyEvent::$kind(e) => event_to_json(e),)*
                    AnyEvent::Tombstone(t) => Ok(serde_json::json!({"tombstone": t.key})),
                }
            }
        }

        impl AnyEvent {
            /// The events one record stands for: the entries of a batch (`DedupKeyBatch`: one
            /// `DedupKey` per lead, joined by the runtime's send gate), else the event itself.
            pub fn into_entries(self) -> Vec<AnyEvent> {
                match self {
                    AnyEvent::DedupKeyBatch(batch) => {
                        batch.keys.into_iter().map(AnyEvent::DedupKey).collect()
                    }
                    other => vec![other],
                }
            }
        }

        $(impl From<$kind> for AnyEvent {
            fn from(e: $kind) -> Self {
                AnyEvent::$kind(e)
            }
        })*
    };
}

with_event_kinds!(any_event);
