//! The embedded Avro contract: every `.avsc` under `schemas/`, made self-contained and parsed once.
//!
//! Schema files reference each other by full name (an enriched lead embeds `leadflow.LeadEvent`). A
//! registry and the single-object fingerprint need one self-contained document per event, so each file is
//! *inlined*: the first reference to a named type is replaced by its definition, later ones stay names.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use apache_avro::Schema;
use apache_avro::rabin::Rabin;
use serde_json::{Map, Value};

use crate::event::EventKind;

/// Current schema files, in dependency order.
const FILES: [(EventKind, &str); 16] = [
    (
        EventKind::LeadEvent,
        include_str!("../../../schemas/lead_event.avsc"),
    ),
    (
        EventKind::EnrichedLead,
        include_str!("../../../schemas/enriched_lead.avsc"),
    ),
    (
        EventKind::ScoredLead,
        include_str!("../../../schemas/scored_lead.avsc"),
    ),
    (
        EventKind::TierDecision,
        include_str!("../../../schemas/tier_decision.avsc"),
    ),
    (
        EventKind::HandoffPacket,
        include_str!("../../../schemas/handoff_packet.avsc"),
    ),
    (
        EventKind::DeliveryReceipt,
        include_str!("../../../schemas/delivery_receipt.avsc"),
    ),
    (
        EventKind::RepActivity,
        include_str!("../../../schemas/rep_activity.avsc"),
    ),
    (
        EventKind::SlaEscalation,
        include_str!("../../../schemas/sla_escalation.avsc"),
    ),
    (
        EventKind::LeadOutcome,
        include_str!("../../../schemas/lead_outcome.avsc"),
    ),
    (
        EventKind::ModelParams,
        include_str!("../../../schemas/model_params.avsc"),
    ),
    (
        EventKind::ExceptionRecord,
        include_str!("../../../schemas/exception_record.avsc"),
    ),
    (
        EventKind::RepState,
        include_str!("../../../schemas/rep_state.avsc"),
    ),
    (
        EventKind::ExceptionState,
        include_str!("../../../schemas/exception_state.avsc"),
    ),
    (
        EventKind::DedupKey,
        include_str!("../../../schemas/dedup_key.avsc"),
    ),
    (
        EventKind::DedupKeyBatch,
        include_str!("../../../schemas/dedup_key_batch.avsc"),
    ),
    (
        EventKind::SlaOutcome,
        include_str!("../../../schemas/sla_outcome.avsc"),
    ),
];

/// Earlier versions that producers may still write; readers resolve them to the current schema.
/// A file that embeds other types by name is inlined against the current files, like the current
/// schemas; a self-contained copy (what the registry received at the time) keeps the embedded types'
/// version its writer had.
const HISTORY: [(EventKind, &str); 14] = [
    (
        EventKind::LeadEvent,
        include_str!("../../../schemas/history/lead_event.v1.avsc"),
    ),
    (
        EventKind::LeadEvent,
        include_str!("../../../schemas/history/lead_event.v2.avsc"),
    ),
    (
        EventKind::EnrichedLead,
        include_str!("../../../schemas/history/enriched_lead.v1.avsc"),
    ),
    (
        EventKind::ScoredLead,
        include_str!("../../../schemas/history/scored_lead.v1.avsc"),
    ),
    (
        EventKind::TierDecision,
        include_str!("../../../schemas/history/tier_decision.v1.avsc"),
    ),
    (
        EventKind::HandoffPacket,
        include_str!("../../../schemas/history/handoff_packet.v2.avsc"),
    ),
    (
        EventKind::HandoffPacket,
        include_str!("../../../schemas/history/handoff_packet.v3.avsc"),
    ),
    (
        EventKind::HandoffPacket,
        include_str!("../../../schemas/history/handoff_packet.v4.avsc"),
    ),
    (
        EventKind::DeliveryReceipt,
        include_str!("../../../schemas/history/delivery_receipt.v1.avsc"),
    ),
    (
        EventKind::DeliveryReceipt,
        include_str!("../../../schemas/history/delivery_receipt.v2.avsc"),
    ),
    (
        EventKind::RepActivity,
        include_str!("../../../schemas/history/rep_activity.v1.avsc"),
    ),
    (
        EventKind::SlaEscalation,
        include_str!("../../../schemas/history/sla_escalation.v1.avsc"),
    ),
    (
        EventKind::LeadOutcome,
        include_str!("../../../schemas/history/lead_outcome.v1.avsc"),
    ),
    (
        EventKind::ModelParams,
        include_str!("../../../schemas/history/model_params.v1.avsc"),
    ),
];

