//! Wire codecs: Confluent framing through a schema registry, or Avro single-object encoding.
//!
//! Encoding uses the registry when one is configured, single-object encoding otherwise. Decoding accepts
//! both framings whatever the configuration, resolves the writer schema to the reader's current schema
//! (so events written with an older schema decode into today's types), and reports every malformed
//! payload as a typed [`DecodeError`] — never a panic.

mod error;
mod registry;

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::{Arc, RwLock};

use apache_avro::Schema;
use apache_avro::types::Value;

pub use error::{DecodeError, EncodeError};
pub use registry::{RegistryClient, RegistryConfig, RegistryError};

use crate::event::{Event, EventKind};
use crate::schema::{SchemaError, SchemaSet};

/// First bytes of Avro single-object encoding.
pub const SINGLE_OBJECT_MAGIC: [u8; 2] = [0xC3, 0x01];
/// First byte of Confluent framing.
pub const CONFLUENT_MAGIC: u8 = 0;

/// Encodes and decodes leadflow events. Cheap to share behind an `Arc`.
pub struct Codec {
    schemas: &'static SchemaSet,
    registry: Option<RegistryClient>,
    /// (subject, kind) → registered schema id.
    registered: RwLock<HashMap<(String, EventKind), u32>>,
    /// Registry schema id → parsed writer schema.
    by_id: RwLock<HashMap<u32, Arc<Schema>>>,
}

impl std::fmt::Debug for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Codec")
            .field(
                "registry",
                &self.registry.as_ref().map(RegistryClient::base_url),
            )
            .finish_non_exhaustive()
    }
}

impl Codec {
    /// A codec without a registry: single-object encoding.
    pub fn single_object() -> Result<Self, SchemaError> {
        Self::build(None)
    }

    /// A codec that registers and looks up schemas in a Confluent-compatible registry.
    pub fn with_registry(client: RegistryClient) -> Result<Self, SchemaError> {
        Self::build(Some(client))
    }

    /// Single-object encoding, or the registry when `config` is given.
    pub fn from_config(config: Option<&RegistryConfig>) -> Result<Self, CodecInitError> {
        match config {
            None => Ok(Self::single_object()?),
            Some(c) => Ok(Self::with_registry(RegistryClient::new(c)?)?),
        }
    }

    fn build(registry: Option<RegistryClient>) -> Result<Self, SchemaError> {
        let schemas = SchemaSet::embedded().map_err(clone_schema_error)?;
        Ok(Self {
            schemas,
            registry,
            registered: RwLock::default(),
            by_id: RwLock::default(),
        })
    }

