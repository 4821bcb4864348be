//! Wire codecs: Confluent framing through a schema registry, or Avro single-object encoding.
//!
//! Encoding uses the registry when one is configured, single-object encoding otherwise. Decoding accepts
//! both framings whatever the configuration, resolves the writer schema to the reader's current schema
//! (so events written with an older schema decode into today's types), and reports every malformed
//! payload as a typed [`DecodeError`] — never a panic.

/// The pattern of the Avro types written as a zig-zag varint that fits 32 bits: `int` and its
/// logical types.
macro_rules! avro_int_schema {
    () => {
        Schema::Int | Schema::Date | Schema::TimeMillis
    };
}

/// The pattern of the Avro types written as a zig-zag varint of 64 bits: `long` and its logical
/// types.
macro_rules! avro_long_schema {
    () => {
        Schema::Long
            | Schema::TimeMicros
            | Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos
    };
}

mod array_join;
mod bounds;
mod direct;
mod direct_encode;
mod error;
mod registry;

use std::collections::{HashMap, HashSet};
use std::io::Cursor;
use std::sync::{Arc, Mutex, RwLock};

use apache_avro::headers::HeaderBuilder;
use apache_avro::types::Value;
use apache_avro::{GenericSingleObjectReader, GenericSingleObjectWriter, Schema};

pub use array_join::join_array_records;
pub use bounds::{BoundsError, MAX_DEPTH, MAX_PAYLOAD_BYTES, MAX_ZERO_SIZE_ITEMS};
pub use error::{DecodeError, EncodeError};
pub use registry::{RegistryClient, RegistryConfig, RegistryError};

use crate::event::{Event, EventKind};
use crate::schema::{SchemaError, SchemaSet};

/// First bytes of Avro single-object encoding.
pub const SINGLE_OBJECT_MAGIC: [u8; 2] = [0xC3, 0x01];
/// First byte of Confluent framing.
pub const CONFLUENT_MAGIC: u8 = 0;
/// Magic + 8-byte fingerprint.
const SINGLE_OBJECT_HEADER_LEN: usize = 10;
/// Magic + 4-byte schema id.
const CONFLUENT_HEADER_LEN: usize = 5;

/// Encodes and decodes leadflow events. Cheap to share behind an `Arc`.
///
/// Parsed schemas are resolved once and cached (apache-avro otherwise rebuilds its name table on
/// every call, which was most of the cost): one writer per event kind, one reader per frame header
/// seen. A payload written with the current schema skips reader/writer resolution altogether.
pub struct Codec {
    schemas: &'static SchemaSet,
    registry: Option<RegistryClient>,
    /// (subject, kind) → registered schema id.
    registered: RwLock<HashMap<(String, EventKind), u32>>,
    /// Registry schema id → parsed writer schema.
    by_id: RwLock<HashMap<u32, Arc<Schema>>>,
    /// One resolved single-object writer per kind.
    writers: HashMap<EventKind, Mutex<GenericSingleObjectWriter>>,
    /// Per kind, the schema with its named-type references inlined: `encode` serializes events
    /// straight to Avro bytes with it (serde → schema-aware writer), without the intermediate `Value`
    /// tree, its validation walk and the writer lock, which cost more per record than anything else
    /// a stage did. Kinds whose schema cannot be inlined (recursive types) are absent.
    direct: HashMap<EventKind, Schema>,
    /// Kinds whose inlined schema (`direct`) the direct decoder reads (`direct.rs`): a payload written
    /// with the current schema decodes straight from its bytes into the event.
    direct_read: HashSet<EventKind>,
    /// Frame header (single-object or Confluent) → resolved reader of that writer schema.
    readers: RwLock<HashMap<Vec<u8>, Arc<FrameReader>>>,
}

/// A resolved reader for one writer schema, that schema's fingerprint, and its shape for the
/// allocation-free bounds check run before every decode (`bounds.rs`).
struct FrameReader {
    reader: GenericSingleObjectReader,
    fingerprint: [u8; 8],
    header_len: usize,
    shape: bounds::BodyShape,
}

/// `schema` with every reference to a named type replaced by the type's definition (the direct
/// serializer resolves no references); `None` for recursive types.
fn inlined(schema: &Schema) -> Option<Schema> {
    let resolved = apache_avro::schema::ResolvedSchema::try_from(schema).ok()?;
    let names: HashMap<String, Schema> = resolved
        .get_names()
        .iter()
        .map(|(name, s)| (name.fullname(None), (*s).clone()))
        .collect();
    inline_refs(schema.clone(), &names, 0)
}