/// A schema could not be loaded; this is a build defect, reported at start-up.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("schema file for {kind} is not valid JSON: {source}")]
    Json {
        kind: EventKind,
        #[source]
        source: serde_json::Error,
    },
    #[error("schema for {kind} is not valid Avro: {source}")]
    Avro {
        kind: EventKind,
        #[source]
        source: Box<apache_avro::Error>,
    },
    #[error("schema for {kind} references unknown type {name}")]
    UnknownType { kind: EventKind, name: String },
    /// The embedded schemas failed to load once at start-up; every later use reports that error.
    #[error("the embedded schemas failed to load")]
    Embedded(#[source] &'static SchemaError),
}

/// One parsed, self-contained schema.
#[derive(Debug)]
pub struct SchemaEntry {
    pub kind: EventKind,
    pub schema: Schema,
    /// The self-contained JSON document (what a registry receives).
    pub json: String,
    /// CRC-64-AVRO (Rabin) fingerprint of the parsing canonical form, little-endian.
    pub fingerprint: [u8; 8],
}

/// All current schemas, plus the historical writer schemas by fingerprint.
#[derive(Debug)]
pub struct SchemaSet {
    current: BTreeMap<EventKind, Arc<SchemaEntry>>,
    by_fingerprint: HashMap<[u8; 8], Arc<SchemaEntry>>,
}

impl SchemaSet {
    /// The embedded contract, parsed once per process.
    pub fn embedded() -> Result<&'static SchemaSet, &'static SchemaError> {
        static SET: OnceLock<Result<SchemaSet, SchemaError>> = OnceLock::new();
        SET.get_or_init(SchemaSet::load).as_ref()
    }

    fn load() -> Result<SchemaSet, SchemaError> {
        let mut docs = Vec::new();
        for (kind, text) in FILES {
            let json: Value =
                serde_json::from_str(text).map_err(|source| SchemaError::Json { kind, source })?;
            docs.push((kind, json));
        }
        let mut defs = HashMap::new();
        for (_, doc) in &docs {
            collect_definitions(doc, "leadflow", &mut defs);
        }
        let mut current = BTreeMap::new();
        let mut by_fingerprint = HashMap::new();
        for (kind, doc) in &docs {
            let mut defined = HashSet::new();
            let inlined = inline(doc, "leadflow", &defs, &mut defined)
                .map_err(|name| SchemaError::UnknownType { kind: *kind, name })?;
            let entry = Arc::new(parse_entry(*kind, &inlined)?);
            by_fingerprint.insert(entry.fingerprint, entry.clone());
            current.insert(*kind, entry);
        }
        for (kind, text) in HISTORY {
            let json: Value =
                serde_json::from_str(text).map_err(|source| SchemaError::Json { kind, source })?;
            // inlined like the current ones were when they were current (same canonical form)
            let inlined = inline(&json, "leadflow", &defs, &mut HashSet::new())
                .map_err(|name| SchemaError::UnknownType { kind, name })?;
            let entry = Arc::new(parse_entry(kind, &inlined)?);
            by_fingerprint.insert(entry.fingerprint, entry);
        }
        Ok(SchemaSet {
            current,
            by_fingerprint,
        })
    }

    /// The current (reader) schema of a kind.
    pub fn current(&self, kind: EventKind) -> &Arc<SchemaEntry> {
        // Every kind is loaded by `load`, which fails otherwise; `current` is total over `EventKind`.
        &self.current[&kind]
    }