    /// The embedded schema set.
    pub fn schemas(&self) -> &'static SchemaSet {
        self.schemas
    }

    /// Whether encoding goes through a registry.
    pub fn uses_registry(&self) -> bool {
        self.registry.is_some()
    }

    /// Encodes an event for `topic` (the topic names the registry subject `<topic>-value`).
    pub async fn encode<E: Event>(&self, topic: &str, event: &E) -> Result<Vec<u8>, EncodeError> {
        let value = to_resolved_value(event)?;
        self.encode_value(topic, E::KIND, value).await
    }

    /// Encodes an already resolved Avro value of `kind`.
    pub async fn encode_value(
        &self,
        topic: &str,
        kind: EventKind,
        value: Value,
    ) -> Result<Vec<u8>, EncodeError> {
        let entry = self.schemas.current(kind);
        let body = apache_avro::to_avro_datum(&entry.schema, value)
            .map_err(|e| EncodeError::Avro(Box::new(e)))?;
        match &self.registry {
            None => {
                let mut out = Vec::with_capacity(10 + body.len());
                out.extend_from_slice(&SINGLE_OBJECT_MAGIC);
                out.extend_from_slice(&entry.fingerprint);
                out.extend_from_slice(&body);
                Ok(out)
            }
            Some(registry) => {
                let id = self.registered_id(registry, topic, kind).await?;
                let mut out = Vec::with_capacity(5 + body.len());
                out.push(CONFLUENT_MAGIC);
                out.extend_from_slice(&id.to_be_bytes());
                out.extend_from_slice(&body);
                Ok(out)
            }
        }
    }

    async fn registered_id(
        &self,
        registry: &RegistryClient,
        topic: &str,
        kind: EventKind,
    ) -> Result<u32, EncodeError> {
        let key = (topic.to_owned(), kind);
        if let Some(id) = read(&self.registered).get(&key) {
            return Ok(*id);
        }
        let entry = self.schemas.current(kind);
        let id = registry
            .register(&format!("{topic}-value"), &entry.json)
            .await
            .map_err(|e| EncodeError::Registry(Box::new(e)))?;
        write(&self.registered).insert(key, id);
        write(&self.by_id).insert(id, Arc::new(entry.schema.clone()));
        Ok(id)
    }

    /// Decodes a payload of either framing into `E`, resolving the writer schema to `E`'s schema.
    pub async fn decode<E: Event>(&self, bytes: &[u8]) -> Result<E, DecodeError> {
        let value = self.decode_value(bytes, Some(E::KIND)).await?;
        apache_avro::from_value::<E>(&value).map_err(|e| DecodeError::Shape {
            kind: E::KIND,
            source: Box::new(e),
        })
    }

    /// Decodes a payload into an Avro value: resolved to `reader`'s current schema when given, in the
    /// writer's own shape otherwise.
    pub async fn decode_value(
        &self,
        bytes: &[u8],
        reader: Option<EventKind>,
    ) -> Result<Value, DecodeError> {
        let (writer, body) = self.writer_schema(bytes).await?;
        let reader_schema = reader.map(|k| &self.schemas.current(k).schema);
        let mut cursor = Cursor::new(body);
        let value = apache_avro::from_avro_datum(&writer, &mut cursor, reader_schema)
            .map_err(|e| DecodeError::Body(Box::new(e)))?;
        let consumed = usize::try_from(cursor.position()).unwrap_or(usize::MAX);
        if consumed < body.len() {
            return Err(DecodeError::TrailingBytes(body.len() - consumed));
        }
        Ok(value)
    }

    /// Finds the writer schema named by the frame header; returns it with the Avro body.
    async fn writer_schema<'a>(
        &self,
        bytes: &'a [u8],
    ) -> Result<(Arc<Schema>, &'a [u8]), DecodeError> {
        match bytes {
            [] => Err(DecodeError::Empty),
            [0xC3, 0x01, rest @ ..] => {
                let Some((fp, body)) = rest.split_first_chunk::<8>() else {
                    return Err(DecodeError::Truncated {
                        framing: "single-object",
                        needed: 10,
                        got: bytes.len(),
                    });
                };
                let entry = self
                    .schemas
                    .by_fingerprint(fp)
                    .ok_or(DecodeError::UnknownFingerprint(u64::from_le_bytes(*fp)))?;
                Ok((Arc::new(entry.schema.clone()), body))
            }
            [CONFLUENT_MAGIC, rest @ ..] => {
                let Some((id, body)) = rest.split_first_chunk::<4>() else {
                    return Err(DecodeError::Truncated {
                        framing: "confluent",
                        needed: 5,
                        got: bytes.len(),
                    });
                };
                let id = u32::from_be_bytes(*id);
                Ok((self.schema_by_id(id).await?, body))
            }
            [first, ..] => Err(DecodeError::UnknownFraming(*first)),
        }
    }

    async fn schema_by_id(&self, id: u32) -> Result<Arc<Schema>, DecodeError> {
        if let Some(s) = read(&self.by_id).get(&id) {
            return Ok(s.clone());
        }
        let registry = self.registry.as_ref().ok_or(DecodeError::NoRegistry(id))?;
        let text = registry.schema_by_id(id).await.map_err(|e| match e {
            RegistryError::NotFound(_) => DecodeError::UnknownSchemaId(id),
            other => DecodeError::Registry(Box::new(other)),
        })?;
        let schema = Schema::parse_str(&text).map_err(|e| DecodeError::BadWriterSchema {
            id,
            source: Box::new(e),
        })?;
        let schema = Arc::new(schema);
        write(&self.by_id).insert(id, schema.clone());
        Ok(schema)
    }
}

/// A codec could not be built at start-up.
#[derive(Debug, thiserror::Error)]
pub enum CodecInitError {
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// An event as an Avro value resolved against its current schema (logical types applied).
pub fn to_resolved_value<E: Event>(event: &E) -> Result<Value, EncodeError> {
    let schemas = SchemaSet::embedded().map_err(|e| EncodeError::Schema(e.to_string()))?;
    let entry = schemas.current(E::KIND);
    let value = apache_avro::to_value(event).map_err(|e| EncodeError::Avro(Box::new(e)))?;
    value
        .resolve(&entry.schema)
        .map_err(|e| EncodeError::Avro(Box::new(e)))
}

fn clone_schema_error(e: &SchemaError) -> SchemaError {
    SchemaError::UnknownType {
        kind: EventKind::LeadEvent,
        name: format!("embedded schemas failed to load: {e}"),
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