fn inline_refs(schema: Schema, names: &HashMap<String, Schema>, depth: usize) -> Option<Schema> {
    // deeper than any event schema nests: a recursive type
    if depth > 32 {
        return None;
    }
    Some(match schema {
        Schema::Ref { name } => {
            let definition = names.get(&name.fullname(None))?.clone();
            inline_refs(definition, names, depth + 1)?
        }
        Schema::Record(mut r) => {
            for f in &mut r.fields {
                f.schema = inline_refs(f.schema.clone(), names, depth + 1)?;
            }
            Schema::Record(r)
        }
        Schema::Array(mut a) => {
            a.items = Box::new(inline_refs(*a.items, names, depth + 1)?);
            Schema::Array(a)
        }
        Schema::Map(mut m) => {
            m.types = Box::new(inline_refs(*m.types, names, depth + 1)?);
            Schema::Map(m)
        }
        Schema::Union(u) => {
            let variants = u
                .variants()
                .iter()
                .map(|v| inline_refs(v.clone(), names, depth + 1))
                .collect::<Option<Vec<_>>>()?;
            Schema::Union(apache_avro::schema::UnionSchema::new(variants).ok()?)
        }
        other => other,
    })
}

/// A header builder that yields a fixed header (the frame header a reader expects).
struct FixedHeader(Vec<u8>);