    /// A known writer schema by its single-object fingerprint.
    pub fn by_fingerprint(&self, fingerprint: &[u8; 8]) -> Option<&Arc<SchemaEntry>> {
        self.by_fingerprint.get(fingerprint)
    }

    /// The historical writer schemas of a kind (for tests and tooling).
    pub fn history(&self, kind: EventKind) -> Vec<Arc<SchemaEntry>> {
        let current = self.current(kind).fingerprint;
        self.by_fingerprint
            .values()
            .filter(|e| e.kind == kind && e.fingerprint != current)
            .cloned()
            .collect()
    }
}

fn parse_entry(kind: EventKind, json: &Value) -> Result<SchemaEntry, SchemaError> {
    let text = json.to_string();
    let schema = Schema::parse_str(&text).map_err(|e| SchemaError::Avro {
        kind,
        source: Box::new(e),
    })?;
    let fingerprint = fingerprint_of(&schema);
    Ok(SchemaEntry {
        kind,
        schema,
        json: text,
        fingerprint,
    })
}

/// CRC-64-AVRO fingerprint of a schema's parsing canonical form, as the 8 little-endian bytes that
/// follow `C3 01` in single-object encoding.
pub fn fingerprint_of(schema: &Schema) -> [u8; 8] {
    let fp = schema.fingerprint::<Rabin>();
    let mut out = [0u8; 8];
    for (o, b) in out.iter_mut().zip(fp.bytes.iter()) {
        *o = *b;
    }
    out
}

const PRIMITIVES: [&str; 8] = [
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
];

fn qualify(name: &str, namespace: &str) -> String {
    if name.contains('.') {
        name.to_owned()
    } else {
        format!("{namespace}.{name}")
    }
}

fn namespace_of(obj: &Map<String, Value>, name: &str, enclosing: &str) -> String {
    if let Some((ns, _)) = name.rsplit_once('.') {
        return ns.to_owned();
    }
    obj.get("namespace")
        .and_then(Value::as_str)
        .unwrap_or(enclosing)
        .to_owned()
}

/// Records every named type (record, enum, fixed) defined anywhere in `v` by full name.
fn collect_definitions(v: &Value, namespace: &str, defs: &mut HashMap<String, (Value, String)>) {
    match v {
        Value::Array(items) => items
            .iter()
            .for_each(|i| collect_definitions(i, namespace, defs)),
        Value::Object(obj) => {
            let ty = obj.get("type").and_then(Value::as_str).unwrap_or("");
            let mut ns = namespace.to_owned();
            if matches!(ty, "record" | "error" | "enum" | "fixed") {
                if let Some(name) = obj.get("name").and_then(Value::as_str) {
                    ns = namespace_of(obj, name, namespace);
                    defs.insert(qualify(name, &ns), (v.clone(), ns.clone()));
                }
            }
            if let Some(fields) = obj.get("fields").and_then(Value::as_array) {
                for f in fields {
                    if let Some(t) = f.get("type") {
                        collect_definitions(t, &ns, defs);
                    }
                }
            }
            for key in ["items", "values"] {
                if let Some(t) = obj.get(key) {
                    collect_definitions(t, &ns, defs);
                }
            }
            if let Some(t @ (Value::Object(_) | Value::Array(_))) = obj.get("type") {
                collect_definitions(t, &ns, defs);
            }
        }
        _ => {}
    }
}

/// Replaces the first reference to each named type with its definition; `Err(name)` if unknown.
fn inline(
    v: &Value,
    namespace: &str,
    defs: &HashMap<String, (Value, String)>,
    defined: &mut HashSet<String>,
) -> Result<Value, String> {
    match v {
        Value::String(name) if PRIMITIVES.contains(&name.as_str()) => Ok(v.clone()),
        Value::String(name) => {
            let full = qualify(name, namespace);
            if defined.contains(&full) {
                return Ok(Value::String(full));
            }
            let (def, def_ns) = defs.get(&full).ok_or_else(|| full.clone())?;
            let mut def = def.clone();
            // Give the inlined definition its full name so it keeps its namespace wherever it lands.
            if let Value::Object(obj) = &mut def {
                obj.insert("name".into(), Value::String(full.clone()));
                obj.remove("namespace");
            }
            inline(&def, def_ns, defs, defined)
        }
        Value::Array(items) => items
            .iter()
            .map(|i| inline(i, namespace, defs, defined))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Object(obj) => {
            let mut out = obj.clone();
            let ty = obj.get("type").and_then(Value::as_str).unwrap_or("");
            let mut ns = namespace.to_owned();
            if matches!(ty, "record" | "error" | "enum" | "fixed") {
                if let Some(name) = obj.get("name").and_then(Value::as_str) {
                    ns = namespace_of(obj, name, namespace);
                    defined.insert(qualify(name, &ns));
                }
            }
            if let Some(fields) = obj.get("fields").and_then(Value::as_array) {
                let mut new_fields = Vec::with_capacity(fields.len());
                for f in fields {
                    let mut f = f.clone();
                    if let Some(t) = f.get("type").cloned() {
                        let t = inline(&t, &ns, defs, defined)?;
                        if let Value::Object(fo) = &mut f {
                            fo.insert("type".into(), t);
                        }
                    }
                    new_fields.push(f);
                }
                out.insert("fields".into(), Value::Array(new_fields));
            }
            for key in ["items", "values"] {
                if let Some(t) = obj.get(key) {
                    out.insert(key.into(), inline(t, &ns, defs, defined)?);
                }
            }
            Ok(Value::Object(out))
        }
        _ => Ok(v.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_parses_self_contained() {
        let set = SchemaSet::embedded().map_err(|e| e.to_string());
        let set = match set {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        for kind in EventKind::ALL {
            let entry = set.current(kind);
            assert_eq!(entry.kind, kind);
            // a self-contained document parses on its own
            assert!(Schema::parse_str(&entry.json).is_ok(), "{kind}");
            assert_eq!(
                set.by_fingerprint(&entry.fingerprint).map(|e| e.kind),
                Some(kind)
            );
        }
        assert_eq!(set.history(EventKind::LeadEvent).len(), 2);
        assert_eq!(set.history(EventKind::HandoffPacket).len(), 3);
        for kind in [
            EventKind::EnrichedLead,
            EventKind::ScoredLead,
            EventKind::TierDecision,
        ] {
            assert_eq!(set.history(kind).len(), 1, "{kind}");
        }
    }

    #[test]
    fn every_field_has_a_doc() {
        fn walk(v: &Value, path: &str, missing: &mut Vec<String>) {
            match v {
                Value::Object(obj) => {
                    if let Some(fields) = obj.get("fields").and_then(Value::as_array) {
                        for f in fields {
                            let name = f.get("name").and_then(Value::as_str).unwrap_or("?");
                            if f.get("doc")
                                .and_then(Value::as_str)
                                .is_none_or(str::is_empty)
                            {
                                missing.push(format!("{path}.{name}"));
                            }
                            if let Some(t) = f.get("type") {
                                walk(t, &format!("{path}.{name}"), missing);
                            }
                        }
                    }
                    for key in ["items", "values"] {
                        if let Some(t) = obj.get(key) {
                            walk(t, path, missing);
                        }
                    }
                }
                Value::Array(items) => items.iter().for_each(|i| walk(i, path, missing)),
                _ => {}
            }
        }
        let mut missing = Vec::new();
        for (kind, text) in FILES {
            let json: Value = serde_json::from_str(text).unwrap_or(Value::Null);
            walk(&json, kind.full_name(), &mut missing);
        }
        assert!(missing.is_empty(), "fields without doc: {missing:?}");
    }

    #[test]
    fn fingerprint_matches_the_avro_spec_vector() {
        // CRC-64-AVRO of the canonical form "null" is 7195948357588979594 (Avro test suite).
        let schema = Schema::parse_str("\"null\"").unwrap_or(Schema::Null);
        assert_eq!(
            i64::from_le_bytes(fingerprint_of(&schema)),
            7_195_948_357_588_979_594
        );
    }
}