impl HeaderBuilder for FixedHeader {
    fn build_header(&self) -> Vec<u8> {
        self.0.clone()
    }
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
        // apache-avro's own cap on one allocation while decoding (process-wide, first setting wins;
        // default 512 MiB): nothing decoded may be larger than a payload we accept. The bounds check
        // in `decode_value` is the real guard; this is the second line.
        apache_avro::util::max_allocation_bytes(MAX_PAYLOAD_BYTES);
        let schemas = SchemaSet::embedded().map_err(SchemaError::Embedded)?;
        let mut writers = HashMap::new();
        for kind in EventKind::ALL {
            let entry = schemas.current(kind);
            let writer = GenericSingleObjectWriter::new_with_capacity(&entry.schema, 1024)
                .map_err(|e| SchemaError::Avro {
                    kind,
                    source: Box::new(e),
                })?;
            writers.insert(kind, Mutex::new(writer));
        }
        let direct: HashMap<EventKind, Schema> = EventKind::ALL
            .into_iter()
            .filter_map(|k| inlined(&schemas.current(k).schema).map(|s| (k, s)))
            .collect();
        let direct_read = direct
            .iter()
            .filter(|(_, s)| direct::supported(s))
            .map(|(k, _)| *k)
            .collect();
        Ok(Self {
            schemas,
            registry,
            registered: RwLock::default(),
            by_id: RwLock::default(),
            writers,
            direct,
            direct_read,
            readers: RwLock::default(),
        })
    }

    /// The embedded schema set.
    pub fn schemas(&self) -> &'static SchemaSet {
        self.schemas
    }

    /// Whether `encode` serializes events of `kind` straight to bytes (no named-type references in
    /// its schema) rather than through an Avro `Value`.
    pub fn encodes_directly(&self, kind: EventKind) -> bool {
        self.direct.contains_key(&kind)
    }

    /// Whether encodings of `kind` join into one record with [`join_array_records`] (a record whose
    /// only field is an array, like `DedupKeyBatch`).
    pub fn joins(&self, kind: EventKind) -> bool {
        array_join::is_array_record(&self.schemas.current(kind).schema)
    }

    /// Whether encoding goes through a registry.
    pub fn uses_registry(&self) -> bool {
        self.registry.is_some()
    }

    /// Encodes an event for `topic` (the topic names the registry subject `<topic>-value`).
    pub async fn encode<E: Event>(&self, topic: &str, event: &E) -> Result<Vec<u8>, EncodeError> {
        let Some(schema) = self.direct.get(&E::KIND) else {
            let value = apache_avro::to_value(event).map_err(|e| EncodeError::Avro(Box::new(e)))?;
            return self.encode_value(topic, E::KIND, value).await;
        };
        let entry = self.schemas.current(E::KIND);
        let mut framed = Vec::with_capacity(1024);
        framed.extend_from_slice(&SINGLE_OBJECT_MAGIC);
        framed.extend_from_slice(&entry.fingerprint);
        let header = framed.len();
        if direct_encode::encode(schema, event, &mut framed).is_err() {
            // not the shape the fast path expects: apache-avro encodes it (`direct_encode.rs`)
            framed.truncate(header);
            apache_avro::write_avro_datum_ref(schema, event, &mut framed)
                .map_err(|e| EncodeError::Avro(Box::new(e)))?;
        }
        self.frame(topic, E::KIND, framed).await
    }

    /// Encodes an Avro value of `kind` (as `apache_avro::to_value` or a resolution made it).
    pub async fn encode_value(
        &self,
        topic: &str,
        kind: EventKind,
        value: Value,
    ) -> Result<Vec<u8>, EncodeError> {
        // single-object frame: C3 01 + fingerprint + body, from the kind's resolved writer
        let mut framed = Vec::with_capacity(512);
        match self.writers.get(&kind) {
            Some(writer) => lock(writer)
                .write_value_ref(&value, &mut framed)
                .map_err(|e| EncodeError::Avro(Box::new(e)))?,
            None => return Err(EncodeError::Schema(format!("no writer for {kind}"))),
        };
        self.frame(topic, kind, framed).await
    }

    /// A single-object frame as is, or re-framed for the registry (magic 0 + schema id + body).
    async fn frame(
        &self,
        topic: &str,
        kind: EventKind,
        framed: Vec<u8>,
    ) -> Result<Vec<u8>, EncodeError> {
        match &self.registry {
            None => Ok(framed),
            Some(registry) => {
                let id = self.registered_id(registry, topic, kind).await?;
                let body = framed.get(SINGLE_OBJECT_HEADER_LEN..).unwrap_or_default();
                let mut out = Vec::with_capacity(CONFLUENT_HEADER_LEN + body.len());
                out.push(CONFLUENT_MAGIC);
                out.extend_from_slice(&id.to_be_bytes());
                out.extend_from_slice(body);
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
    ///
    /// A payload written with `E`'s current schema (the common case) is read straight from its
    /// bytes into `E` (`direct.rs`); older writer schemas go through apache-avro's `Value` tree and
    /// its schema resolution.
    pub async fn decode<E: Event>(&self, bytes: &[u8]) -> Result<E, DecodeError> {
        if bytes.len() > MAX_PAYLOAD_BYTES {
            return Err(DecodeError::TooLarge {
                len: bytes.len(),
                max: MAX_PAYLOAD_BYTES,
            });
        }
        let frame = self.frame_reader(bytes).await?;
        if frame.fingerprint == self.schemas.current(E::KIND).fingerprint
            && self.direct_read.contains(&E::KIND)
        {
            if let Some(schema) = self.direct.get(&E::KIND) {
                let body = bytes.get(frame.header_len..).unwrap_or_default();
                let used = frame.shape.check(body).map_err(DecodeError::Bounds)?;
                if used < body.len() {
                    return Err(DecodeError::TrailingBytes(body.len() - used));
                }
                return direct::decode::<E>(schema, body).map_err(|e| e.into_decode_error(E::KIND));
            }
        }
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
        if bytes.len() > MAX_PAYLOAD_BYTES {
            return Err(DecodeError::TooLarge {
                len: bytes.len(),
                max: MAX_PAYLOAD_BYTES,
            });
        }
        let frame = self.frame_reader(bytes).await?;
        let body = bytes.get(frame.header_len..).unwrap_or_default();
        let used = frame.shape.check(body).map_err(DecodeError::Bounds)?;
        if used < body.len() {
            return Err(DecodeError::TrailingBytes(body.len() - used));
        }
        let mut cursor = Cursor::new(bytes);
        let value = frame
            .reader
            .read_value(&mut cursor)
            .map_err(|e| DecodeError::Body(Box::new(e)))?;
        let consumed = usize::try_from(cursor.position()).unwrap_or(usize::MAX);
        if consumed < bytes.len() {
            return Err(DecodeError::TrailingBytes(bytes.len() - consumed));
        }
        match reader.map(|k| self.schemas.current(k)) {
            // written with the current schema: nothing to resolve
            Some(entry) if entry.fingerprint != frame.fingerprint => value
                .resolve(&entry.schema)
                .map_err(|e| DecodeError::Body(Box::new(e))),
            _ => Ok(value),
        }
    }

    /// The cached resolved reader for the payload's frame header, built on first sight.
    async fn frame_reader(&self, bytes: &[u8]) -> Result<Arc<FrameReader>, DecodeError> {
        let header_len = match bytes.first() {
            Some(0xC3) => SINGLE_OBJECT_HEADER_LEN,
            Some(&CONFLUENT_MAGIC) => CONFLUENT_HEADER_LEN,
            _ => 0,
        };
        if let Some(header) = bytes.get(..header_len).filter(|h| !h.is_empty()) {
            if let Some(found) = read(&self.readers).get(header) {
                return Ok(found.clone());
            }
        }
        let (writer, body) = self.writer_schema(bytes).await?;
        let header = bytes[..bytes.len() - body.len()].to_vec();
        let fingerprint = crate::schema::fingerprint_of(&writer);
        let shape = bounds::BodyShape::new(
            inlined(&writer).unwrap_or_else(|| (*writer).clone()),
            bounds::named_types(&writer),
        );
        let header_len = header.len();
        let reader = GenericSingleObjectReader::new_with_header_builder(
            (*writer).clone(),
            FixedHeader(header.clone()),
        )
        .map_err(|e| DecodeError::Body(Box::new(e)))?;
        let frame = Arc::new(FrameReader {
            reader,
            fingerprint,
            header_len,
            shape,
        });
        write(&self.readers).insert(header, frame.clone());
        Ok(frame)
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

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
